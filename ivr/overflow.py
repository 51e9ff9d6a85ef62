"""Overflow: a new caller is offered a callback or an SMS before joining the main queue, when
nobody could take them soon.

Two reasons (`why`), judged in the switchboard's opening hours only:
- `no_agent_ready`: live state knows agents' statuses, and none of the roster is ready
  (`switchboard.queue.overflow_when_no_agent_ready`, default true);
- `long_wait`: the expected wait passes `switchboard.queue.overflow_wait_seconds` (0: never).
  The expected wait is the one the queue announces (`ivr.queue.wait`): the caller's place (every
  caller waiting in the main and returns queues, plus one) times `seconds_per_position`.

The keys keep the closed menu's meaning: 7 an SMS with the self-service link, 8 a callback;
0, any other key or silence joins the queue anyway. Each offer is an `overflow_offered` event
(docs/events.md), which the web process counts (`switchboard_overflow_offered_total`).
When live state cannot tell (Redis down, or no agent has a status yet), nobody is offered
anything: the caller joins the queue as before.
"""

from __future__ import annotations

from typing import Literal

from twilio.twiml.voice_response import Gather

from ivr import contact, queue
from ivr.call import Context, Reply, Turn
from ivr.config import SWITCHBOARD, Language
from ivr.prompts import minutes, say

Why = Literal["no_agent_ready", "long_wait"]
# The closed menu's keys (Alver: 7 and 8), so a key means the same everywhere.
SMS_KEY = "7"
CALLBACK_KEY = "8"
OFFER_TIMEOUT_SECONDS = 6

_WORDS: dict[Why, dict[Language, str]] = {
    "no_agent_ready": {
        "nn": "Akkurat no er ingen på sentralbordet ledige.",
        "nb": "Akkurat nå er ingen på sentralbordet ledige.",
        "en": "Right now nobody at the switchboard is free.",
    },
    "long_wait": {
        "nn": "Ventetida er no over {minutes}.",
        "nb": "Ventetiden er nå over {minutes}.",
        "en": "The waiting time is now over {minutes}.",
    },
}
_CHOICES: dict[Language, str] = {
    "nn": (
        "Vil du at vi ringjer deg opp att, trykk {callback}. For ei tekstmelding med lenke til "
        "sjølvbetening, trykk {sms}. For å vente i køen, trykk 0."
    ),
    "nb": (
        "Vil du at vi ringer deg tilbake, trykk {callback}. For en tekstmelding med lenke til "
        "selvbetjening, trykk {sms}. For å vente i køen, trykk 0."
    ),
    "en": (
        "To be called back, press {callback}. For a text message with a link to self-service, "
        "press {sms}. To wait in the queue, press 0."
    ),
}


def expected_wait(ctx: Context, turn: Turn) -> int | None:
    """Seconds a new caller can expect to wait, as the queue announces it; None: unknown."""
    live = turn.live
    if live.main_waiting is None or live.returns_waiting is None:
        return None
    position = live.main_waiting + live.returns_waiting + 1
    return position * ctx.config.switchboard.queue.seconds_per_position


def why(ctx: Context, turn: Turn) -> Why | None:
    """Why a new caller should be offered a callback or an SMS first; None: just queue."""
    if not ctx.hours.is_open(SWITCHBOARD, turn.at):
        return None
    statuses = turn.live.agent_statuses
    if statuses and ctx.config.switchboard.queue.overflow_when_no_agent_ready:
        roster = ctx.config.switchboard.agents.roster
        if not any(statuses.get(agent.id) == "ready" for agent in roster):
            return "no_agent_ready"
    limit = ctx.config.switchboard.queue.overflow_wait_seconds
    expected = expected_wait(ctx, turn)
    if limit and expected is not None and expected > limit:
        return "long_wait"
    return None


def join(ctx: Context, turn: Turn, reply: Reply) -> None:
    """A new caller for the main queue: offered a callback or an SMS first when nobody could
    take them soon, else straight into the queue."""
    reason = why(ctx, turn)
    if reason is None:
        queue.enqueue(ctx, turn, reply, queue="main")
        return
    offer(ctx, turn, reply, reason=reason)


def offer(ctx: Context, turn: Turn, reply: Reply, *, reason: Why) -> None:
    lang = turn.language
    expected = expected_wait(ctx, turn)
    reply.events.append(
        ctx.event(
            turn,
            "overflow_offered",
            f"{turn.call_sid}:{turn.step}:overflow",
            why=reason,
            expected_wait_seconds=expected,
            caller=turn.caller_id,
        )
    )
    limit = ctx.config.switchboard.queue.overflow_wait_seconds
    action = ctx.url("/twilio/overflow", turn, why=reason)
    gather = Gather(input="dtmf", num_digits=1, timeout=OFFER_TIMEOUT_SECONDS, action=action)
    ctx.speak(gather, _WORDS[reason][lang].format(minutes=minutes(limit, lang)), lang)
    sms, callback = keys(ctx)
    ctx.speak(gather, _CHOICES[lang].format(sms=sms, callback=callback), lang)
    reply.twiml.append(gather)
    reply.twiml.redirect(action)  # silence: into the queue


def keys(ctx: Context) -> tuple[str, str]:
    """The SMS and the callback keys: the closed menu's, else 7 and 8."""
    menus = ctx.config.menus
    return menus.key_for("sms") or SMS_KEY, menus.key_for("callback") or CALLBACK_KEY


def choice(ctx: Context, turn: Turn) -> Reply:
    """The offer's answer: 8 a callback, 7 an SMS, anything else (or nothing) the queue."""
    reply = Reply()
    digits = turn.get("Digits").strip()[:1]
    sms, callback = keys(ctx)
    if digits == callback:
        contact.offer_callback(ctx, turn, reply)
    elif digits == sms and contact.send_sms(ctx, turn, reply):
        ctx.speak(reply.twiml, say("goodbye", turn.language), turn.language)
        reply.twiml.hangup()
    else:
        queue.enqueue(ctx, turn, reply, queue="main")
    return reply
