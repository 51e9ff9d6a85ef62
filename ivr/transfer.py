"""Transfers to departments: the Dial, the whisper that asks the employee to accept, and the
Dial action that decides the outcome.

The outcome comes from `DialBridged` together with our own record of the whisper's accept
request, never from `DialCallStatus` alone: a voicemail or a PBX auto-attendant also gives
`completed` (docs/glossary.md, docs/twilio.md). A transfer that does not connect is a bounce:
the caller is told, and joins the returns queue, which agents take before the main queue.
The transfer id is `<CallSid>.<step>`, unique per call and step with no shared counter.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from twilio.twiml.voice_response import Dial, Gather

from ivr import contact, queue
from ivr.call import Context, MarkAccepted, Reply, Turn
from ivr.closed import render_closed
from ivr.config import SWITCHBOARD, Department
from ivr.keymap import SWITCHBOARD_KEY
from ivr.phrases import describe_instant, describe_weekly, sentence_start
from ivr.prompts import press_for, say
from ivr.vocabulary import NOT_BOUNCE_OUTCOMES, Initiator
from ivr.vocabulary import TransferOutcome as Outcome

_UNBRIDGED: dict[str, Outcome] = {
    "no-answer": "no_answer",
    "busy": "busy",
    "failed": "failed",
    "canceled": "failed",
}
CHILD_EVENTS = "initiated ringing answered completed"  # a string: see docs/twilio.md


def transfer_outcome(
    *, dial_status: str, bridged: bool, accepted: bool | None, caller_gone: bool
) -> Outcome:
    """Classify a finished Dial. `accepted` is None when the whisper record is unreadable."""
    if bridged:
        # Our whisper bridges only after the accept request, so a bridge is a connection
        # even when the record could not be read back.
        return "connected"
    if accepted:
        # Accepted but never bridged: the caller hung up in the gap before the bridge.
        return "caller_hung_up" if caller_gone else "connected"
    if caller_gone:
        return "caller_hung_up"
    return _UNBRIDGED.get(dial_status, "declined")


def returns_queue_open(ctx: Context, at: datetime) -> bool:
    """Whether a bounce at `at` goes to the returns queue: while the switchboard is open, and
    after closing for as long as callers already queued are served (`closing_grace_seconds`,
    counted from the switchboard's closing as in `queue.past_closing_grace`)."""
    if ctx.hours.is_open(SWITCHBOARD, at):
        return True
    since = queue.closed_since(ctx, at)
    grace = timedelta(seconds=ctx.config.switchboard.queue.closing_grace_seconds)
    return since is not None and at - since < grace


def parent_call_sid(turn: Turn, transfer_id: str) -> str:
    """The caller's CallSid: Twilio's ParentCallSid, or the first part of our transfer id."""
    return turn.get("ParentCallSid") or transfer_id.split(".", 1)[0]


def start_transfer(
    ctx: Context, turn: Turn, reply: Reply, *, department: Department, initiator: Initiator
) -> None:
    transfer_id = f"{turn.call_sid}.{turn.step}"
    lang = turn.language
    reply.events.append(
        ctx.event(
            turn,
            "transfer_started",
            f"{turn.call_sid}:{turn.step}:transfer",
            transfer_id=transfer_id,
            department=department.id,
            initiator=initiator,
            caller=turn.caller_id,
        )
    )
    ctx.speak(reply.twiml, say("transferring", lang, department=department.name.get(lang)), lang)
    settings = ctx.config.switchboard.transfer
    dial = Dial(
        action=ctx.url(
            "/twilio/transfer/result",
            turn,
            t=transfer_id,
            d=department.id,
            i=initiator,
            x=turn.transfers + 1,
        ),
        timeout=settings.dial_timeout_seconds,
    )
    dial.number(
        department.number,
        url=ctx.url("/twilio/whisper", t=transfer_id, d=department.id),
        status_callback=ctx.url("/twilio/transfer/status", t=transfer_id),
        status_callback_event=CHILD_EVENTS,
    )
    reply.twiml.append(dial)


def whisper(ctx: Context, turn: Turn, *, department: Department, transfer_id: str) -> Reply:
    """Runs on the employee's leg before the bridge: only Say, Play, Gather and Hangup.

    If this document ran out of verbs Twilio would bridge the call, so the Gather is followed
    by a Say and a Hangup: no key means declined.
    """
    reply = Reply()
    lang = ctx.config.municipality.default_language
    gather = Gather(
        input="dtmf",
        num_digits=1,
        timeout=ctx.config.switchboard.transfer.whisper_timeout_seconds,
        action=ctx.url("/twilio/whisper/answer", t=transfer_id, d=department.id),
    )
    text = say(
        "whisper", lang, name=ctx.config.municipality.name, department=department.name.get(lang)
    )
    ctx.speak(gather, text, lang)
    reply.twiml.append(gather)
    ctx.speak(reply.twiml, say("whisper_declined", lang), lang)
    reply.twiml.hangup()
    return reply


def whisper_answer(ctx: Context, turn: Turn, *, transfer_id: str) -> Reply:
    """The employee pressed a key: 1 accepts (the document then ends and Twilio bridges)."""
    reply = Reply()
    lang = ctx.config.municipality.default_language
    if turn.get("Digits").strip() == "1":
        reply.changes.append(MarkAccepted(transfer_id=transfer_id))
        # The whisper runs on the employee's leg; the event belongs to the caller's call.
        parent = replace(turn, call_sid=parent_call_sid(turn, transfer_id))
        reply.events.append(
            ctx.event(
                parent,
                "whisper_accepted",
                f"{transfer_id}:accepted",
                transfer_id=transfer_id,
                leg_call_sid=turn.call_sid,
            )
        )
        ctx.speak(reply.twiml, say("whisper_accepted", lang), lang)
    else:
        ctx.speak(reply.twiml, say("whisper_declined", lang), lang)
        reply.twiml.hangup()
    return reply


def transfer_result(
    ctx: Context, turn: Turn, *, department: Department, transfer_id: str, initiator: Initiator
) -> Reply:
    """The Dial action: decide the outcome; a bounce goes to the returns queue, served first."""
    reply = Reply()
    lang = turn.language
    dial_status = turn.get("DialCallStatus")
    caller_gone = turn.get("CallStatus") in {"completed", "canceled"}
    outcome = transfer_outcome(
        dial_status=dial_status,
        bridged=turn.get("DialBridged").lower() == "true",
        accepted=turn.live.whisper_accepted,
        caller_gone=caller_gone,
    )
    bounce = outcome not in NOT_BOUNCE_OUTCOMES and not turn.live.redirected
    switchboard_open = returns_queue_open(ctx, turn.at)
    dial_sid = turn.get("DialCallSid")
    reply.events.append(
        ctx.event(
            turn,
            "transfer_result",
            f"dial:{dial_sid}" if dial_sid else f"{transfer_id}:result",
            transfer_id=transfer_id,
            department=department.id,
            initiator=initiator,
            outcome=outcome,
            dial_status=dial_status or None,
            bridged=turn.get("DialBridged").lower() == "true",
            whisper_accepted=turn.live.whisper_accepted,
            duration_seconds=turn.number("DialCallDuration"),
            bounce=bounce,
            redirected=turn.live.redirected,
            next=("queue" if switchboard_open else "closed") if bounce else None,
        )
    )
    if not bounce or caller_gone:
        # Connected and finished, hung up, or redirected by an agent: Twilio ignores our
        # TwiML for a redirected call, so an empty document is the honest answer.
        return reply
    prompt = "bounce_busy" if outcome == "busy" else "bounce"
    ctx.speak(reply.twiml, say(prompt, lang, department=department.name.get(lang)), lang)
    if switchboard_open:
        # First only when no returned caller waits ahead; else (or unknown) priority.
        first = turn.live.returns_waiting == 0
        ctx.speak(
            reply.twiml, say("bounce_queue" if first else "bounce_queue_priority", lang), lang
        )
        queue.enqueue(
            ctx,
            turn,
            reply,
            queue="returns",
            bounced_from=transfer_id,
            department=department.id,
            cause=outcome,
        )
    else:
        render_closed(ctx, turn, reply, attempt=0, intro=True)
    return reply


def department_closed(ctx: Context, turn: Turn, reply: Reply, *, department: Department) -> None:
    """Say the department's hours and next opening, then offer what is available now."""
    lang = turn.language
    opening = ctx.hours.next_opening(department.id, turn.at)
    name = department.name.get(lang)
    if opening is None:
        text = say("department_closed_today", lang, department=sentence_start(name))
    else:
        text = say(
            "department_closed",
            lang,
            department=sentence_start(name),
            hours=describe_weekly(department.hours, language=lang),
            next=describe_instant(opening, now=turn.at, language=lang),
        )
    action = ctx.url("/twilio/department/closed", turn, d=department.id)
    gather = Gather(input="dtmf", num_digits=1, action=action, timeout=6)
    ctx.speak(gather, text, lang)
    sms_key = _sms_key(ctx)
    options = [press_for(say("sms_option", lang), sms_key, lang)] if sms_key else []
    if ctx.hours.is_open(SWITCHBOARD, turn.at):
        options.append(press_for(say("switchboard_option", lang), SWITCHBOARD_KEY, lang))
    if department.on_call is not None:
        what = department.on_call.description.get(lang)
        options.append(press_for(what, department.key, lang))
    ctx.speak(gather, " ".join(options), lang)
    reply.twiml.append(gather)
    reply.twiml.redirect(action)


def _sms_key(ctx: Context) -> str | None:
    """The SMS key of the closed menu, so that a key means the same in every menu (None: the
    municipality offers no SMS)."""
    return ctx.config.menus.key_for("sms")


def handle_department_closed(ctx: Context, turn: Turn, *, department: Department) -> Reply:
    """The closed department's menu: the SMS key of the closed menu (7 in Alver), 0 the
    switchboard, the department's own key its on-call line; silence goes on."""
    reply = Reply()
    digits = turn.get("Digits").strip()[:1]
    switchboard_open = ctx.hours.is_open(SWITCHBOARD, turn.at)
    reply.events.append(
        ctx.event(
            turn,
            "menu_choice",
            f"{turn.call_sid}:{turn.step}:menu",
            menu=f"department_closed:{department.id}",
            input="dtmf" if digits else "none",
            key=digits or None,
        )
    )
    if digits and digits == _sms_key(ctx):
        contact.send_sms(ctx, turn, reply)
        _hang_up(ctx, turn, reply)
    elif digits == department.key and department.on_call is not None:
        dial_on_call(ctx, turn, reply, department=department)
    elif switchboard_open:
        queue.enqueue(ctx, turn, reply, queue="main")
    else:
        _hang_up(ctx, turn, reply)
    return reply


def _hang_up(ctx: Context, turn: Turn, reply: Reply) -> None:
    ctx.speak(reply.twiml, say("goodbye", turn.language), turn.language)
    reply.twiml.hangup()


def dial_on_call(ctx: Context, turn: Turn, reply: Reply, *, department: Department) -> None:
    """Out of hours, a department's on-call line. Not a switchboard transfer: no whisper."""
    assert department.on_call is not None
    lang = turn.language
    description = department.on_call.description.get(lang)
    ctx.speak(reply.twiml, say("on_call_transfer", lang, description=description), lang)
    dial = Dial(
        action=ctx.url("/twilio/oncall/result", turn, d=department.id),
        timeout=ctx.config.switchboard.transfer.dial_timeout_seconds,
    )
    dial.number(department.on_call.number)
    reply.twiml.append(dial)


def on_call_result(ctx: Context, turn: Turn) -> Reply:
    reply = Reply()
    answered = turn.get("DialBridged").lower() == "true" or (
        turn.get("DialCallStatus") == "completed" and turn.number("DialCallDuration") > 0
    )
    if answered or turn.get("CallStatus") in {"completed", "canceled"}:
        return reply
    lang = turn.language
    ctx.speak(reply.twiml, say("on_call_failed", lang), lang)
    render_closed(ctx, turn, reply, attempt=0, intro=False)
    return reply
