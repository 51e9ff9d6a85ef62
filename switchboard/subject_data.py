"""A data subject's rows: found by number, exported as they are, and erased without a count moving.

A caller is known to the database by the HMAC pseudonym of their number (`switchboard.pseudonym`)
in every table with a `caller` column and in `call_events.data["caller"]`, and by the raw
number itself in `callbacks.number` and `sms_messages.number` while those are kept. A callback
number keyed in from another phone counts as the person's too. Their calls are the call SIDs of
all those rows; each call's rows in every table (queue visits and returns have no caller
column) and all its raw events belong to the request.

Erasure deletes no row, so every count stays exact: the pseudonym is replaced in all rows and
events by one fresh random token (so the person's own calls stay related to one another, and a
re-projection from the events gives the same records), the raw numbers are cleared, pending
callbacks are cancelled and queued SMS marked failed. An agent's note on one of their returns
is cleared too (the reason stays): it is free text, and should it name the person despite the
rule, erasure must not leave that behind.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import ColumnElement, false, func, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from ivr.phone import parse_keyed_number
from switchboard.models import (
    Base,
    Callback,
    CallEvent,
    CallRecord,
    QueueVisit,
    ReturnRecord,
    SmsMessage,
    TransferRecord,
)
from switchboard.pseudonym import caller_pseudonym

# What erased rows say instead of a pseudonym: the prefix shows an erasure, the rest is random.
ERASED_PREFIX = "erased:"
ERASED_ERROR = "erased"  # sms_messages.error of an SMS that erasure stopped
CLEARED = ""  # a cleared raw number, as the retention purge leaves it


@dataclass(frozen=True)
class Table:
    """A table a request looks in: its model and the instant that dates a row."""

    name: str
    model: type[Base]
    at: InstrumentedAttribute[Any]


# In the order `find` reports them: events first, then the records projected from them.
TABLES = (
    Table("call_events", CallEvent, CallEvent.occurred_at),
    Table("calls", CallRecord, CallRecord.started_at),
    Table("transfers", TransferRecord, TransferRecord.started_at),
    Table("queue_visits", QueueVisit, QueueVisit.joined_at),
    Table("returns", ReturnRecord, ReturnRecord.detected_at),
    Table("callbacks", Callback, Callback.requested_at),
    Table("sms_messages", SmsMessage, SmsMessage.created_at),
)
# The tables with a `caller` column, where erasure replaces the pseudonym.
CALLER_MODELS: tuple[type[CallRecord | TransferRecord | Callback | SmsMessage], ...] = (
    CallRecord,
    TransferRecord,
    Callback,
    SmsMessage,
)


class NotANumber(ValueError):
    """Text that cannot be read as a phone number."""


def normalise_number(text: str) -> str:
    """E.164 from what an operator types: `+47 912 34 567`, `004791234567`, `91234567`.

    Eight digits are Norwegian (+47); `+` or `00` give any country's number.
    """
    compact = re.sub(r"[\s().-]", "", text)
    if not re.fullmatch(r"\+?\d+", compact):
        raise NotANumber(f"not a phone number: {text!r}")
    norwegian = parse_keyed_number(compact.removeprefix("+"))
    if norwegian is not None:
        return norwegian
    if compact.startswith("+"):
        digits = compact[1:]
    elif compact.startswith("00"):
        digits = compact[2:]
    else:
        raise NotANumber(f"not a phone number: {text!r} (give +country code for other countries)")
    if not 8 <= len(digits) <= 15 or digits.startswith("0"):
        raise NotANumber(f"not a phone number: {text!r}")
    return f"+{digits}"


@dataclass(frozen=True)
class Subject:
    number: str  # E.164
    pseudonym: str

    @classmethod
    def of(cls, text: str, *, key: str) -> Subject:
        number = normalise_number(text)
        return cls(number=number, pseudonym=caller_pseudonym(number, key=key))


@dataclass
class Found:
    """The subject's rows per table name (every name of TABLES, maybe empty)."""

    rows: dict[str, list[Any]] = field(default_factory=dict)

    @property
    def call_sids(self) -> list[str]:
        return sorted({row.call_sid for rows in self.rows.values() for row in rows})

    def counts(self) -> dict[str, int]:
        return {name: len(rows) for name, rows in self.rows.items()}

    @property
    def empty(self) -> bool:
        return not any(self.rows.values())


