"""SQL tables: the database of record that statistics, reports and metrics read.

Every time is stored in UTC and read back as an aware datetime on both SQLite and PostgreSQL
(`UTCDateTime`). Raw phone numbers appear only in `callbacks.number` and in
`sms_messages.number` of an SMS not yet sent (cleared when it is sent, failed or rejected),
because a callback or an SMS cannot be made without one; everything else identifies callers by
their pseudonym (`switchboard.pseudonym`). docs/privacy.md says how long each is kept. Schema
changes go through `switchboard/migrations/`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from ivr.vocabulary import (
    CALL_OUTCOMES,
    INITIATORS,
    RETURN_KINDS,
    RETURN_NOTE_MAX_CHARS,
    RETURN_REASONS,
)
from switchboard.access import ROLES

# Explicit constraint names, so that migrations can drop or alter them on both dialects.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime in, an aware UTC datetime out, on every dialect.

    SQLite has no time zone type and would hand back naive datetimes; refusing naive input
    keeps a local time from ever being stored as if it were UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; store aware UTC instants")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# BIGINT ids on PostgreSQL; SQLite only autoincrements an INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer, "sqlite")
JsonData = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class CallEvent(Base):
    """Every event the flow reported, once: the dedupe key absorbs duplicated webhooks and the
    event id absorbs a replayed spool (docs/events.md)."""

    __tablename__ = "call_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    dedupe_key: Mapped[str] = mapped_column(Text, unique=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    call_sid: Mapped[str] = mapped_column(String(64), index=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # Without raw numbers: the ingest strips them before storing (workers/ingest.py).
    data: Mapped[dict[str, Any]] = mapped_column(JsonData)
    ingested_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=func.now())


class Callback(Base):
    """A caller asked to be called back; agents work through the pending ones."""

    __tablename__ = "callbacks"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    call_sid: Mapped[str] = mapped_column(String(64), index=True)
    # Raw E.164: the one place a number is kept, purged after retention.
    number: Mapped[str] = mapped_column(String(32))
    caller: Mapped[str | None] = mapped_column(String(64), index=True)
    language: Mapped[str] = mapped_column(String(8))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The next opening when asked while closed; None means "as soon as possible".
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # pending -> done | cancelled
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The queue visit this request ended, if it came from the queue (set by the projection).
    visit_id: Mapped[str | None] = mapped_column(String(80))


class SmsMessage(Base):
    """An SMS the caller asked for. The SMS job takes only the row's id and reads the number
    and text here; the number is cleared ("") once the SMS is sent, failed or rejected."""

    __tablename__ = "sms_messages"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    call_sid: Mapped[str] = mapped_column(String(64), index=True)
    caller: Mapped[str | None] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    language: Mapped[str | None] = mapped_column(String(8))
    # queued -> sent | failed | rejected (not a Norwegian mobile; never sent to Twilio)
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    twilio_sid: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Raw E.164 recipient while the SMS is queued; "" once it is sent, failed or rejected (set
    # in the same update as the status), and by the purge for rows queued past retention. NULL
    # only on rows an older version wrote, whose job carried the number (workers/sms.py).
    number: Mapped[str | None] = mapped_column(String(32))
    # The text to send, as the flow composed it (no number in it).
    body: Mapped[str | None] = mapped_column(Text)


class AuditEntry(Base):
    """Who did what to whose data: a data-subject request, a read of a raw number, a sign-in.
    `subject` is the caller's pseudonym, never a number; `detail` says what was touched."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(128), index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    subject: Mapped[str | None] = mapped_column(String(64), index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JsonData, default=dict)


def _one_of(column: str, values: tuple[str, ...]) -> str:
    listed = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({listed})"


