"""`switchboard config check`: validate a municipality file."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from ivr.config import Config
from switchboard import pins
from switchboard.cli.command import Subparsers, configured_path, read_config, say, usage


def register(subparsers: Subparsers) -> None:
    config = subparsers.add_parser(
        "config",
        help="work with the municipality configuration file",
        description="Work with the municipality configuration file (YAML).",
    )
    config.set_defaults(handler=lambda _args: usage(config))
    actions = config.add_subparsers(title="actions", metavar="ACTION")
    check = actions.add_parser(
        "check",
        help="validate a configuration file",
        description=(
            "Validate a municipality configuration file and print each problem with its "
            "location, one per line. Exit code 0: valid; 1: invalid, or agents let in by "
            "caller ID alone with SWITCHBOARD_ENV=production (else a warning); 2: unreadable."
        ),
    )
    check.add_argument(
        "file",
        nargs="?",
        type=Path,
        help="the file to check (default: $SWITCHBOARD_CONFIG, else the shipped Alver file)",
    )
    check.set_defaults(handler=_config_check)


def describe_config(path: Path, config: Config) -> str:
    departments = len(config.departments)
    desks = len(config.receptions)
    return (
        f"OK: {path}: {config.municipality.name}, "
        f"{departments} department{'s' if departments != 1 else ''}, "
        f"{desks} reception desk{'s' if desks != 1 else ''}"
    )


def _config_check(args: argparse.Namespace) -> int:
    path: Path = args.file or configured_path()
    config = read_config(path)
    warning = pins.check_agent_line(path, config, env=os.environ.get("SWITCHBOARD_ENV", ""))
    say(describe_config(path, config))
    if warning:
        say(warning)
    return 0