def _event_caller(value: str) -> ColumnElement[bool]:
    # JSON on SQLite (json_extract), JSONB on PostgreSQL (->>): both filter in SQL.
    condition: ColumnElement[bool] = CallEvent.data["caller"].as_string() == value
    return condition


def find(session: Session, subject: Subject) -> Found:
    """Every row of the subject: by pseudonym, by raw number, then by their calls' SIDs."""
    pseudonym, number = subject.pseudonym, subject.number
    direct: list[Sequence[str]] = [
        session.scalars(select(model.call_sid).where(model.caller == pseudonym)).all()
        for model in CALLER_MODELS
    ]
    direct.append(session.scalars(select(Callback.call_sid).where(Callback.number == number)).all())
    direct.append(
        session.scalars(select(SmsMessage.call_sid).where(SmsMessage.number == number)).all()
    )
    direct.append(session.scalars(select(CallEvent.call_sid).where(_event_caller(pseudonym))).all())
    sids = sorted({sid for found in direct for sid in found})
    found = Found()
    for table in TABLES:
        model: Any = table.model
        match = model.call_sid.in_(sids) if sids else false()
        if table.model is ReturnRecord:
            match = or_(match, ReturnRecord.transfer_call_sid.in_(sids))
        query = select(model).where(match).order_by(table.at, *model.__table__.primary_key)
        found.rows[table.name] = list(session.scalars(query))
    return found


@dataclass(frozen=True)
class Span:
    rows: int
    first: datetime | None
    last: datetime | None


def spans(found: Found) -> dict[str, Span]:
    """Per table: how many rows, and the first and last instant among them."""
    result = {}
    for table in TABLES:
        rows = found.rows.get(table.name, [])
        instants = [getattr(row, table.at.key) for row in rows]
        result[table.name] = Span(
            rows=len(rows), first=min(instants, default=None), last=max(instants, default=None)
        )
    return result


def as_json(found: Found) -> dict[str, list[dict[str, Any]]]:
    """The rows as JSON-ready dictionaries, every column, instants in ISO 8601."""
    return {
        name: [
            {column.key: _plain(getattr(row, column.key)) for column in row.__table__.columns}
            for row in rows
        ]
        for name, rows in found.rows.items()
    }


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def erasure_token() -> str:
    """A fresh stand-in for a pseudonym: 64 characters like one, random, linked to nothing."""
    return ERASED_PREFIX + secrets.token_hex(28)


@dataclass(frozen=True)
class Erased:
    token: str
    counts: dict[str, int]  # rows changed per table
    cancelled_callbacks: int
    stopped_sms: int


def erase(session: Session, subject: Subject, *, now: datetime | None = None) -> Erased:
    """Unlink the subject from every row, inside the caller's transaction; deletes nothing."""
    now = now or datetime.now(UTC)
    token = erasure_token()
    pseudonym, number = subject.pseudonym, subject.number

    def theirs(model: Any) -> ColumnElement[bool]:
        match: ColumnElement[bool] = model.caller == pseudonym
        return or_(match, model.number == number) if hasattr(model, "number") else match

    for returned in find(session, subject).rows["returns"]:
        returned.note = None
    counts: dict[str, int] = {}
    events = session.scalars(select(CallEvent).where(_event_caller(pseudonym))).all()
    for event in events:
        # A new dict, so that the JSON column is seen as changed.
        event.data = {**event.data, "caller": token}
    session.flush()
    counts["call_events"] = len(events)
    for model in CALLER_MODELS:
        name = model.__tablename__
        counts[name] = (
            session.scalar(select(func.count()).select_from(model).where(theirs(model))) or 0
        )
    cancelled = session.execute(
        update(Callback)
        .where(theirs(Callback), Callback.status == "pending")
        .values(status="cancelled", done_at=now)
    ).rowcount  # type: ignore[attr-defined]
    stopped = session.execute(
        update(SmsMessage)
        .where(theirs(SmsMessage), SmsMessage.status == "queued")
        .values(status="failed", error=ERASED_ERROR)
    ).rowcount  # type: ignore[attr-defined]
    for keeper in (Callback, SmsMessage):
        session.execute(update(keeper).where(keeper.number == number).values(number=CLEARED))
    for model in CALLER_MODELS:
        session.execute(update(model).where(model.caller == pseudonym).values(caller=token))
    return Erased(token=token, counts=counts, cancelled_callbacks=cancelled, stopped_sms=stopped)
