"""Local staff accounts: the `staff_accounts` table, argon2id passwords, and the password check
behind the sign-in page.

Local accounts are for bootstrap and for municipalities without an identity provider; staff
normally sign in through OpenID Connect (switchboard/oidc.py). `switchboard user add|passwd|
disable|list` (switchboard/cli/user.py) manage them.

Each account has a role (switchboard/access.py), a department when it is a department lead, and,
for an agent, the id of their entry in the agent roster (the municipality file's
`switchboard.agents.roster`), which holds the phone number or Twilio Client identity the console
controls calls through.

A password is checked in about the same time whether or not the account exists: an unknown or
disabled account is checked against a dummy hash, so the answer's timing does not tell which
user names exist.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from switchboard.access import ROLES, Principal, Role
from switchboard.audit import record
from switchboard.models import StaffAccount

MIN_PASSWORD = 12
MAX_PASSWORD = 256  # argon2 takes any length; a cap keeps a huge form field from costing more
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,79}$")

_HASHER = PasswordHasher()  # argon2id, RFC 9106's low-memory profile (64 MiB, 3 passes)
_DUMMY_HASH = _HASHER.hash("not a password of anyone's")


class AccountError(ValueError):
    """A request about accounts that cannot be done; the message says why, for people."""


@dataclass(frozen=True)
class Account:
    username: str
    display_name: str
    role: Role
    department: str | None
    agent_id: str | None
    disabled: bool
    has_password: bool
    created_at: datetime
    password_changed_at: datetime | None
    last_sign_in_at: datetime | None

    def principal(self) -> Principal:
        return Principal(
            name=self.username,
            role=self.role,
            department=self.department,
            agent_id=self.agent_id,
            display_name=self.display_name,
        )


def _account(row: StaffAccount) -> Account:
    role = next(r for r in ROLES if r == row.role)
    return Account(
        username=row.username,
        display_name=row.display_name,
        role=role,
        department=row.department,
        agent_id=row.agent_id,
        disabled=row.disabled,
        has_password=row.password_hash is not None,
        created_at=row.created_at,
        password_changed_at=row.password_changed_at,
        last_sign_in_at=row.last_sign_in_at,
    )


def check_username(username: str) -> str:
    if not USERNAME.match(username):
        raise AccountError(
            f"{username!r} is not a user name: 2 to 80 of a-z 0-9 . _ @ -, starting with a "
            "letter or digit"
        )
    return username


def check_role(role: Role, *, department: str | None, agent_id: str | None) -> None:
    """AccountError unless a department goes with exactly the department lead, and a roster
    link with an agent only."""
    if role == "department_lead" and not department:
        raise AccountError("a department lead needs a department (--department)")
    if role != "department_lead" and department:
        raise AccountError("only a department lead has a department")
    if agent_id and role != "agent":
        raise AccountError("only an agent is linked to the agent roster (--agent)")


def hash_password(password: str) -> str:
    """The argon2id hash of an acceptable password; AccountError says what is wrong with it
    (without repeating it)."""
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"a password needs at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise AccountError(f"a password may have at most {MAX_PASSWORD} characters")
    return _HASHER.hash(password)


def add_account(
    engine: Engine,
    *,
    username: str,
    display_name: str,
    role: Role,
    department: str | None = None,
    agent_id: str | None = None,
    password: str | None = None,
    at: datetime | None = None,
    actor: str | None = None,
) -> Account:
    """Add an account; with `actor`, record `account_added` in the same transaction."""
    check_username(username)
    check_role(role, department=department, agent_id=agent_id)
    now = at or datetime.now(UTC)
    row = StaffAccount(
        username=username,
        display_name=display_name.strip() or username,
        role=role,
        department=department,
        agent_id=agent_id,
        password_hash=hash_password(password) if password is not None else None,
        disabled=False,
        created_at=now,
        password_changed_at=now if password is not None else None,
    )
    try:
        with Session(engine) as session, session.begin():
            session.add(row)
            session.flush()
            added = _account(row)
            if actor is not None:
                record(
                    session,
                    actor=actor,
                    action="account_added",
                    at=now,
                    username=username,
                    role=role,
                    department=department,
                    agent_id=agent_id,
                    password=password is not None,
                )
    except IntegrityError:
        raise AccountError(f"there is already an account {username!r}") from None
    return added


def _change(
    engine: Engine, username: str, *, actor: str | None, change: str, **values: object
) -> None:
    """Update one account; with `actor`, record `account_changed` (what changed, never a
    value) in the same transaction. Nothing is written when there is no such account."""
    with Session(engine) as session, session.begin():
        changed = session.execute(
            update(StaffAccount).where(StaffAccount.username == username).values(**values)
        ).rowcount  # type: ignore[attr-defined]
        if not changed:
            raise AccountError(f"there is no account {username!r}")
        if actor is not None:
            record(session, actor=actor, action="account_changed", username=username, change=change)


def set_password(engine: Engine, username: str, password: str, *, actor: str | None = None) -> None:
    """A new password, which ends the account's password sessions (`still_signed_in`)."""
    _change(
        engine,
        username,
        actor=actor,
        change="password",
        password_hash=hash_password(password),
        password_changed_at=datetime.now(UTC),
    )


def set_disabled(
    engine: Engine, username: str, disabled: bool = True, *, actor: str | None = None
) -> None:
    """Disable (or enable) an account. Disabling ends its password sessions for good: it
    moves `password_changed_at` on too, so that enabling the account again does not bring
    back a session started before (`still_signed_in`)."""
    values: dict[str, object] = {"disabled": disabled}
    if disabled:
        values["password_changed_at"] = datetime.now(UTC)
    _change(engine, username, actor=actor, change="disabled" if disabled else "enabled", **values)


def find_account(engine: Engine, username: str) -> Account | None:
    with Session(engine) as session:
        row = session.scalars(select(StaffAccount).where(StaffAccount.username == username)).first()
        return _account(row) if row is not None else None


def still_signed_in(engine: Engine, username: str, since: datetime) -> bool:
    """Whether a password session started at `since` still stands: the account exists, is
    enabled, and its password has not changed since (a new password ends old sessions)."""
    account = find_account(engine, username)
    if account is None or account.disabled or not account.has_password:
        return False
    changed = account.password_changed_at
    return changed is None or changed <= since


def all_accounts(engine: Engine) -> Sequence[Account]:
    with Session(engine) as session:
        rows = session.scalars(select(StaffAccount).order_by(StaffAccount.username)).all()
        return [_account(row) for row in rows]


def check_password(
    engine: Engine, username: str, password: str, *, at: datetime | None = None
) -> Account | None:
    """The account, when `password` is its password and it is enabled; None otherwise.

    Records the sign-in time, and rehashes a hash made with older argon2 parameters."""
    if len(password) > MAX_PASSWORD:
        return None
    with Session(engine) as session, session.begin():
        row = session.scalars(select(StaffAccount).where(StaffAccount.username == username)).first()
        usable = row is not None and not row.disabled and row.password_hash is not None
        stored = row.password_hash if usable and row is not None else None
        matches: bool
        try:
            matches = _HASHER.verify(stored or _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            matches = False
        if row is None or stored is None or not matches:
            return None
        row.last_sign_in_at = at or datetime.now(UTC)
        if _HASHER.check_needs_rehash(stored):
            row.password_hash = _HASHER.hash(password)
        session.flush()
        return _account(row)
