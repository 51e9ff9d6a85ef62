"""Status callbacks: the end of the inbound call, and the progress of a transfer's child leg.

Twilio sends these asynchronously, possibly twice or out of order (twilio-protocol §5.3); the
dedupe key (CallSid, SequenceNumber, CallStatus) makes a duplicate harmless downstream.
"""

from __future__ import annotations

from ivr.call import Context, Reply, Turn

FINAL_STATUSES = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})


def call_status(ctx: Context, turn: Turn) -> Reply:
    reply = Reply()
    status = turn.get("CallStatus")
    sequence = turn.get("SequenceNumber", "final")
    reply.events.append(
        ctx.event(
            turn,
            "call_ended",
            f"{turn.call_sid}:{sequence}:{status}",
            status=status or None,
            final=status in FINAL_STATUSES,
            duration_seconds=turn.number("CallDuration"),
            timestamp=turn.get("Timestamp") or None,
            parent_call_sid=turn.get("ParentCallSid") or None,
            transfer_id=turn.get("t") or None,
        )
    )
    return reply
