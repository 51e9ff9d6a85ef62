"""`switchboard agent pin-hash`: hash an agent's PIN for the municipality file
(`switchboard.pins`)."""

from __future__ import annotations

import argparse
import sys

from switchboard.cli.command import CommandError, Subparsers, usage


def register(subparsers: Subparsers) -> None:
    agent = subparsers.add_parser(
        "agent",
        help="work with the agent line",
        description="Work with the agent line's agents.",
    )
    agent.set_defaults(handler=lambda _args: usage(agent))
    actions = agent.add_subparsers(title="actions", metavar="ACTION")
    pin_hash = actions.add_parser(
        "pin-hash",
        help="hash an agent's PIN for the municipality file",
        description=(
            "Read a PIN (4 to 12 digits) from a hidden prompt, or from stdin when it is not a "
            "terminal, and print its argon2id hash. Put the hash under the agent's pin_hash in "
            "the municipality file; the PIN itself never goes there."
        ),
    )
    pin_hash.set_defaults(handler=_pin_hash_command)


def _pin_hash_command(_args: argparse.Namespace) -> int:
    from switchboard.pins import hash_pin, read_pin

    try:
        pin_hash = hash_pin(read_pin())
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    sys.stdout.write(pin_hash + "\n")
    return 0
