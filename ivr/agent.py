"""The agent side: an agent's phone or Twilio Client calls the agent URL and takes the next
caller, returned callers first (see `ivr.queue` for why two queues).

Who gets in is the roster's business (`ivr.roster`): a Twilio Client identity by its `From`
alone; a phone agent by its number and then its PIN, checked by `Context.pin_matches` against
the agent's `pin_hash`. A phone agent without a `pin_hash` gets in by caller ID alone, which
anyone can forge: development allows it, production refuses to start (`open_by_caller_id`).

Wrong PINs: `pin_limits.attempts_per_call` tries per call, then a hang-up; each wrong PIN is a
`PinFailed` change, counted per caller pseudonym in live state. Once a caller has
`max_failures` there, every call from them hears a refusal and is hung up, even with the right
PIN, until the window has passed. When live state cannot tell (`pin_failures` is None: Redis is
down), the PIN is still checked and the per-call limit still holds, but nothing is counted:
agents keep working through a Redis outage, and a guesser still gets only a few tries a call.

After each conversation, or when the idle Dial times out, the Dial action asks again, so an
agent stays ready until they hang up.

Returned callers first, without a race: when one waits, `connect` has the context's mover
(`switchboard.queue_moves`) claim the longest-waiting unclaimed one for this agent and move
them to the agent's own queue (`ivr.handover`); the agent hears the department and cause and
dials that queue. When nobody is left to claim (another agent got them), the agent dials the
main queue: never an empty returns queue. When Twilio does not move the caller (an error, no
answer), the caller is still in the returns queue, unclaimed, and the agent dials it as before:
the main queue would leave returned callers unserved for as long as Twilio's REST API is down.
Without a mover (no Twilio account, as in development) the agent dials the returns queue.

Status (`ivr.presence`): getting in makes an agent ready unless they are paused; a paused agent
is held without a queue, so nobody is bridged to them; an offline agent is logged off the line
after their conversation; hanging up makes them offline.
"""

from __future__ import annotations

from twilio.twiml.voice_response import Dial, Gather

from ivr import handover, presence
from ivr.call import (
    TWILIO_QUEUES,
    AgentGone,
    AgentWaiting,
    Context,
    MoveFailed,
    PinFailed,
    QueueName,
    Reply,
    Turn,
)
from ivr.config import Config
from ivr.prompts import say


def open_by_caller_id(config: Config) -> list[str]:
    """The ids of the agents who get in by caller ID alone: phone agents without a pin_hash."""
    agents = config.switchboard.agents.roster
    return [a.id for a in agents if a.number is not None and a.pin_hash is None]


def _refuse(ctx: Context, reply: Reply, prompt_id: str) -> Reply:
    lang = ctx.config.municipality.default_language
    ctx.speak(reply.twiml, say(prompt_id, lang), lang)
    reply.twiml.hangup()
    return reply


def _locked_out(ctx: Context, turn: Turn) -> bool:
    failures = turn.live.pin_failures  # None: live state cannot tell, so nobody is locked out
    limit = ctx.config.switchboard.agents.pin_limits.max_failures
    return failures is not None and failures >= limit


def _ask_pin(ctx: Context, turn: Turn, reply: Reply, *, attempt: int) -> None:
    lang = ctx.config.municipality.default_language
    action = ctx.url("/twilio/agent/pin", turn, n=attempt)
    # No numDigits: PINs differ in length, so the agent ends with # (or the timeout does).
    gather = Gather(input="dtmf", finish_on_key="#", timeout=8, action=action)
    ctx.speak(gather, say("agent_pin", lang), lang)
    reply.twiml.append(gather)
    reply.twiml.redirect(action)  # silence: the same step, with no Digits


def agent_entry(ctx: Context, turn: Turn) -> Reply:
    reply = Reply()
    agent = ctx.config.switchboard.agents.find(turn.caller)
    if agent is None:
        return _refuse(ctx, reply, "agent_denied")
    if agent.pin_hash is None:
        connect(ctx, turn, reply, arriving=True)
        return reply
    if _locked_out(ctx, turn):
        return _refuse(ctx, reply, "agent_locked_out")
    _ask_pin(ctx, turn, reply, attempt=1)
    return reply


def agent_pin(ctx: Context, turn: Turn) -> Reply:
    """The PIN Gather's action: connect on the right PIN, else count it and ask again."""
    reply = Reply()
    agent = ctx.config.switchboard.agents.find(turn.caller)
    if agent is None:
        return _refuse(ctx, reply, "agent_denied")
    if agent.pin_hash is None:
        connect(ctx, turn, reply, arriving=True)
        return reply
    if _locked_out(ctx, turn):
        return _refuse(ctx, reply, "agent_locked_out")  # before the PIN is even looked at
    digits = turn.get("Digits")
    if digits and ctx.pin_matches(agent.pin_hash, digits):
        connect(ctx, turn, reply, arriving=True)
        return reply
    return _wrong_pin(ctx, turn, reply, counted=bool(digits))


