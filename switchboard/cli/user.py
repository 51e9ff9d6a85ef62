"""`switchboard user add|passwd|disable|enable|list`: local staff accounts
(`switchboard.accounts`).

A password is read from a hidden prompt (twice, to catch a typo) or, when stdin is not a
terminal, from its first line; never from the command line, where it would stay in the shell's
history and show in `ps`. Every change writes an audit entry (`account_added`,
`account_changed`, actor `cli:<your user name>`) in the same transaction, without the password.

Exit codes: 0 done, 1 refused (nothing written), 2 usage.
"""

from __future__ import annotations

import argparse
import csv
import getpass
import json
import sys
from collections.abc import Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from switchboard.access import ROLES
from switchboard.cli.command import CommandError, Subparsers, load_settings, read_config, say, usage

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sqlalchemy import Engine

    from ivr.config import Config
    from switchboard.accounts import Account

# Times are shown in the municipality's local time, as in the statistics and the audit log.
LOCAL = ZoneInfo("Europe/Oslo")
FORMATS = ("table", "csv", "json")
COLUMNS = (
    "username",
    "name",
    "role",
    "department",
    "agent",
    "disabled",
    "password",
    "last_sign_in",
)


def register(subparsers: Subparsers) -> None:
    user = subparsers.add_parser(
        "user",
        help="local staff accounts for the sign-in page",
        description="Manage local staff accounts: add, change the password, disable, enable, "
        "list. Staff with an identity provider sign in through OpenID Connect instead "
        "(docs/oidc.md).",
    )
    user.set_defaults(handler=lambda _args: usage(user))
    actions = user.add_subparsers(title="actions", metavar="ACTION")

    add = actions.add_parser(
        "add",
        help="add an account; reads its password from a hidden prompt or stdin",
        description="Add a staff account. The password (at least 12 characters) is read from "
        "a hidden prompt, twice, or from the first line of stdin when it is not a terminal; "
        "never give it on the command line.",
    )
    add.add_argument("username", help="2 to 80 of a-z 0-9 . _ @ -, e.g. kari.nordmann")
    add.add_argument("--role", required=True, choices=ROLES, help="what the account may do")
    add.add_argument("--name", default="", help="the display name (default: the user name)")
    add.add_argument(
        "--department", help="a department id from the municipality file (department_lead)"
    )
    add.add_argument(
        "--agent", metavar="ROSTER_ID", help="the agent's id in the agent roster (agent)"
    )
    add.add_argument(
        "--no-password",
        action="store_true",
        help="no local password: the person signs in through OpenID Connect only",
    )
    add.set_defaults(handler=_add)

    passwd = actions.add_parser(
        "passwd",
        help="set a new password; ends the account's signed-in sessions",
        description="Set a new password, read like `user add` reads one. Sessions signed in "
        "with the old password end at their next request.",
    )
    passwd.add_argument("username")
    passwd.set_defaults(handler=_passwd)

    disable = actions.add_parser(
        "disable", help="stop an account from signing in; ends its password sessions"
    )
    disable.add_argument("username")
    disable.set_defaults(handler=_disabled, disabled=True)

    enable = actions.add_parser("enable", help="let a disabled account sign in again")
    enable.add_argument("username")
    enable.set_defaults(handler=_disabled, disabled=False)

    listing = actions.add_parser(
        "list", help="list the accounts (no password hashes), last sign-in in Oslo time"
    )
    listing.add_argument("--format", choices=FORMATS, default="table", help="default: table")
    listing.set_defaults(handler=_list)


# --- the handlers ---------------------------------------------------------------------------


def _add(args: argparse.Namespace) -> int:
    from switchboard.accounts import (
        AccountError,
        add_account,
        check_role,
        check_username,
        find_account,
    )

    settings = load_settings()
    # Everything that can be checked is checked before the password is asked for.
    try:
        check_username(args.username)
        check_role(args.role, department=args.department, agent_id=args.agent)
    except AccountError as exc:
        raise CommandError(f"{exc}; no account was added") from None
    config = read_config(settings.config)
    department = _known_department(config, args.department)
    agent = _known_agent(config, args.agent)
    with _engine(settings.sqlalchemy_url) as engine:
        if find_account(engine, args.username) is not None:
            raise CommandError(f"there is already an account {args.username!r}")
        password = None if args.no_password else read_password()
        try:
            added = add_account(
                engine,
                username=args.username,
                display_name=args.name,
                role=args.role,
                department=department,
                agent_id=agent,
                password=password,
                actor=_actor(),
            )
        except AccountError as exc:
            raise CommandError(f"{exc}; no account was added") from None
    how = "with a password" if added.has_password else "without a password (OpenID Connect only)"
    say(f"added {added.username} ({added.role}) {how}")
    return 0


