"""The switchboard queues: joining, the wait loop, leaving, and being answered.

Returns are served first with two Twilio queues: bounced callers join `sentralbord-retur`,
everyone else `sentralbord`. When a returned caller waits, the agent line claims one for the
asking agent and moves them to the agent's own queue (`ivr.agent`, `ivr.handover`); an agent
already idling on the main queue picks up a new return when that Dial times out and re-asks (at
most the agent Dial timeout plus Twilio's 5 s buffer), or at once when taken from the console.

Each join is a queue *visit* (`<CallSid>.<step>`), the unit service level is counted in.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from twilio.twiml.voice_response import Gather

from ivr import contact, handover
from ivr.call import (
    TWILIO_QUEUES,
    AgentTalking,
    Context,
    MenuChoice,
    QueueJoin,
    QueueLeave,
    QueueName,
    Reply,
    SetLeaveReason,
    Turn,
)
from ivr.closed import render_closed
from ivr.config import SWITCHBOARD
from ivr.phrases import describe_instant
from ivr.prompts import minutes, say

# After the hold music the Gather waits this long for a key, then the document runs out and
# Twilio asks the waitUrl again: the longest silence a waiting caller hears (docs/twilio.md).
HOLD_GATHER_TIMEOUT = 2


def enqueue(
    ctx: Context,
    turn: Turn,
    reply: Reply,
    *,
    queue: QueueName,
    bounced_from: str | None = None,
    department: str | None = None,
    cause: str | None = None,
) -> None:
    visit = f"{turn.call_sid}.{turn.step}"
    reply.events.append(
        ctx.event(
            turn,
            "queue_joined",
            f"{turn.call_sid}:{turn.step}:enqueue",
            queue=queue,
            visit=visit,
            bounced_from=bounced_from,
            caller=turn.caller_id,
        )
    )
    reply.changes.append(
        QueueJoin(
            queue=queue,
            call_sid=turn.call_sid,
            visit=visit,
            language=turn.language,
            caller_id=turn.caller_id,
            department=department,
            cause=cause,
            # The choices of earlier turns, and of this one (not in live state yet).
            path=turn.live.menu_path
            + tuple(c.choice for c in reply.changes if isinstance(c, MenuChoice)),
        )
    )
    if queue == "main":
        ctx.speak(reply.twiml, say("to_switchboard", turn.language), turn.language)
    reply.twiml.enqueue(
        TWILIO_QUEUES[queue],
        action=ctx.url("/twilio/queue/done", turn, q=queue, v=visit),
        wait_url=ctx.url("/twilio/queue/wait", q=queue, v=visit, lang=turn.language),
        wait_url_method="POST",
    )


def closed_since(ctx: Context, at: datetime) -> datetime | None:
    """When today's last switchboard interval ended, if it has."""
    today = at.astimezone(ctx.config.zone).date()
    ends = [end for _, end in ctx.hours.intervals_on(SWITCHBOARD, today) if end <= at]
    return max(ends) if ends else None


def past_closing_grace(ctx: Context, turn: Turn) -> bool:
    """Callers queued at closing are served until the grace period ends (docs/glossary.md)."""
    if ctx.hours.is_open(SWITCHBOARD, turn.at):
        return False
    grace = timedelta(seconds=ctx.config.switchboard.queue.closing_grace_seconds)
    since = closed_since(ctx, turn.at)
    if since is None:  # closed by an override or closure: count from the caller's own wait
        return timedelta(seconds=turn.number("QueueTime")) >= grace
    return turn.at - since >= grace