def _wrong_pin(ctx: Context, turn: Turn, reply: Reply, *, counted: bool) -> Reply:
    """A wrong PIN (`counted`) or none at all: either way one of the call's attempts."""
    limits = ctx.config.switchboard.agents.pin_limits
    lang = ctx.config.municipality.default_language
    if counted:
        reply.changes.append(PinFailed(turn.caller_id, window_seconds=limits.window_minutes * 60))
        ctx.speak(reply.twiml, say("agent_wrong_pin", lang), lang)
        failures = turn.live.pin_failures
        if failures is not None and failures + 1 >= limits.max_failures:
            return _refuse(ctx, reply, "agent_locked_out")
    attempt = max(1, turn.number("n", 1))
    if attempt >= limits.attempts_per_call:
        return _refuse(ctx, reply, "agent_pin_attempts_used")
    _ask_pin(ctx, turn, reply, attempt=attempt + 1)
    return reply


def agent_next(ctx: Context, turn: Turn) -> Reply:
    """The agent's Dial action: after a conversation or an idle timeout, take the next one.

    Only Twilio fetches this URL, and only from the TwiML `connect` returned after the agent
    got in (requests are signed), so it checks the roster but does not ask for the PIN again.
    """
    reply = Reply()
    agent = ctx.config.switchboard.agents.find(turn.caller)
    if agent is None:
        return _refuse(ctx, reply, "agent_denied")
    if turn.get("CallStatus") in {"completed", "canceled"}:
        reply.changes.append(AgentGone(agent_id=agent.id, call_sid=turn.call_sid))
        if presence.status_of(turn, agent.id) != "offline":
            presence.set_status(turn, reply, agent_id=agent.id, status="offline")
        return reply  # the agent hung up
    redirected = turn.live.redirect_step
    if redirected is not None and turn.step < redirected:
        # The Dial an API redirect interrupted (ivr.handover): Twilio ignores this answer,
        # and the agent's leg is already taking the chosen caller. Claim nothing here.
        return reply
    connect(ctx, turn, reply)
    return reply


def agent_paused(ctx: Context, turn: Turn) -> Reply:
    """A paused agent's hold loop (and where the console redirects a line on pause or on
    ready again): held while paused, connected once ready, logged off when offline."""
    reply = Reply()
    agent = ctx.config.switchboard.agents.find(turn.caller)
    if agent is None:
        return _refuse(ctx, reply, "agent_denied")
    redirected = turn.live.redirect_step
    if redirected is not None and turn.step < redirected:
        return reply  # a loop the console's redirect interrupted: Twilio ignores this answer
    connect(ctx, turn, reply)
    return reply


def agent_ready(ctx: Context, turn: Turn) -> Reply:
    """The paused agent's Gather: 1 makes them ready and connects them."""
    reply = Reply()
    agent = ctx.config.switchboard.agents.find(turn.caller)
    if agent is None:
        return _refuse(ctx, reply, "agent_denied")
    if turn.get("Digits").strip()[:1] == "1":
        presence.set_status(turn, reply, agent_id=agent.id, status="ready")
        connect(ctx, turn, reply, status="ready")
    else:
        connect(ctx, turn, reply)
    return reply


def agent_off(ctx: Context, turn: Turn) -> Reply:
    """Where the console redirects a line when the agent goes offline."""
    reply = Reply()
    agent = ctx.config.switchboard.agents.find(turn.caller)
    if agent is None:
        return _refuse(ctx, reply, "agent_denied")
    presence.log_off(ctx, turn, reply, agent_id=agent.id)
    return reply


def connect(
    ctx: Context, turn: Turn, reply: Reply, *, arriving: bool = False, status: str | None = None
) -> None:
    """The agent line's dial decision. `arriving`: the agent has just got in (ready unless
    paused); `status`: the agent's status when this very step changed it."""
    lang = ctx.config.municipality.default_language
    agent = ctx.config.switchboard.agents.find(turn.caller)
    assert agent is not None  # every caller of connect has checked the roster
    status = status or presence.status_of(turn, agent.id)
    if status == "paused":
        presence.hold(ctx, turn, reply)
        return  # never a queue: nobody is bridged to a paused agent
    if arriving and turn.live.agent_statuses is not None and status != "ready":
        presence.set_status(turn, reply, agent_id=agent.id, status="ready")
    elif status == "offline":
        presence.log_off(ctx, turn, reply, agent_id=agent.id)
        return
    queue: QueueName = "returns" if turn.live.returns_waiting else "main"
    if queue == "returns" and ctx.mover is not None:
        step = int(turn.at.timestamp() * 1000)  # as an API redirect's: never a counted step
        try:
            taken = ctx.mover.take_return(
                agent_id=agent.id,
                at=turn.at,
                move_url=lambda waiting: handover.move_url(ctx, waiting, agent.id, step=step),
            )
        except MoveFailed:
            taken = None  # the caller still waits in the returns queue: dial it, as before
        else:
            if taken is None:
                queue = "main"  # nobody left to claim: never an empty returns queue
        if taken is not None:
            handover.serve(ctx, turn, reply, agent_id=agent.id, waiting=taken)
            return
    if queue == "returns":
        ctx.speak(reply.twiml, say("agent_returns_first", lang), lang)
    idle = ctx.config.switchboard.agents.idle_dial_seconds
    reply.changes.append(AgentWaiting(agent_id=agent.id, call_sid=turn.call_sid, seconds=idle))
    dial = Dial(
        action=ctx.url("/twilio/agent/next", turn),
        timeout=ctx.config.switchboard.agents.idle_dial_seconds,
        # * ends the conversation but keeps the agent on the line for the next caller.
        hangup_on_star=True,
    )
    dial.queue(TWILIO_QUEUES[queue], url=ctx.url("/twilio/queue/answered", q=queue))
    reply.twiml.append(dial)
