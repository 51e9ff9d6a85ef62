"""Status callbacks: the end of the inbound call, and the progress of a transfer's child leg.

Twilio sends these asynchronously, possibly twice or out of order (docs/twilio.md); the
dedupe key (CallSid, SequenceNumber, CallStatus) makes a duplicate harmless downstream.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC
from email.utils import parsedate_to_datetime

from ivr.call import Context, Reply, Turn
from ivr.transfer import parent_call_sid

FINAL_STATUSES = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})


def _as_reported(turn: Turn) -> Turn:
    """The turn at Twilio's own `Timestamp` (RFC 2822), not at delivery: a callback can arrive
    seconds late, and the call ended when Twilio says it did."""
    try:
        reported = parsedate_to_datetime(turn.get("Timestamp"))
    except (TypeError, ValueError):
        return turn
    if reported.tzinfo is None:
        return turn
    return replace(turn, at=reported.astimezone(UTC))


def transfer_status(ctx: Context, turn: Turn) -> Reply:
    """A transfer's child leg moved on (initiated, ringing, in-progress, completed...)."""
    reply = Reply()
    status = turn.get("CallStatus")
    transfer_id = turn.get("t")
    parent = replace(_as_reported(turn), call_sid=parent_call_sid(turn, transfer_id))
    reply.events.append(
        ctx.event(
            parent,
            "transfer_progress",
            f"{turn.call_sid}:{turn.get('SequenceNumber', 'x')}:{status}",
            transfer_id=transfer_id or None,
            leg_call_sid=turn.call_sid,
            status=status or None,
            duration_seconds=turn.number("CallDuration"),
            sip_response_code=turn.get("SipResponseCode") or None,
            timestamp=turn.get("Timestamp") or None,
        )
    )
    return reply


def call_status(ctx: Context, turn: Turn) -> Reply:
    """The end of the inbound call (a number's status callback reports only the end)."""
    reply = Reply()
    status = turn.get("CallStatus")
    sequence = turn.get("SequenceNumber", "final")
    reply.events.append(
        ctx.event(
            _as_reported(turn),
            "call_ended",
            f"{turn.call_sid}:{sequence}:{status}",
            status=status or None,
            final=status in FINAL_STATUSES,
            duration_seconds=turn.number("CallDuration"),
            timestamp=turn.get("Timestamp") or None,
        )
    )
    return reply
