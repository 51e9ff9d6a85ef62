"""Agent status: ready, paused (with a reason) or offline, and what a paused agent's line does.

An agent sets their status in the console (`POST /api/agents/me/status`), and the agent line
sets it too: getting in makes an agent ready (unless they are paused), hanging up makes them
offline, and pressing 1 on hold makes them ready again. Live state keeps it per roster id
(`switchboard.presence`), and the agent line's dial decision (`ivr.agent.connect`) reads it:

- **ready**: the agent dials the queues as before;
- **paused**: the agent is held without a queue, so no caller is ever bridged to them. They hear
  "Du har pause. Trykk 1 når du er klar." between stretches of silence (`hold`);
- **offline**: the agent line says goodbye and hangs up (`log_off`).

The console's change reaches a line that is already in `<Dial><Queue>` through a REST redirect
to `/twilio/agent/paused` or `/twilio/agent/off`; going ready again redirects a held line to
`/twilio/agent/paused`, which (now that the agent is ready) connects them (`ivr.agent`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, get_args

from twilio.twiml.voice_response import Gather

from ivr.call import AgentGone, AgentHeld, AgentStatusSet, Context, Reply, Turn
from ivr.config import Language
from ivr.events import Event

Status = Literal["ready", "paused", "offline"]
STATUSES: tuple[str, ...] = get_args(Status)
PauseReason = Literal["lunch", "meeting", "admin", "other"]
PAUSE_REASONS: tuple[str, ...] = get_args(PauseReason)
# How long a paused agent hears silence before the reminder and the next loop.
HOLD_SECONDS = 30

_WORDS: dict[str, dict[Language, str]] = {
    "agent_paused": {
        "nn": "Du har pause, og får ingen innringarar. Trykk 1 når du er klar.",
        "nb": "Du har pause, og får ingen innringere. Trykk 1 når du er klar.",
        "en": "You are paused and get no callers. Press 1 when you are ready.",
    },
    "agent_logged_off": {
        "nn": "Du er logga av sentralbordlinja. Ha det.",
        "nb": "Du er logget av sentralbordlinjen. Ha det.",
        "en": "You are logged off the switchboard line. Goodbye.",
    },
}


def words(prompt_id: str, language: Language) -> str:
    return _WORDS[prompt_id][language]


def status_of(turn: Turn, agent_id: str) -> str | None:
    """The agent's status as live state knows it; None when it does not (Redis down, or the
    agent has never set one)."""
    statuses = turn.live.agent_statuses
    return None if statuses is None else statuses.get(agent_id)


def status_event(
    *, agent_id: str, status: str, reason: str | None, at: datetime, source: str, key: str
) -> Event:
    """`agent_status_changed` (docs/events.md). Not a caller's event: its call_sid is
    `agent:<roster id>`, which the call projection ignores (there is no call_started)."""
    return Event(
        kind="agent_status_changed",
        call_sid=f"agent:{agent_id}",
        dedupe_key=key,
        at=at,
        data={"agent": agent_id, "status": status, "reason": reason, "source": source},
    )


def set_status(
    turn: Turn, reply: Reply, *, agent_id: str, status: Status, reason: str | None = None
) -> None:
    """The agent line changes the agent's status: the change and its event."""
    reply.changes.append(AgentStatusSet(agent_id=agent_id, status=status, reason=reason))
    reply.events.append(
        status_event(
            agent_id=agent_id,
            status=status,
            reason=reason,
            at=turn.at,
            source="agent_line",
            key=f"{turn.call_sid}:{turn.step}:status:{status}",
        )
    )


def hold(ctx: Context, turn: Turn, reply: Reply) -> None:
    """A paused agent's line: no queue, so nobody is bridged. 1 makes them ready
    (`/twilio/agent/ready`); silence loops here through `/twilio/agent/paused`."""
    lang = ctx.config.municipality.default_language
    reply.changes.append(AgentHeld(call_sid=turn.call_sid, seconds=HOLD_SECONDS + 15))
    gather = Gather(
        input="dtmf",
        num_digits=1,
        timeout=HOLD_SECONDS,
        action=ctx.url("/twilio/agent/ready", turn),
    )
    ctx.speak(gather, words("agent_paused", lang), lang)
    reply.twiml.append(gather)
    reply.twiml.redirect(ctx.url("/twilio/agent/paused", turn))


def log_off(ctx: Context, turn: Turn, reply: Reply, *, agent_id: str) -> None:
    """An offline agent's line says goodbye and hangs up."""
    lang = ctx.config.municipality.default_language
    reply.changes.append(AgentGone(agent_id=agent_id, call_sid=turn.call_sid))
    ctx.speak(reply.twiml, words("agent_logged_off", lang), lang)
    reply.twiml.hangup()