def _passwd(args: argparse.Namespace) -> int:
    from switchboard.accounts import AccountError, set_password

    settings = load_settings()
    with _engine(settings.sqlalchemy_url) as engine:
        _existing(engine, args.username)
        password = read_password()
        try:
            set_password(engine, args.username, password, actor=_actor())
        except AccountError as exc:
            raise CommandError(f"{exc}; the password was not changed") from None
    say(f"new password for {args.username}; sessions signed in with the old one have ended")
    return 0


def _disabled(args: argparse.Namespace) -> int:
    from switchboard.accounts import AccountError, set_disabled

    settings = load_settings()
    with _engine(settings.sqlalchemy_url) as engine:
        try:
            set_disabled(engine, args.username, args.disabled, actor=_actor())
        except AccountError as exc:
            raise CommandError(str(exc)) from None
    if args.disabled:
        say(f"disabled {args.username}; sessions signed in with a password have ended")
    else:
        say(f"enabled {args.username}; they can sign in again")
    return 0


def _list(args: argparse.Namespace) -> int:
    from switchboard.accounts import all_accounts

    settings = load_settings()
    with _engine(settings.sqlalchemy_url) as engine:
        accounts = all_accounts(engine)
    rows = [describe(account) for account in accounts]
    if args.format == "json":
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
    elif args.format == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    else:
        say(table(rows) if rows else "no accounts yet (add one with `switchboard user add`)")
    return 0


# --- the pieces -------------------------------------------------------------------------------


def read_password(prompt: str = "Password: ") -> str:
    """A password from a hidden prompt, asked twice, or stdin's first line when it is piped.
    The messages never repeat it."""
    if not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise CommandError("no password on stdin (give it as the first line)")
        return password
    first = getpass.getpass(prompt)
    if getpass.getpass("The same password again: ") != first:
        raise CommandError("the two passwords differ; nothing was changed")
    return first


def describe(account: Account) -> dict[str, Any]:
    """One account as `user list` shows it: never the hash, only whether there is one."""
    return {
        "username": account.username,
        "name": account.display_name,
        "role": account.role,
        "department": account.department or "",
        "agent": account.agent_id or "",
        "disabled": account.disabled,
        "password": account.has_password,
        "last_sign_in": _local(account.last_sign_in_at),
    }


def table(rows: Sequence[dict[str, Any]]) -> str:
    def cell(value: Any) -> str:
        if isinstance(value, bool):
            return "yes" if value else "no"
        return str(value) if value != "" else "-"

    cells = [[cell(row[column]) for column in COLUMNS] for row in rows]
    widths = [max(len(c), *(len(line[i]) for line in cells)) for i, c in enumerate(COLUMNS)]
    lines = [COLUMNS, *cells]
    return "\n".join(
        "  ".join(text.ljust(width) for text, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


def _local(at: datetime | None) -> str:
    return at.astimezone(LOCAL).strftime("%Y-%m-%d %H:%M") if at is not None else ""


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


def _known_department(config: Config, department: str | None) -> str | None:
    if department is None:
        return None
    known = [d.id for d in config.departments]
    if department not in known:
        raise CommandError(
            f"no department {department!r} in the municipality file; known: {', '.join(known)}"
        )
    return department


def _known_agent(config: Config, agent: str | None) -> str | None:
    if agent is None:
        return None
    known = [a.id for a in config.switchboard.agents.roster]
    if agent not in known:
        listed = ", ".join(known) if known else "none (switchboard.agents.roster is empty)"
        raise CommandError(f"no agent {agent!r} in the agent roster; known: {listed}")
    return agent


def _existing(engine: Engine, username: str) -> None:
    from switchboard.accounts import find_account

    if find_account(engine, username) is None:
        raise CommandError(f"there is no account {username!r}")


@contextmanager
def _engine(url: str) -> Iterator[Engine]:
    """The database, with a readable error when it cannot be used (not migrated, say)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from switchboard.db import make_engine, normalise_url

    engine = make_engine(url)
    try:
        yield engine
    except (OperationalError, ProgrammingError) as exc:
        shown = make_url(normalise_url(url)).render_as_string(hide_password=True)
        raise CommandError(
            f"cannot use the database {shown} ({type(exc.orig).__name__}); "
            "has `switchboard migrate` run?"
        ) from None
    finally:
        engine.dispose()
