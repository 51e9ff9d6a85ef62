"""The agent side: an agent's phone or SIP client calls the agent URL and takes the next
caller, returned callers first (see `ivr.queue` for why two queues).

The agent is checked against the configured allowlist, and against a PIN when one is set.
After each conversation, or when the idle Dial times out, the Dial action asks again, so an
agent stays ready until they hang up.
"""

from __future__ import annotations

from twilio.twiml.voice_response import Dial, Gather

from ivr.call import TWILIO_QUEUES, Context, QueueName, Reply, Turn
from ivr.prompts import say


def is_agent(ctx: Context, caller: str) -> bool:
    return caller in ctx.config.switchboard.agents.numbers


def _deny(ctx: Context, reply: Reply) -> Reply:
    lang = ctx.config.municipality.default_language
    ctx.speak(reply.twiml, say("agent_denied", lang), lang)
    reply.twiml.hangup()
    return reply


def agent_entry(ctx: Context, turn: Turn) -> Reply:
    reply = Reply()
    if not is_agent(ctx, turn.caller):
        return _deny(ctx, reply)
    pin = ctx.config.switchboard.agents.pin
    if pin is None:
        connect(ctx, turn, reply)
        return reply
    lang = ctx.config.municipality.default_language
    action = ctx.url("/twilio/agent/pin", turn)
    gather = Gather(input="dtmf", num_digits=len(pin), timeout=8, action=action)
    ctx.speak(gather, say("agent_pin", lang), lang)
    reply.twiml.append(gather)
    reply.twiml.redirect(action)
    return reply


def agent_pin(ctx: Context, turn: Turn) -> Reply:
    reply = Reply()
    pin = ctx.config.switchboard.agents.pin
    if not is_agent(ctx, turn.caller):
        return _deny(ctx, reply)
    if pin is not None and turn.get("Digits") != pin:
        lang = ctx.config.municipality.default_language
        ctx.speak(reply.twiml, say("agent_wrong_pin", lang), lang)
        reply.twiml.hangup()
        return reply
    connect(ctx, turn, reply)
    return reply


def agent_next(ctx: Context, turn: Turn) -> Reply:
    """The agent's Dial action: after a conversation or an idle timeout, take the next one."""
    reply = Reply()
    if not is_agent(ctx, turn.caller):
        return _deny(ctx, reply)
    if turn.get("CallStatus") in {"completed", "canceled"}:
        return reply  # the agent hung up
    connect(ctx, turn, reply)
    return reply


def connect(ctx: Context, turn: Turn, reply: Reply) -> None:
    lang = ctx.config.municipality.default_language
    queue: QueueName = "returns" if turn.live.returns_waiting else "main"
    if queue == "returns":
        ctx.speak(reply.twiml, say("agent_returns_first", lang), lang)
    dial = Dial(
        action=ctx.url("/twilio/agent/next", turn),
        timeout=ctx.config.switchboard.agents.idle_dial_seconds,
        # * ends the conversation but keeps the agent on the line for the next caller.
        hangup_on_star=True,
    )
    dial.queue(TWILIO_QUEUES[queue], url=ctx.url("/twilio/queue/answered", q=queue))
    reply.twiml.append(dial)
