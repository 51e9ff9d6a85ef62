"""Call events: what happened on a call, as the pure flow reports it.

The flow returns events next to its TwiML; the edge appends them to the Redis Stream (or the
local spool), and the ingest consumer writes them to SQL. An event's `dedupe_key` makes a
replayed or duplicated webhook harmless (docs/events.md); its `id` makes a replayed spool harmless.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal, get_args

EventKind = Literal[
    "call_started",
    "menu_choice",
    "transfer_started",
    "whisper_accepted",
    "transfer_result",
    "transfer_progress",
    "queue_joined",
    "queue_answered",
    "queue_left",
    "queue_moved",
    "callback_requested",
    "sms_requested",
    "call_ended",
    "agent_status_changed",
    "overflow_offered",
]
EVENT_KINDS: frozenset[str] = frozenset(get_args(EventKind))
# Events about staff, not about a call: stored with the others, never projected into a call.
STAFF_KINDS: frozenset[str] = frozenset({"agent_status_changed"})

Scalar = str | int | float | bool | None

# The data fields that hold a raw phone number, per event kind. They travel sealed between the
# edge and the ingest (switchboard/sealing.py) and are kept out of `call_events.data`.
NUMBER_FIELDS: dict[str, tuple[str, ...]] = {
    "callback_requested": ("number",),
    "sms_requested": ("to",),
}


@dataclass(frozen=True)
class Event:
    kind: EventKind
    call_sid: str
    dedupe_key: str
    at: datetime
    data: dict[str, Scalar] = field(default_factory=dict)
    id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def to_fields(self) -> dict[str, str]:
        """Flat string fields, as a Redis Stream entry or a spool line carries them."""
        return {
            "id": self.id,
            "kind": self.kind,
            "call_sid": self.call_sid,
            "dedupe_key": self.dedupe_key,
            "at": self.at.astimezone(UTC).isoformat(),
            "data": json.dumps(self.data, ensure_ascii=False, sort_keys=True),
        }

    @classmethod
    def from_fields(cls, fields: dict[str, str]) -> Event:
        kind = fields["kind"]
        if kind not in EVENT_KINDS:
            raise ValueError(f"unknown event kind {kind!r}")
        data = json.loads(fields.get("data") or "{}")
        if not isinstance(data, dict):
            raise ValueError("event data must be an object")
        return cls(
            kind=kind,  # type: ignore[arg-type]
            call_sid=fields["call_sid"],
            dedupe_key=fields["dedupe_key"],
            at=datetime.fromisoformat(fields["at"]),
            data=data,
            id=fields["id"],
        )