def wait(ctx: Context, turn: Turn, *, queue: QueueName, visit: str) -> Reply:
    """The waitUrl, requested again each time its document runs out (docs/twilio.md): the
    announcements, then hold music for about `announce_every_seconds`, then a short Gather
    timeout, and Twilio asks again."""
    reply = Reply()
    if turn.get("a"):  # handed to an agent (ivr.handover): they are on their way
        handover.hold(ctx, turn, reply)
        return reply
    # Each wait refreshes the caller's place in live state, so lost leaves age out.
    reply.changes.append(QueueJoin(queue=queue, call_sid=turn.call_sid))
    lang = turn.language
    settings = ctx.config.switchboard.queue
    choice = ctx.url("/twilio/queue/choice", q=queue, v=visit, lang=lang)
    if past_closing_grace(ctx, turn):
        opening = ctx.hours.next_opening(SWITCHBOARD, turn.at)
        when = describe_instant(opening, now=turn.at, language=lang) if opening else ""
        reply.changes.append(SetLeaveReason(call_sid=turn.call_sid, reason="closing"))
        gather = Gather(input="dtmf", num_digits=1, timeout=8, action=f"{choice}&m=closing")
        ctx.speak(gather, say("queue_closing", lang, next=when), lang)
        reply.twiml.append(gather)
        reply.twiml.leave()
        return reply
    position = max(1, turn.number("QueuePosition", 1))
    if queue == "main" and turn.live.returns_waiting:
        position += turn.live.returns_waiting
    gather = Gather(input="dtmf", num_digits=1, timeout=HOLD_GATHER_TIMEOUT, action=choice)
    if turn.number("QueueTime") >= settings.max_wait_seconds:
        ctx.speak(gather, say("queue_overflow", lang), lang)
    else:
        ctx.speak(gather, say("queue_position", lang, position=position), lang)
        expected = minutes(position * settings.seconds_per_position, lang)
        ctx.speak(gather, say("queue_wait", lang, minutes=expected), lang)
        ctx.speak(gather, say("queue_callback_offer", lang), lang)
    # A waitUrl replaces Twilio's hold music: play ours inside the Gather, so keys still work,
    # a finite number of times (loop="0" would never reach the next announcement).
    music = settings.hold_music
    gather.play(music.url, loop=max(1, math.ceil(settings.announce_every_seconds / music.seconds)))
    reply.twiml.append(gather)
    return reply


def choice(ctx: Context, turn: Turn, *, queue: QueueName, visit: str) -> Reply:
    """A key pressed while waiting: 1 callback, 2 SMS. Runs in the wait context."""
    reply = Reply()
    digits = turn.get("Digits").strip()[:1]
    closing = turn.get("m") == "closing"
    if digits == "1":
        if contact.can_text(turn.caller):
            contact.confirm_callback(ctx, turn, reply, number=turn.caller)
        else:
            reply.changes.append(SetLeaveReason(call_sid=turn.call_sid, reason="callback_number"))
            reply.twiml.leave()
    elif digits == "2":
        sent = contact.send_sms(ctx, turn, reply)
        if sent and closing:
            ctx.speak(reply.twiml, say("goodbye", turn.language), turn.language)
            reply.twiml.hangup()
        elif sent:
            ctx.speak(reply.twiml, say("sms_keep_place", turn.language), turn.language)
    elif closing:
        reply.twiml.leave()
    return reply


def done(ctx: Context, turn: Turn, *, queue: QueueName, visit: str) -> Reply:
    """The Enqueue action: the visit has ended, one way or another (QueueResult)."""
    reply = Reply()
    result = turn.get("QueueResult") or "unknown"
    reason = turn.live.leave_reason
    reply.events.append(
        ctx.event(
            turn,
            "queue_left",
            f"{turn.call_sid}:{turn.step}:queue_left",
            queue=queue,
            visit=visit,
            result=result,
            reason=reason,
            queue_time_seconds=turn.number("QueueTime"),
            agent=turn.get("a") or None,  # left an agent's own queue (ivr.handover)
        )
    )
    reply.changes.append(QueueLeave(queue=queue, call_sid=turn.call_sid))
    if result == "leave" and turn.get("a"):
        # Left an agent's queue because the agent had gone (handover.hold): back in line.
        handover.enqueue_again(ctx, turn, reply, agent_id="")
    elif result == "leave":
        if reason == "callback_number":
            contact.ask_for_number(ctx, turn, reply, attempt=0)
        else:
            render_closed(ctx, turn, reply, attempt=0, intro=True)
    elif result in {"error", "system-error", "queue-full"}:
        ctx.speak(reply.twiml, say("technical_error", turn.language), turn.language)
        contact.offer_callback(ctx, turn, reply)
    return reply


def answered(ctx: Context, turn: Turn, *, queue: QueueName) -> Reply:
    """The `<Queue url>` fetched for the dequeued caller: this is the moment of answer."""
    reply = Reply()
    queue_sid = turn.get("QueueSid")
    agent_leg = turn.get("DequeingCallSid")
    reply.events.append(
        ctx.event(
            turn,
            "queue_answered",
            f"{turn.call_sid}:{queue_sid}:{agent_leg}:answered",
            queue=queue,
            queue_time_seconds=turn.number("QueueTime"),
            agent_call_sid=agent_leg or None,
            # Known when the agent dialled their own queue for this very visit (ivr.handover).
            visit=turn.get("v") or None,
        )
    )
    reply.changes.append(QueueLeave(queue=queue, call_sid=turn.call_sid))
    if agent_leg:
        reply.changes.append(AgentTalking(call_sid=agent_leg, caller_sid=turn.call_sid))
    return reply
