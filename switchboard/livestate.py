"""Live call state in Redis: what one webhook must know about an earlier one.

- whisper acceptance per transfer (the Dial action needs it to tell connected from declined);
- the callers waiting in each Twilio queue (agents take returns first; positions add up);
- why a caller left a queue (a callback number to collect, or closing time);
- that an agent redirected a call (its interrupted Dial's action is then not a bounce);
- wrong agent PINs per caller, keyed by the caller's pseudonym (never the number), until the
  window passes without another (`ivr.agent`).

Every operation uses the web client's tight timeouts and swallows Redis errors: unknown
state reads as None, and the flow has an answer for None. A webhook never fails on Redis.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

import redis

from ivr.call import (
    Change,
    LiveView,
    MarkAccepted,
    PinFailed,
    QueueJoin,
    QueueLeave,
    SetLeaveReason,
)

log = logging.getLogger(__name__)

PREFIX = "sb:live"
TRANSFER_TTL_SECONDS = 24 * 3600
LEAVE_TTL_SECONDS = 3600
# The interrupted Dial's action follows the redirect within seconds; the marker only has to
# outlive that (and Twilio's retries), and the step check below makes it exact meanwhile.
REDIRECT_TTL_SECONDS = 900
# A waiting caller's waitUrl is fetched every ~40 s; a member unseen for longer than this
# has left without us hearing of it (a lost Enqueue action), and no longer counts.
STALE_MEMBER_SECONDS = 150


class LiveState:
    def __init__(
        self,
        client: redis.Redis,
        *,
        available: Callable[[], bool] = lambda: True,
        on_failure: Callable[[Exception], None] = lambda _exc: None,
    ) -> None:
        # `available` is the event log's circuit breaker: while it is open, Redis is known to
        # be down, and a webhook should not pay a timeout for live state either.
        self._redis = client
        self._available = available
        self._on_failure = on_failure

    def view(self, *, call_sid: str, transfer_id: str, caller_id: str, at: datetime) -> LiveView:
        if not self._available():
            return LiveView()
        try:
            pipe = self._redis.pipeline(transaction=False)
            if transfer_id:
                pipe.get(f"{PREFIX}:transfer:{transfer_id}:accepted")
                pipe.get(f"{PREFIX}:call:{call_sid}:redirected")
            pipe.zcount(f"{PREFIX}:queue:returns", at.timestamp() - STALE_MEMBER_SECONDS, "+inf")
            pipe.get(f"{PREFIX}:leave:{call_sid}")
            pipe.get(_pin_key(caller_id))
            results = pipe.execute()
        except redis.RedisError as exc:
            log.warning("live state unreadable, the flow goes on without it: %s", exc)
            self._on_failure(exc)
            return LiveView()
        accepted: bool | None = None
        redirected = False
        if transfer_id:
            raw_accepted, raw_redirected, *results = results
            accepted = raw_accepted is not None
            redirected = _interrupted(transfer_id, raw_redirected)
        returns_waiting, leave, pin_failures = results
        return LiveView(
            whisper_accepted=accepted,
            returns_waiting=int(returns_waiting),
            leave_reason=leave.decode() if leave else None,
            redirected=redirected,
            pin_failures=int(pin_failures or 0),
        )

    def apply(self, changes: list[Change], *, at: datetime) -> None:
        if not changes or not self._available():
            return
        try:
            pipe = self._redis.pipeline(transaction=False)
            for change in changes:
                self._stage(pipe, change, at=at)
            pipe.execute()
        except redis.RedisError as exc:
            log.warning("live state not updated (%d changes): %s", len(changes), exc)
            self._on_failure(exc)

    def mark_redirected(self, call_sid: str, *, step: int) -> None:
        """Set before an agent redirects a live call to `step`; raises when Redis fails.

        Keyed by the call, because the agent does not know which transfer (if any) the call
        is in. A transfer of an earlier step is the one the redirect interrupts: its Dial
        action still comes (docs/twilio.md) and is not a bounce. The transfer the
        redirect starts has step `step` itself, so its own result still counts.
        """
        self._redis.set(
            f"{PREFIX}:call:{call_sid}:redirected", str(step).encode(), ex=REDIRECT_TTL_SECONDS
        )

    @staticmethod
    def _stage(pipe: redis.client.Pipeline, change: Change, *, at: datetime) -> None:
        match change:
            case MarkAccepted(transfer_id=transfer_id):
                pipe.set(f"{PREFIX}:transfer:{transfer_id}:accepted", b"1", ex=TRANSFER_TTL_SECONDS)
            case QueueJoin(queue=queue, call_sid=call_sid):
                pipe.zadd(f"{PREFIX}:queue:{queue}", {call_sid: at.timestamp()})
            case QueueLeave(queue=queue, call_sid=call_sid):
                pipe.zrem(f"{PREFIX}:queue:{queue}", call_sid)
            case SetLeaveReason(call_sid=call_sid, reason=reason):
                pipe.set(f"{PREFIX}:leave:{call_sid}", reason.encode(), ex=LEAVE_TTL_SECONDS)
            case PinFailed(caller_id=caller_id, window_seconds=window):
                # Each failure restarts the window: the count lasts until `window` passes
                # without one, so any `max_failures` within a window always add up.
                pipe.incr(_pin_key(caller_id))
                pipe.expire(_pin_key(caller_id), window)


def _pin_key(caller_id: str) -> str:
    return f"{PREFIX}:pin:{caller_id}"


def _interrupted(transfer_id: str, marker: bytes | None) -> bool:
    """Whether a redirect to the step in `marker` came after transfer `transfer_id` began."""
    if marker is None:
        return False
    try:
        return int(transfer_id.rpartition(".")[2]) < int(marker)
    except ValueError:
        return True  # a transfer id we cannot read: trust the marker
