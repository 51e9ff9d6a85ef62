"""Ways to reach the caller later: a callback, or an SMS with the self-service link.

SMS goes only to Norwegian mobiles (ivr/phone.py). A callback can use any Norwegian number: when
`From` is anonymous or a landline the caller keys one in and hears it read back. The raw
number travels in the event, because the callback needs it; statistics use the pseudonym.
"""

from __future__ import annotations

from twilio.twiml.voice_response import Gather

from ivr.call import Context, Reply, Turn
from ivr.config import SWITCHBOARD, Referral
from ivr.phone import is_norwegian_mobile, last_digits, parse_keyed_number, spoken_digits
from ivr.phrases import describe_days, describe_instant
from ivr.prompts import say

MAX_NUMBER_ATTEMPTS = 2


def can_text(caller: str) -> bool:
    return is_norwegian_mobile(caller)


def send_sms(ctx: Context, turn: Turn, reply: Reply, *, referral: Referral | None = None) -> bool:
    """Ask for the self-service SMS, or a referral's (purpose `referral:<id>`, its own dedupe
    key so that both can be sent in one call); False (and say why) when From is not a mobile."""
    lang = turn.language
    if not can_text(turn.caller):
        ctx.speak(reply.twiml, say("sms_mobile_only", lang), lang)
        return False
    municipality = ctx.config.municipality
    url = municipality.self_service_url
    if referral is not None and referral.sms is not None:
        body, purpose = referral.sms.get(lang), f"referral:{referral.id}"
        dedupe_key = f"{turn.call_sid}:sms:{purpose}"
    else:
        body, purpose = say("sms_body", lang, name=municipality.name, url=url), "self_service"
        dedupe_key = f"{turn.call_sid}:sms"
    reply.events.append(
        ctx.event(
            turn,
            "sms_requested",
            dedupe_key,
            to=turn.caller,
            body=body,
            language=lang,
            caller=turn.caller_id,
            purpose=purpose,
        )
    )
    if purpose != "self_service":
        ctx.speak(reply.twiml, say("referral_sms_sent", lang), lang)
        return True
    site = url.removeprefix("https://").removeprefix("www.").rstrip("/")
    ctx.speak(reply.twiml, say("sms_sent", lang, site=site), lang)
    return True


def _when(ctx: Context, turn: Turn) -> tuple[str, str | None]:
    """What to promise, and the due time to store (None: as soon as an agent is free)."""
    if ctx.hours.is_open(SWITCHBOARD, turn.at):
        return say("callback_when_free", turn.language), None
    opening = ctx.hours.next_opening(SWITCHBOARD, turn.at)
    if opening is None:
        return say("callback_when_free", turn.language), None
    text = describe_instant(opening, now=turn.at, language=turn.language)
    return text, opening.isoformat()


def confirm_callback(ctx: Context, turn: Turn, reply: Reply, *, number: str) -> None:
    """Record the callback request, confirm it with the number's last digits, say how long the
    number is kept (`Context.retain_callback_days`), hang up."""
    when, due_at = _when(ctx, turn)
    reply.events.append(
        ctx.event(
            turn,
            "callback_requested",
            f"{turn.call_sid}:callback",
            number=number,
            keyed=number != turn.caller,
            due_at=due_at,
            language=turn.language,
            caller=turn.caller_id,
        )
    )
    lang = turn.language
    days = describe_days(ctx.retain_callback_days, language=lang)
    retention = say("callback_retention", lang, days=days)
    text = say(
        "callback_confirmed", lang, digits=last_digits(number), when=when, retention=retention
    )
    ctx.speak(reply.twiml, text, lang)
    reply.twiml.hangup()


def offer_callback(ctx: Context, turn: Turn, reply: Reply) -> None:
    if can_text(turn.caller):
        confirm_callback(ctx, turn, reply, number=turn.caller)
    else:
        ask_for_number(ctx, turn, reply, attempt=0)


def ask_for_number(ctx: Context, turn: Turn, reply: Reply, *, attempt: int) -> None:
    action = ctx.url("/twilio/callback/number", turn, n=attempt)
    gather = Gather(input="dtmf", num_digits=12, finish_on_key="#", timeout=10, action=action)
    ctx.speak(gather, say("callback_enter_number", turn.language), turn.language)
    reply.twiml.append(gather)
    reply.twiml.redirect(action)


def handle_number(ctx: Context, turn: Turn) -> Reply:
    """The keyed-in callback number: read it back and ask to confirm."""
    reply = Reply()
    attempt = turn.number("n")
    number = parse_keyed_number(turn.get("Digits"))
    lang = turn.language
    if number is None:
        if turn.get("Digits"):
            ctx.speak(reply.twiml, say("callback_invalid_number", lang), lang)
        if attempt + 1 >= MAX_NUMBER_ATTEMPTS:
            ctx.speak(reply.twiml, say("goodbye", lang), lang)
            reply.twiml.hangup()
        else:
            ask_for_number(ctx, turn, reply, attempt=attempt + 1)
        return reply
    action = ctx.url("/twilio/callback/confirm", turn, number=number, n=attempt)
    gather = Gather(input="dtmf", num_digits=1, timeout=8, action=action)
    ctx.speak(gather, say("callback_read_back", lang, spoken=spoken_digits(number)), lang)
    reply.twiml.append(gather)
    reply.twiml.redirect(action)
    return reply


def handle_confirm(ctx: Context, turn: Turn) -> Reply:
    reply = Reply()
    number = parse_keyed_number(turn.get("number"))
    attempt = turn.number("n")
    if number is not None and turn.get("Digits").strip() == "1":
        confirm_callback(ctx, turn, reply, number=number)
    elif attempt + 1 >= MAX_NUMBER_ATTEMPTS:
        ctx.speak(reply.twiml, say("goodbye", turn.language), turn.language)
        reply.twiml.hangup()
    else:
        ask_for_number(ctx, turn, reply, attempt=attempt + 1)
    return reply
