"""The `switchboard` command line: serve, worker, ingest, migrate, config check and the rest.

One module per command, each with a `register(subparsers)` function (see `COMMANDS`); the
`privacy` subcommands are registered by the modules that do the work (`switchboard.keyring`,
`switchboard.subject_requests`). Shared pieces (the operator's errors, the settings, the
municipality file) are in `switchboard.cli.command`. Heavy imports (the app, SQLAlchemy, RQ,
the simulator) happen inside the handlers: `switchboard --help` stays fast and works even when
a part of the service is broken.

Exit codes: 0 success, 1 invalid configuration or settings (or a failed command), 2 usage
errors and unreadable files, 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from switchboard.cli.command import CommandError, Handler, usage
from switchboard.private_files import private_umask

# The modules whose `register(subparsers)` adds a command, in the order `--help` lists them.
# Imported by name when the parser is built, so this package imports none of them itself.
COMMANDS: tuple[str, ...] = tuple(
    f"switchboard.cli.{name}"
    for name in (
        "serve",
        "worker",
        "ingest",
        "migrate",
        "config",
        "agent",
        "try_call",
        "purge",
        "exporter",
        "simulate",
        "token",
        "user",
        "backup",
        "twilio_check",
        "privacy",
    )
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="switchboard",
        description="Twilio IVR and switchboard service for Norwegian municipalities.",
    )
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for module in COMMANDS:
        importlib.import_module(module).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        return usage(parser)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # Alembic announces each plugin it loads, in every process that imports it.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    # Before anything is written: the database, Redis's files, the spool, the outbox and
    # backups hold callers' data, for the service's user only (switchboard/private_files.py).
    private_umask()
    try:
        return handler(args)
    except CommandError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return exc.code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
