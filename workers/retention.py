"""What the purge removes, kind by kind (docs/privacy.md); `workers.purge` runs it.

- Callback numbers: kept while the callback is pending and `callback_days` after it was done or
  cancelled (so an agent can see whom they called), then replaced by "". A pending callback
  nobody handled is cancelled and purged once it is `callback_days` past its request.
- SMS numbers: the SMS job clears a row's number once it is sent, failed or rejected; the
  purge clears any a settled row still holds (belt and braces), and a row still queued
  `callback_days` after it was made is marked failed ("expired") and cleared.
- Raw call events: deleted `events_days` after a call's last event, a whole call at a time,
  and only once its record has left `active` (or it never got one). The call records are
  projections of all of a call's events (workers/records.py), so an active call keeps them;
  a late event for a purged call is not projected over its record (`project_calls` skips a
  call whose stored events begin after its record does). The records keep the statistics:
  no figure is computed from raw events.
- Pseudonymised records (calls, transfers, queue visits, returns) and the callback and SMS
  rows: deleted `records_days` after the instant their statistics are bucketed by.

Each kind is one statement per table, in one transaction; run again, it finds nothing to do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, and_, delete, exists, func, or_, select, update

from switchboard.models import (
    Callback,
    CallEvent,
    CallRecord,
    QueueVisit,
    ReturnRecord,
    SmsMessage,
    TransferRecord,
)

REDACTED = ""
EXPIRED = "expired: still queued after the retention period"


@dataclass(frozen=True)
class Retention:
    """How many days each kind is kept (SWITCHBOARD_RETAIN_*; switchboard/settings.py)."""

    callback_days: int = 7
    events_days: int = 90
    records_days: int = 5 * 365


@dataclass(frozen=True)
class PurgeResult:
    closed: int = 0  # done or cancelled callbacks whose number was removed
    abandoned: int = 0  # pending callbacks past retention, cancelled and removed
    sms_settled: int = 0  # sent, failed or rejected SMS rows that still held a number
    sms_expired: int = 0  # SMS rows still queued past retention: failed and cleared
    # Rows deleted, by table: call_events, and the records past their retention.
    deleted: dict[str, int] = field(default_factory=dict)

    def describe(self) -> str:
        """One line per kind, for the operator and the log; counts only, never a value."""
        lines = [
            f"callback numbers: {self.closed} closed, {self.abandoned} abandoned (cancelled)",
            f"sms numbers: {self.sms_settled} settled, {self.sms_expired} expired (failed)",
        ]
        lines += [f"{table} rows deleted: {count}" for table, count in self.deleted.items()]
        return "\n".join(lines)


def purge_callbacks(connection: Connection, *, now: datetime, keep_days: int) -> tuple[int, int]:
    """(closed, abandoned): callback numbers removed."""
    cutoff = now - timedelta(days=keep_days)
    abandoned = connection.execute(
        update(Callback)
        .where(Callback.status == "pending", Callback.requested_at < cutoff)
        .values(status="cancelled", done_at=now, number=REDACTED)
    ).rowcount
    closed = connection.execute(
        update(Callback)
        .where(
            Callback.number != REDACTED,
            Callback.status != "pending",
            or_(
                Callback.done_at < cutoff,
                and_(Callback.done_at.is_(None), Callback.requested_at < cutoff),
            ),
        )
        .values(number=REDACTED)
    ).rowcount
    return int(closed or 0), int(abandoned or 0)


def purge_sms(connection: Connection, *, now: datetime, keep_days: int) -> tuple[int, int]:
    """(settled, expired): SMS numbers removed."""
    cutoff = now - timedelta(days=keep_days)
    expired = connection.execute(
        update(SmsMessage)
        .where(SmsMessage.status == "queued", SmsMessage.created_at < cutoff)
        .values(status="failed", error=EXPIRED, number=REDACTED)
    ).rowcount
    settled = connection.execute(
        update(SmsMessage)
        .where(SmsMessage.status != "queued", SmsMessage.number != REDACTED)
        .values(number=REDACTED)
    ).rowcount
    return int(settled or 0), int(expired or 0)


def purge_events(connection: Connection, *, now: datetime, keep_days: int) -> int:
    """Delete the events of every call whose newest event is older than the cutoff and whose
    record is no longer active (or which has none); returns the rows deleted."""
    cutoff = now - timedelta(days=keep_days)
    newest = (
        select(CallEvent.call_sid)
        .group_by(CallEvent.call_sid)
        .having(func.max(CallEvent.occurred_at) < cutoff)
    )
    active = exists().where(CallRecord.call_sid == CallEvent.call_sid, CallRecord.state == "active")
    deleted = connection.execute(
        delete(CallEvent).where(CallEvent.call_sid.in_(newest), ~active)
    ).rowcount
    return int(deleted or 0)


# Each table of records, by the instant its statistics are bucketed by.
RECORDS: tuple[tuple[str, Any, Any], ...] = (
    ("calls", CallRecord, CallRecord.started_at),
    ("transfers", TransferRecord, TransferRecord.started_at),
    ("queue_visits", QueueVisit, QueueVisit.joined_at),
    ("returns", ReturnRecord, ReturnRecord.detected_at),
    ("callbacks", Callback, Callback.requested_at),
    ("sms_messages", SmsMessage, SmsMessage.created_at),
)


def purge_records(connection: Connection, *, now: datetime, keep_days: int) -> dict[str, int]:
    """Delete records older than the cutoff; the rows deleted, by table."""
    cutoff = now - timedelta(days=keep_days)
    return {
        table: int(connection.execute(delete(model).where(column < cutoff)).rowcount or 0)
        for table, model, column in RECORDS
    }


def purge_all(engine: Engine, *, now: datetime, retention: Retention) -> PurgeResult:
    """Every kind at once, in one transaction."""
    with engine.begin() as connection:
        closed, abandoned = purge_callbacks(connection, now=now, keep_days=retention.callback_days)
        settled, expired = purge_sms(connection, now=now, keep_days=retention.callback_days)
        # Records first: the events of a call whose record just went (active or not) go too.
        records = purge_records(connection, now=now, keep_days=retention.records_days)
        events = purge_events(connection, now=now, keep_days=retention.events_days)
    return PurgeResult(
        closed=closed,
        abandoned=abandoned,
        sms_settled=settled,
        sms_expired=expired,
        deleted={"call_events": events, **records},
    )
