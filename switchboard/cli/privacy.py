"""`switchboard privacy ...`: the commands that answer for caller numbers.

- `new-key` and `rekey` manage the keys that seal numbers in events (`switchboard.keyring`);
- `find`, `export` and `erase` answer a data subject's request (`switchboard.subject_requests`);
- `audit` lists the audit log (`switchboard.audit`).
"""

from __future__ import annotations

import importlib

from switchboard.cli.command import Subparsers, usage

# Each module adds its own subcommands under `privacy` with `register_privacy(subparsers)`.
MODULES = ("switchboard.keyring", "switchboard.subject_requests")


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "privacy",
        help="caller numbers: sealing keys, data-subject requests, the audit log",
        description=__doc__.splitlines()[0] if __doc__ else None,
    )
    commands = parser.add_subparsers(dest="privacy_command", metavar="COMMAND")
    parser.set_defaults(handler=lambda _args: usage(parser))
    for module in MODULES:
        importlib.import_module(module).register_privacy(commands)