class StaffAccount(Base):
    """A local staff account (`switchboard user ...`; switchboard/accounts.py). Staff who sign in
    through OpenID Connect need none: their role comes from their claims at each sign-in."""

    __tablename__ = "staff_accounts"
    __table_args__ = (
        CheckConstraint(_one_of("role", ROLES), name="role"),
        CheckConstraint(
            "(role = 'department_lead') = (department IS NOT NULL)", name="lead_department"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(16))
    department: Mapped[str | None] = mapped_column(String(64))
    # The agent roster's id (the municipality file's switchboard.agents.roster): the agent's
    # phone number or Twilio Client identity, which the console needs for call control.
    agent_id: Mapped[str | None] = mapped_column(String(64))
    # argon2id, PHC string; NULL: the account cannot sign in with a password.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# -- call records: projected from call_events by workers/projection.py ----------------------
#
# Every row below is a pure function of call events, rebuilt whenever a call gets a new event
# (workers/records.py), so these tables can be dropped and rebuilt from `call_events`. Natural
# keys (CallSid, transfer id, visit id) are the primary keys: the projection upserts on them.
# No foreign keys between them: a late event may project a transfer before the call it belongs
# to is complete, and the retention purge deletes per table.
# `day_local`, `hour_local` and `weekday_local` (Monday = 0) are the municipality's local
# calendar (Europe/Oslo), computed at projection: SQLite has no time zones, and statistics group
# by them in SQL.

CALL_STATES = ("active", "ended", "unresolved")


class LocalBuckets:
    """The local day, hour and weekday of a row's defining instant."""

    day_local: Mapped[date] = mapped_column(Date)
    hour_local: Mapped[int] = mapped_column(SmallInteger)
    weekday_local: Mapped[int] = mapped_column(SmallInteger)


class CallRecord(LocalBuckets, Base):
    """One inbound call to the main number (parent CallSid). Buckets: `started_at`."""

    __tablename__ = "calls"
    __table_args__ = (
        CheckConstraint(_one_of("state", CALL_STATES), name="state"),
        CheckConstraint(_one_of("outcome", CALL_OUTCOMES), name="outcome"),
        Index(None, "caller", "started_at"),
    )

    call_sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    caller: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Twilio's final CallStatus (completed, busy, no-answer, ...); None while active.
    status: Mapped[str | None] = mapped_column(String(16))
    # active -> ended | unresolved, never back (see workers/records.py).
    state: Mapped[str] = mapped_column(String(16))
    # What the call came to, the first that applies (workers/projection.py `call_outcome`);
    # in_progress while `state` is active.
    outcome: Mapped[str] = mapped_column(String(16))
    # Whether the switchboard line was open when the call came in; None if call_started is lost.
    switchboard_open: Mapped[bool | None] = mapped_column(Boolean)
    # For after-hours calls, what they got: department, on_call, callback, sms, queue, hung_up.
    after_hours_result: Mapped[str | None] = mapped_column(String(16))
    # From the start to the first queue join, transfer or the end: time spent in the menus.
    ivr_seconds: Mapped[float | None] = mapped_column(Float)
    # The department calling: a hand-back from its phone or PBX (call_started.from_department).
    from_department: Mapped[str | None] = mapped_column(String(32), index=True)
    language: Mapped[str | None] = mapped_column(String(8))
    # The loop guard's counters: transfers and bounces in this call; priority after two bounces.
    transfers_count: Mapped[int] = mapped_column(Integer)
    bounces_count: Mapped[int] = mapped_column(Integer)
    priority: Mapped[bool] = mapped_column(Boolean)
    # The latest event's time: a call still active long after it needs reconciling.
    last_event_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TransferRecord(LocalBuckets, Base):
    """A <Dial> to a department, from the IVR or an agent. Buckets: `started_at`."""

    __tablename__ = "transfers"
    __table_args__ = (
        CheckConstraint(_one_of("initiator", INITIATORS), name="initiator"),
        Index(None, "caller", "started_at"),
        Index(None, "department", "started_at"),
    )

    transfer_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(64), index=True)
    caller: Mapped[str | None] = mapped_column(String(64))
    department: Mapped[str] = mapped_column(String(32))
    initiator: Mapped[str] = mapped_column(String(8))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    whisper_accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # connected, no_answer, busy, failed, declined, caller_hung_up; None while pending. Only
    # ever from transfer_result (docs/glossary.md: DialCallStatus alone proves nothing).
    outcome: Mapped[str | None] = mapped_column(String(16))
    # The dial cause of a bounce (the outcome that sent the caller back); else None.
    cause: Mapped[str | None] = mapped_column(String(16))
    dial_status: Mapped[str | None] = mapped_column(String(16))
    bridged: Mapped[bool | None] = mapped_column(Boolean)
    redirected: Mapped[bool] = mapped_column(Boolean)
    bounce: Mapped[bool] = mapped_column(Boolean)
    # Where a bounced caller went: the switchboard queue, or the closed flow.
    next_step: Mapped[str | None] = mapped_column(String(8))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    talk_seconds: Mapped[float | None] = mapped_column(Float)


class QueueVisit(LocalBuckets, Base):
    """One stay in a switchboard queue, the unit of service level. Buckets: `joined_at`."""

    __tablename__ = "queue_visits"

    visit_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(64), index=True)
    queue: Mapped[str] = mapped_column(String(8))
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # The <Queue url> request: the moment an agent took the caller.
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Twilio's QueueTime at that moment.
    queue_time_seconds: Mapped[float | None] = mapped_column(Float)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Until answered, or until the visit ended unanswered.
    wait_seconds: Mapped[float | None] = mapped_column(Float)
    # answered, abandoned, callback, closing, redirected, error; None while waiting.
    ended: Mapped[str | None] = mapped_column(String(16))
    # Twilio's QueueResult from the Enqueue action, as reported.
    leave_result: Mapped[str | None] = mapped_column(String(32))
    in_opening_hours: Mapped[bool] = mapped_column(Boolean)
    bounced_from: Mapped[str | None] = mapped_column(String(80))


class ReturnRecord(LocalBuckets, Base):
    """A returned transfer: the caller came back to the switchboard. Buckets: `detected_at`."""

    __tablename__ = "returns"
    __table_args__ = (
        CheckConstraint(_one_of("kind", RETURN_KINDS), name="kind"),
        CheckConstraint(_one_of("reason", RETURN_REASONS), name="reason"),
    )

    # Each return is linked to exactly one transfer, and a transfer returns at most once.
    transfer_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    # The call that came back: the same call for a bounce, a later one otherwise.
    call_sid: Mapped[str] = mapped_column(String(64), index=True)
    transfer_call_sid: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    cause: Mapped[str | None] = mapped_column(String(16))
    # What the agent tagged when taking the returned caller; never touched by the projection.
    reason: Mapped[str | None] = mapped_column(String(32))
    # With reason `other` only: the agent's few words why. Never personal data (see the API).
    note: Mapped[str | None] = mapped_column(String(RETURN_NOTE_MAX_CHARS))
    tagged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_step: Mapped[str | None] = mapped_column(String(8))
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # Copied from the transfer for cheap grouping.
    department: Mapped[str] = mapped_column(String(32))
    initiator: Mapped[str] = mapped_column(String(8))
