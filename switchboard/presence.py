"""Agent status in live state, and what a change does to the agent's line (`ivr.presence`).

Statuses live in one Redis hash, `sb:live:status`, a field per roster id holding
`{"status", "reason", "since"}`. A change from the console (`change`) is written there, then
the agent's line follows it through Twilio's REST API (docs/twilio.md, "Modifying live calls"):

- **paused** while the line sits idle in `<Dial><Queue>`: redirected to `/twilio/agent/paused`,
  which holds it without a queue, so no caller is bridged;
- **offline** while idle or held: redirected to `/twilio/agent/off`, which hangs up;
- **ready** while held: redirected to `/twilio/agent/paused`, which now connects it.

A line in a conversation is never redirected: the agent line reads the status when the
conversation ends (`ivr.agent.connect`). The redirect is marked in live state first, so the
interrupted Dial's action (which Twilio still requests) does nothing. Without a Twilio account
nothing is redirected; an idle Dial ends within its timeout and a held line loops within
`ivr.presence.HOLD_SECONDS`, and either then follows the status.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import redis
from twilio.rest import Client

from ivr.call import Context
from switchboard.livestate import (
    STATUS_KEY,
    AgentStatus,
    LiveState,
    agent_key,
    held_key,
    parse_status,
)

log = logging.getLogger(__name__)


Line = Literal["paused", "off", "connected"]
# Where each move sends the agent's line.
PATHS: dict[Line, str] = {
    "paused": "/twilio/agent/paused",
    "off": "/twilio/agent/off",
    "connected": "/twilio/agent/paused",  # ready now: the hold step connects the agent
}


@dataclass(frozen=True)
class Change:
    """What a status change did: the agent's status before, and where their line went."""

    before: AgentStatus
    line: Line | None  # None: not on the agent line, in a conversation, or not redirected


class Presence:
    def __init__(self, client: redis.Redis, live: LiveState, twilio: Client | None) -> None:
        self._redis = client
        self._live = live
        self._twilio = twilio

    def statuses(self) -> dict[str, AgentStatus]:
        """Every agent's status by roster id; agents with none are absent. Raises RedisError."""
        raw = self._redis.hgetall(STATUS_KEY)
        return {_text(agent): parse_status(_text(value)) for agent, value in raw.items()}

    def connected(self, agent_id: str) -> bool:
        """Whether the agent has a leg on the agent line. Raises RedisError."""
        return bool(self._redis.exists(agent_key(agent_id)))

    def change(self, ctx: Context, *, agent_id: str, status: AgentStatus, at: datetime) -> Change:
        """Set the status, then move the agent's line to follow it. Raises RedisError."""
        before = self.statuses().get(agent_id, AgentStatus(status="offline"))
        self._redis.hset(STATUS_KEY, agent_id, status.encode())
        raw = self._redis.get(agent_key(agent_id))
        leg = _text(raw) if raw is not None else None
        line = self._line(leg, status.status, at=at) if leg is not None else None
        if leg is None or line is None or self._twilio is None:
            return Change(before=before, line=None)
        step = int(at.timestamp() * 1000)
        lang = ctx.config.municipality.default_language
        url = ctx.url(PATHS[line], lang=lang, s=step)
        try:
            self._live.mark_redirected(leg, step=step)
            self._twilio.calls(leg).update(url=url, method="POST")
        except Exception as exc:  # the line follows at its next loop or Dial timeout
            log.warning("agent %s: line %s not redirected to %s (%s)", agent_id, leg, url, exc)
            return Change(before=before, line=None)
        return Change(before=before, line=line)

    def _line(self, leg: str, status: str, *, at: datetime) -> Line | None:
        """Where the agent's leg must go for `status`, if anywhere. Raises RedisError."""
        idle = self._live.idle(leg, at=at)
        held = bool(self._redis.exists(held_key(leg)))
        if status == "paused" and idle:
            return "paused"
        if status == "offline" and (idle or held):
            return "off"
        if status == "ready" and held:
            return "connected"
        return None


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
