"""The audit log: who did what to whose data, in SQL next to the data itself.

Every data-subject request (`switchboard privacy find|export|erase`), every read of a raw
number through the API, and (with staff sign-in) sign-ins and call handling write one row.
A row names the actor (an API token's or a person's name, or `cli:<user>`), the action, the
subject as the caller's pseudonym (never a number) and a small JSON detail. Rows are written
in the same transaction as the thing they record, so an action without its entry cannot
commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, select
from sqlalchemy.orm import Session

from switchboard.models import AuditEntry

# What a row can say was done; new actions are added here, so the list page can offer them.
ACTIONS = (
    "privacy_find",
    "privacy_export",
    "privacy_erase",
    "number_read",
    "key_rotation",
    # staff sign-in (switchboard/routes/staff.py, switchboard/oidc.py)
    "sign_in",
    "sign_in_failed",
    "sign_out",
    # staff accounts (switchboard/accounts.py, `switchboard user`)
    "account_added",
    "account_changed",
    # call handling by staff
    "transfer",
    "guard_override",
    "caller_sms_link",
    "caller_callback",
    "caller_taken",
    "agent_status",
    "return_tagged",
    "callback_marked",
    # changes to what callers hear
    "announcement_changed",
    "closed_switch_changed",
)


@dataclass(frozen=True)
class Audited:
    at: datetime
    actor: str
    action: str
    subject: str | None
    detail: dict[str, Any]


def record(
    target: Session | Connection,
    *,
    actor: str,
    action: str,
    subject: str | None = None,
    at: datetime | None = None,
    **detail: Any,
) -> None:
    """Add one entry inside the caller's transaction."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    target.execute(
        insert(AuditEntry).values(
            at=at or datetime.now(UTC), actor=actor, action=action, subject=subject, detail=detail
        )
    )


def entries(
    engine: Engine,
    *,
    actor: str | None = None,
    action: str | None = None,
    subject: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 1000,
) -> Sequence[Audited]:
    """Entries newest first, filtered by actor, action, subject (a pseudonym) and time window
    [since, until)."""
    query = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
    if actor is not None:
        query = query.where(AuditEntry.actor == actor)
    if action is not None:
        query = query.where(AuditEntry.action == action)
    if subject is not None:
        query = query.where(AuditEntry.subject == subject)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if until is not None:
        query = query.where(AuditEntry.at < until)
    with Session(engine) as session:
        return [
            Audited(at=r.at, actor=r.actor, action=r.action, subject=r.subject, detail=r.detail)
            for r in session.scalars(query)
        ]
