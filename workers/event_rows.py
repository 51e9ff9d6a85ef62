"""How call events become SQL rows: the stored event, and the callback or SMS row it asks for.

Everything is inserted with ON CONFLICT DO NOTHING, so a second delivery of an event (same
dedupe key, or same UUID from a replayed spool) adds nothing, and its side-effect rows are made
only for events that were new. Raw numbers leave the event here: a callback's number goes into
its callback row, an SMS recipient and text into its `sms_messages` row (the SMS job reads them
there, and clears the number once the SMS is settled), and neither number is kept in
`call_events.data`.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Insert
from sqlalchemy.dialects import postgresql, sqlite

from ivr.events import NUMBER_FIELDS, Event
from switchboard.models import Callback, CallEvent, SmsMessage
from switchboard.pseudonym import caller_pseudonym

log = logging.getLogger(__name__)


def insert_events(
    connection: Connection, events: list[Event], *, caller_key: str | None
) -> set[str]:
    """Insert events and their side-effect rows; returns the ids of the events that were new."""
    now = datetime.now(UTC)
    rows = [
        {
            "event_id": event.id,
            "dedupe_key": event.dedupe_key,
            "kind": event.kind,
            "call_sid": event.call_sid,
            "occurred_at": event.at,
            "data": without_numbers(event),
            "ingested_at": now,
        }
        for event in events
    ]
    inserted = connection.execute(
        _insert_ignoring_duplicates(connection, CallEvent).returning(CallEvent.event_id), rows
    )
    new_ids = set(inserted.scalars())
    fresh = [event for event in events if event.id in new_ids]
    callbacks = [
        row for event in fresh if (row := callback_row(event, caller_key=caller_key)) is not None
    ]
    if callbacks:
        connection.execute(_insert_ignoring_duplicates(connection, Callback), callbacks)
    sms = [
        sms_row(event, caller_key=caller_key, now=now)
        for event in fresh
        if event.kind == "sms_requested"
    ]
    if sms:
        connection.execute(_insert_ignoring_duplicates(connection, SmsMessage), sms)
    return new_ids


def without_numbers(event: Event) -> dict[str, Any]:
    hidden = NUMBER_FIELDS.get(event.kind, ())
    return {key: value for key, value in event.data.items() if key not in hidden}


def callback_row(event: Event, *, caller_key: str | None) -> dict[str, Any] | None:
    if event.kind != "callback_requested":
        return None
    number = event.data.get("number")
    if not isinstance(number, str) or not number:
        log.error("callback request %s has no number; no callback row", event.id)
        return None
    return {
        "event_id": event.id,
        "call_sid": event.call_sid,
        "number": number,
        "caller": _caller(event, number, caller_key=caller_key),
        "language": str(event.data.get("language") or "nn"),
        "requested_at": event.at,
        "due_at": _instant(event.data.get("due_at")),
        "status": "pending",
    }


def sms_row(event: Event, *, caller_key: str | None, now: datetime) -> dict[str, Any]:
    to = event.data.get("to")
    recipient = to if isinstance(to, str) and to else None
    return {
        "event_id": event.id,
        "call_sid": event.call_sid,
        "caller": _caller(event, recipient, caller_key=caller_key),
        "kind": str(event.data.get("kind") or "self_service"),
        "language": str(event.data["language"]) if event.data.get("language") else None,
        "number": recipient or "",
        "body": str(event.data.get("body") or ""),
        "status": "queued" if recipient else "rejected",
        "error": None if recipient else "no recipient number",
        "created_at": now,
    }


def _caller(event: Event, number: str | None, *, caller_key: str | None) -> str | None:
    """The pseudonym the edge sent along, else one made here from the number."""
    caller = event.data.get("caller")
    if isinstance(caller, str) and caller:
        return caller
    if number and caller_key:
        return caller_pseudonym(number, key=caller_key)
    return None


def _instant(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _insert_ignoring_duplicates(connection: Connection, model: type[Any]) -> Insert:
    dialect = connection.dialect.name
    if dialect == "postgresql":
        return postgresql.insert(model).on_conflict_do_nothing()
    if dialect == "sqlite":
        return sqlite.insert(model).on_conflict_do_nothing()
    raise RuntimeError(f"unsupported database dialect {dialect!r}")
