"""Moving waiting callers to an agent's own queue: the claim in Redis and the REST calls.

The TwiML and the words are decided in `ivr.handover`; this module does the I/O:

- **the claim**: `SET NX` on `sb:live:claim:<caller CallSid>` with the agent's id, for
  `CLAIM_TTL_SECONDS`. Whoever sets it moves the caller; anyone else is refused. The agent line
  (`take_return`, through `ivr.call.Context.mover`) and the API (`take`) use the same claim, so
  two agents never both get one caller;
- **the move**: the caller's queue member is updated with a `Url` (docs/twilio.md, Queues),
  which needs the queue's SID: Twilio lists queues but does not look them up by name, so the
  list is read once and kept (`QueueSids`);
- **the agent**: the API redirects the agent's idle leg (`calls(sid).update(url=…)`), after
  marking the redirect in live state so the interrupted Dial's action claims nothing.

On the agent line every failure has an answer: nobody left to claim, or Redis failing (the web
client's tight timeouts), means the main queue; Twilio failing (the webhook client gives up
after `MOVE_TIMEOUT_SECONDS`) raises `MoveFailed`, and the agent dials the returns queue, where
the caller still waits. The API
reports failures instead (`TakeRefused`), with the claim released.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import redis
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from ivr.call import TWILIO_QUEUES, MoveFailed, QueueName, Waiting
from ivr.config import LANGUAGES, Language
from switchboard.livestate import (
    PREFIX,
    STALE_MEMBER_SECONDS,
    LiveState,
    agent_key,
    claim_key,
    member_key,
)

log = logging.getLogger(__name__)

CLAIM_TTL_SECONDS = 300
# The agent line waits on these REST calls; Twilio waits at most 15 s for the webhook.
MOVE_TIMEOUT_SECONDS = 4.0
NOT_FOUND = 20404


@dataclass(frozen=True)
class TakeRefused(Exception):
    """Why the API could not hand the caller over: an HTTP status, a code and a message."""

    status: int
    error: str
    message: str


class NotInQueue(Exception):
    """Twilio does not have the caller in that queue (any more)."""


class QueueSids:
    """Queue SIDs by name, read from Twilio's queue list and kept (a queue's SID never
    changes while it exists; a 404 forgets it)."""

    def __init__(self, client: Client) -> None:
        self._client = client
        self._sids: dict[str, str] = {}

    def get(self, name: str) -> str | None:
        if name not in self._sids:
            for queue in self._client.queues.list(page_size=100):
                self._sids[queue.friendly_name] = queue.sid
        return self._sids.get(name)

    def forget(self, name: str) -> None:
        self._sids.pop(name, None)


def _language(value: str) -> Language:
    return next((lang for lang in LANGUAGES if lang == value), "nn")


def _queue_name(value: str) -> QueueName | None:
    return next((name for name in TWILIO_QUEUES if name == value), None)


class QueueMoves:
    def __init__(self, client: redis.Redis, twilio: Client, *, live: LiveState) -> None:
        self._redis = client
        self._twilio = twilio
        self._live = live
        self.sids = QueueSids(twilio)

    # --- what live state knows ---------------------------------------------------------------

    def waiting(self, call_sid: str, *, at: datetime) -> Waiting | None:
        """The caller, if live state has them waiting in a switchboard queue now."""
        raw = self._redis.hgetall(member_key(call_sid))
        fields = {_text(k): _text(v) for k, v in raw.items()}
        queue = _queue_name(fields.get("queue", ""))
        if queue is None:
            return None
        seen = self._redis.zscore(f"{PREFIX}:queue:{queue}", call_sid)
        if seen is None or seen < at.timestamp() - STALE_MEMBER_SECONDS:
            return None
        return Waiting(
            call_sid=call_sid,
            queue=queue,
            visit=fields.get("visit", ""),
            language=_language(fields.get("language", "")),
            joined_at=float(fields.get("joined") or seen),
            caller_id=fields.get("caller", ""),
            department=fields.get("department") or None,
            cause=fields.get("cause") or None,
        )

    def returns_waiting(self, *, at: datetime) -> list[Waiting]:
        """Returned callers waiting now, the longest-waiting first."""
        sids = self._redis.zrangebyscore(
            f"{PREFIX}:queue:returns", at.timestamp() - STALE_MEMBER_SECONDS, "+inf"
        )
        found = [self.waiting(_text(sid), at=at) for sid in sids]
        return sorted((w for w in found if w is not None), key=lambda w: w.joined_at)

    def idle_leg(self, agent_id: str, *, at: datetime) -> str | None:
        """The agent's leg on the agent line, if it sits idle in `<Dial><Queue>`."""
        raw = self._redis.get(agent_key(agent_id))
        leg = _text(raw) if raw is not None else None
        if leg is None or not self._live.idle(leg, at=at):
            return None
        return leg

    # --- the claim ----------------------------------------------------------------------------

    def claim(self, call_sid: str, agent_id: str) -> bool:
        claimed = self._redis.set(
            claim_key(call_sid), agent_id.encode(), nx=True, ex=CLAIM_TTL_SECONDS
        )
        return bool(claimed)

    def release(self, call_sid: str) -> None:
        try:
            self._redis.delete(claim_key(call_sid))
        except redis.RedisError as exc:  # it expires by itself
            log.warning("claim on %s not released: %s", call_sid, exc)

    # --- Twilio ---------------------------------------------------------------------------------

    def move(self, waiting: Waiting, url: str) -> None:
        """Update the caller's member in `queue_name` (default: their switchboard queue) with
        `url`. Raises NotInQueue, TwilioRestException or another error from the client."""
        name = TWILIO_QUEUES[waiting.queue]
        sid = self.sids.get(name)
        if sid is None:
            raise NotInQueue(f"Twilio has no queue {name!r}")
        try:
            self._twilio.queues(sid).members(waiting.call_sid).update(url=url, method="POST")
        except TwilioRestException as exc:
            if exc.status == 404 or exc.code == NOT_FOUND:
                self.sids.forget(name)
                raise NotInQueue(f"{waiting.call_sid} is not in {name!r}") from None
            raise
        # Out of the switchboard queue now, not only when Twilio fetches `url` (whose step
        # does the same): a Redis failure here must not undo a move Twilio has made.
        self._forget(waiting)

    # --- the agent line: the longest-waiting unclaimed return --------------------------------

    def take_return(
        self, *, agent_id: str, at: datetime, move_url: Callable[[Waiting], str]
    ) -> Waiting | None:
        """Claim and move the longest-waiting unclaimed returned caller to the agent's queue;
        None when there is nobody left, or anything failed (the agent takes the main queue)."""
        try:
            candidates = self.returns_waiting(at=at)
        except redis.RedisError as exc:
            log.warning("agent line: returns unreadable, main queue instead: %s", exc)
            return None
        for waiting in candidates:
            try:
                if not self.claim(waiting.call_sid, agent_id):
                    continue  # another agent has them
                self.move(waiting, move_url(waiting))
            except NotInQueue:
                self._forget(waiting)
                continue  # gone meanwhile: the next one
            except redis.RedisError as exc:  # never fail the agent's webhook
                log.warning("agent line: live state failed, main queue instead: %s", exc)
                self.release(waiting.call_sid)
                return None
            except Exception as exc:  # Twilio refused or did not answer: they stay put
                log.warning("agent line: Twilio did not move %s (%s)", waiting.call_sid, exc)
                self.release(waiting.call_sid)
                raise MoveFailed(str(exc)) from None
            log.info("agent line: %s takes returned caller %s", agent_id, waiting.call_sid)
            return waiting
        return None

    def _forget(self, waiting: Waiting) -> None:
        try:
            self._redis.zrem(f"{PREFIX}:queue:{waiting.queue}", waiting.call_sid)
        except redis.RedisError:
            pass

    # --- the API: a chosen caller --------------------------------------------------------------

    def take(
        self,
        call_sid: str,
        *,
        agent_id: str,
        at: datetime,
        step: int,
        move_url: Callable[[Waiting], str],
        back_url: Callable[[Waiting], str],
        agent_url: Callable[[Waiting], str],
    ) -> Waiting:
        """Hand the caller `call_sid` to the agent: claim, move the caller, redirect the agent.
        Raises TakeRefused; after a refusal nobody has moved and the claim is released."""
        try:
            leg = self.idle_leg(agent_id, at=at)
            if leg is None:
                raise TakeRefused(
                    409,
                    "agent_not_connected",
                    "you have no idle line: call the agent line first, or finish your call",
                )
            if not self.claim(call_sid, agent_id):
                raise TakeRefused(409, "already_taken", "another agent has taken this caller")
            waiting = self.waiting(call_sid, at=at)
        except redis.RedisError as exc:
            log.warning("take %s: live state unavailable (%s)", call_sid, exc)
            raise TakeRefused(
                503, "live_state_unavailable", "live state (Redis) does not answer; nothing done"
            ) from None
        if waiting is None:
            self.release(call_sid)
            raise TakeRefused(409, "not_waiting", "the caller is no longer waiting in a queue")
        try:
            self.move(waiting, move_url(waiting))
        except NotInQueue:
            self.release(call_sid)
            self._forget(waiting)
            raise TakeRefused(
                409, "not_waiting", "the caller is no longer waiting in a queue"
            ) from None
        except Exception as exc:
            self.release(call_sid)
            log.warning("take %s: the caller was not moved (%s)", call_sid, exc)
            raise TakeRefused(
                502, "twilio_error", f"Twilio did not move the caller ({_describe(exc)})"
            ) from None
        try:
            self._live.mark_redirected(leg, step=step)
            self._twilio.calls(leg).update(url=agent_url(waiting), method="POST")
        except Exception as exc:
            log.warning("take %s: agent leg %s not redirected (%s)", call_sid, leg, exc)
            self._move_back(waiting, back_url(waiting))
            self.release(call_sid)
            raise TakeRefused(
                502,
                "twilio_error",
                f"Twilio did not redirect your line ({_describe(exc)}); the caller is back in "
                "the queue",
            ) from None
        return waiting

    def _move_back(self, waiting: Waiting, url: str) -> None:
        """Back into the switchboard queue, same visit. A redirect of the call, not a member
        update: the caller may not have reached the agent's queue yet (Twilio runs the move's
        URL after answering the REST request), and a call redirect finds them wherever."""
        try:
            self._twilio.calls(waiting.call_sid).update(url=url, method="POST")
        except Exception as exc:  # left in the agent's queue: the agent's next Dial takes them
            log.error(
                "caller %s not moved back to the %s queue: %s", waiting.call_sid, waiting.queue, exc
            )


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _describe(exc: Exception) -> str:
    if isinstance(exc, TwilioRestException):
        return f"HTTP {exc.status}, error {exc.code}"
    return "no usable answer"
