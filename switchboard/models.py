"""SQL tables: the database of record that statistics, reports and metrics read.

Every time is stored in UTC and read back as an aware datetime on both SQLite and PostgreSQL
(`UTCDateTime`). Raw phone numbers appear only in `callbacks.number`, because a callback cannot be
made without one; everything else identifies callers by their pseudonym
(`switchboard.pseudonym`). Schema changes go through `switchboard/migrations/`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Integer, MetaData, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

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
    event id absorbs a replayed spool (BRIEF §7)."""

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
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)


class SmsMessage(Base):
    """An SMS the caller asked for. The recipient's number is not here: it travels only inside
    the RQ job that sends it."""

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
