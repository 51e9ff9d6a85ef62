"""Live call state in Redis: what one webhook must know about an earlier one.

- whisper acceptance per transfer (the Dial action needs it to tell connected from declined);
- the callers waiting in each Twilio queue (agents take returns first; positions add up);
- why a caller left a queue (a callback number to collect, or closing time);
- that an agent redirected a call (its interrupted Dial's action is then not a bounce);
- wrong agent PINs per caller, keyed by the caller's pseudonym (never the number), until the
  window passes without another (`ivr.agent`);
- each agent's status (ready, paused with a reason, offline) and since when, and whether a
  paused agent's leg is on hold (`switchboard.presence`);
- each caller's menu choices (what they meant, never what they said), for the console;
- who waits in a queue (visit, language, a bounce's department and cause), each agent's leg
  on the agent line and whether it is idle, and which agent claimed a caller
  (`switchboard.queue_moves`).

Every operation uses the web client's tight timeouts and swallows Redis errors: unknown
state reads as None, and the flow has an answer for None. A webhook never fails on Redis.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import redis

from ivr.call import (
    AgentGone,
    AgentHeld,
    AgentStatusSet,
    AgentTalking,
    AgentWaiting,
    Change,
    LiveView,
    MarkAccepted,
    MenuChoice,
    PinFailed,
    QueueJoin,
    QueueLeave,
    SetLeaveReason,
    Unclaimed,
)
from switchboard import live_feed

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
# Who waits: kept a while after the caller left, so a late lookup still finds the visit.
MEMBER_TTL_SECONDS = 4 * 3600
# An agent's leg: a conversation can be long; `AgentGone` removes it when the agent hangs up.
AGENT_TTL_SECONDS = 4 * 3600
# An idle agent's Dial lasts `seconds` plus Twilio's 5 s buffer before the action asks again.
IDLE_SLACK_SECONDS = 15
# Every agent's status by roster id (ivr.presence): kept until changed, never expiring.
STATUS_KEY = f"{PREFIX}:status"
# The menu choices kept per call: enough for any path through the menus.
MAX_PATH = 10


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

    def view(
        self, *, call_sid: str, transfer_id: str, caller_id: str, at: datetime, agent_id: str = ""
    ) -> LiveView:
        """What the step needs; `agent_id` (a caller in that agent's queue) also reads whether
        the agent is still on the agent line."""
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
            pipe.zcount(f"{PREFIX}:queue:main", at.timestamp() - STALE_MEMBER_SECONDS, "+inf")
            pipe.hgetall(STATUS_KEY)
            pipe.lrange(path_key(call_sid), 0, MAX_PATH - 1)
            if agent_id:
                pipe.get(agent_key(agent_id))
            results = pipe.execute()
            agent_on_line: bool | None = None
            if agent_id:
                *results, leg = results
                agent_on_line = leg is not None and self.idle(_text(leg), at=at)
            *results, path = results
        except redis.RedisError as exc:
            log.warning("live state unreadable, the flow goes on without it: %s", exc)
            self._on_failure(exc)
            return LiveView()
        accepted: bool | None = None
        redirected = False
        if transfer_id:
            raw_accepted, *results = results
            accepted = raw_accepted is not None
        raw_redirected, returns_waiting, leave, pin_failures, main_waiting, statuses = results
        if transfer_id:
            redirected = _interrupted(transfer_id, raw_redirected)
        return LiveView(
            whisper_accepted=accepted,
            returns_waiting=int(returns_waiting),
            leave_reason=leave.decode() if leave else None,
            redirected=redirected,
            pin_failures=int(pin_failures or 0),
            redirect_step=_step(raw_redirected),
            agent_on_line=agent_on_line,
            agent_statuses={
                _text(agent): parse_status(_text(raw)).status for agent, raw in statuses.items()
            },
            main_waiting=int(main_waiting),
            menu_path=tuple(_text(choice) for choice in path),
        )

    def idle(self, agent_call_sid: str, *, at: datetime) -> bool:
        """Whether that agent leg sits idle in `<Dial><Queue>` at `at`. Raises RedisError."""
        until = self._redis.get(idle_key(agent_call_sid))
        try:
            return until is not None and float(_text(until)) >= at.timestamp()
        except ValueError:
            return False

    def current_caller(self, agent_id: str) -> str | None:
        """The CallSid of the caller the agent talks with now (bridged from a queue and not
        back to waiting since), or None. Raises RedisError."""
        leg = self._redis.get(agent_key(agent_id))
        if leg is None:
            return None
        caller = self._redis.get(talking_key(_text(leg)))
        return _text(caller) if caller is not None else None

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
            case QueueJoin(queue=queue, call_sid=call_sid, visit=visit):
                pipe.zadd(f"{PREFIX}:queue:{queue}", {call_sid: at.timestamp()})
                if visit:  # the join itself (not a waitUrl's refresh): who waits
                    fields = {
                        "queue": queue,
                        "visit": visit,
                        "language": change.language,
                        "joined": str(at.timestamp()),
                        "caller": change.caller_id,
                        "department": change.department or "",
                        "cause": change.cause or "",
                        "path": "|".join(change.path),
                    }
                    pipe.delete(member_key(call_sid))
                    pipe.hset(member_key(call_sid), mapping=cast(Any, fields))
                    pipe.expire(member_key(call_sid), MEMBER_TTL_SECONDS)
                    # The console's delta, in the same round trip (switchboard.live_feed).
                    delta = live_feed.waiting_caller(call_sid, fields)
                    live_feed.stage(pipe, "join", delta, at=at)
            case QueueLeave(queue=queue, call_sid=call_sid):
                pipe.zrem(f"{PREFIX}:queue:{queue}", call_sid)
                live_feed.stage(pipe, "leave", {"call_sid": call_sid, "queue": queue}, at=at)
            case AgentWaiting(agent_id=agent_id, call_sid=call_sid, seconds=seconds):
                pipe.delete(held_key(call_sid))
                pipe.set(agent_key(agent_id), call_sid.encode(), ex=AGENT_TTL_SECONDS)
                pipe.delete(talking_key(call_sid))
                # The deadline is in the value, read against the request's clock (as queue
                # members' staleness is); the TTL only cleans up.
                until = at.timestamp() + seconds + IDLE_SLACK_SECONDS
                pipe.set(idle_key(call_sid), str(until).encode(), ex=seconds + IDLE_SLACK_SECONDS)
            case AgentTalking(call_sid=call_sid, caller_sid=caller_sid):
                pipe.delete(idle_key(call_sid))
                if caller_sid:
                    pipe.set(talking_key(call_sid), caller_sid.encode(), ex=AGENT_TTL_SECONDS)
            case Unclaimed(call_sid=call_sid):
                pipe.delete(claim_key(call_sid))
            case AgentGone(agent_id=agent_id, call_sid=call_sid):
                pipe.delete(idle_key(call_sid))
                pipe.delete(talking_key(call_sid))
                pipe.delete(held_key(call_sid))
                pipe.delete(agent_key(agent_id))
            case AgentStatusSet(agent_id=agent_id, status=status, reason=reason):
                record = AgentStatus(status=status, reason=reason, since=at.timestamp())
                pipe.hset(STATUS_KEY, agent_id, record.encode())
            case AgentHeld(call_sid=call_sid, seconds=seconds):
                pipe.set(held_key(call_sid), b"1", ex=seconds)
            case MenuChoice(call_sid=call_sid, choice=choice):
                pipe.rpush(path_key(call_sid), choice.encode())
                pipe.ltrim(path_key(call_sid), -MAX_PATH, -1)
                pipe.expire(path_key(call_sid), MEMBER_TTL_SECONDS)
            case SetLeaveReason(call_sid=call_sid, reason=reason):
                pipe.set(f"{PREFIX}:leave:{call_sid}", reason.encode(), ex=LEAVE_TTL_SECONDS)
            case PinFailed(caller_id=caller_id, window_seconds=window):
                # Each failure restarts the window: the count lasts until `window` passes
                # without one, so any `max_failures` within a window always add up.
                pipe.incr(_pin_key(caller_id))
                pipe.expire(_pin_key(caller_id), window)


@dataclass(frozen=True)
class AgentStatus:
    """One agent's status as kept in `STATUS_KEY`: the status, a pause's reason, and since
    when (seconds since the epoch)."""

    status: str
    reason: str | None = None
    since: float | None = None

    def encode(self) -> bytes:
        fields = {"status": self.status, "reason": self.reason, "since": self.since}
        return json.dumps(fields).encode()


def parse_status(raw: str) -> AgentStatus:
    try:
        fields = json.loads(raw)
        return AgentStatus(
            status=str(fields["status"]),
            reason=fields.get("reason"),
            since=float(fields["since"]) if fields.get("since") is not None else None,
        )
    except (ValueError, KeyError, TypeError):
        return AgentStatus(status="offline")


def member_key(call_sid: str) -> str:
    return f"{PREFIX}:member:{call_sid}"


def path_key(call_sid: str) -> str:
    """The caller's menu choices (`ivr.call.MenuChoice`), oldest first."""
    return f"{PREFIX}:path:{call_sid}"


def agent_key(agent_id: str) -> str:
    """The agent's leg on the agent line (its CallSid)."""
    return f"{PREFIX}:agent:{agent_id}"


def held_key(agent_call_sid: str) -> str:
    """Present while that agent leg is on hold because its agent is paused (ivr.presence)."""
    return f"{PREFIX}:held:{agent_call_sid}"


def idle_key(agent_call_sid: str) -> str:
    """Present while that agent leg sits idle in `<Dial><Queue>`."""
    return f"{PREFIX}:idle:{agent_call_sid}"


def talking_key(agent_call_sid: str) -> str:
    """The CallSid of the caller that agent leg talks with, since the caller was bridged."""
    return f"{PREFIX}:talking:{agent_call_sid}"


def claim_key(call_sid: str) -> str:
    """Which agent claimed this waiting caller (switchboard.queue_moves)."""
    return f"{PREFIX}:claim:{call_sid}"


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _step(marker: bytes | None) -> int | None:
    try:
        return int(marker) if marker is not None else None
    except ValueError:
        return None


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
