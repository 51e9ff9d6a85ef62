"""`switchboard token new`: make an API token for staff and tools (`switchboard.access`)."""

from __future__ import annotations

import argparse
import json
import secrets
import sys

from pydantic import ValidationError

from switchboard.access import ROLES, ApiToken, token_digest
from switchboard.cli.command import Subparsers


def register(subparsers: Subparsers) -> None:
    token = subparsers.add_parser("token", help="API tokens for staff and tools")
    actions = token.add_subparsers(dest="token_command", required=True)
    new = actions.add_parser(
        "new",
        help="make a token; prints it once, and the entry for SWITCHBOARD_API_TOKENS",
        description="Make a random API token. The token is printed once; the service keeps "
        "only its SHA-256, in the JSON entry printed below it.",
    )
    new.add_argument("--name", required=True, help="who or what holds it, e.g. 'grafana'")
    new.add_argument("--role", required=True, choices=ROLES)
    new.add_argument("--department", help="the department id, for a department_lead")
    new.set_defaults(handler=_token_new)


def _token_new(args: argparse.Namespace) -> int:
    token = secrets.token_urlsafe(32)
    try:
        entry = ApiToken(
            name=args.name, role=args.role, department=args.department, sha256=token_digest(token)
        )
    except ValidationError as exc:
        for error in exc.errors():
            sys.stderr.write(f"error: {str(error['msg']).removeprefix('Value error, ')}\n")
        return 2
    print(f"token (shown once; give it to {args.name}): {token}")  # noqa: T201 - CLI output
    print("entry for SWITCHBOARD_API_TOKENS (a JSON list):")  # noqa: T201
    print(json.dumps(entry.model_dump(exclude_none=True)))  # noqa: T201
    return 0
