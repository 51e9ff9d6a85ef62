"""Referrals: the caller asked for something the municipality does not handle.

The caller hears who does (the referral's message from the config, with a number or a web
address). On a Norwegian mobile, when the referral has an SMS text, they are offered it by
SMS: a Gather for one key whose action, and the Redirect on silence, is `/twilio/referral`.
Then the menu again, after "Kan eg hjelpe deg med noko anna?" (ivr/menu.py); never a hang-up.
"""

from __future__ import annotations

from twilio.twiml.voice_response import Gather

from ivr import contact
from ivr.call import Context, Reply, Turn
from ivr.config import Referral
from ivr.prompts import say


def refer(ctx: Context, turn: Turn, reply: Reply, referral: Referral) -> bool:
    """Say the referral's message; True when the SMS offer follows (its step goes on to the
    menu), False when the caller of this should return to the menu now."""
    lang = turn.language
    ctx.speak(reply.twiml, referral.message.get(lang), lang)
    if referral.sms is None or not contact.can_text(turn.caller):
        return False
    action = ctx.url("/twilio/referral", turn, r=referral.id)
    gather = Gather(input="dtmf", num_digits=1, timeout=5, action=action)
    ctx.speak(gather, say("referral_sms_offer", lang), lang)
    reply.twiml.append(gather)
    reply.twiml.redirect(action)
    return True


def answer_offer(ctx: Context, turn: Turn, reply: Reply) -> None:
    """The SMS offer's answer: 1 sends the referral's SMS; anything else, or silence, does not."""
    if turn.get("Digits").strip() == "1":
        contact.send_sms(ctx, turn, reply, referral=ctx.config.referral(turn.get("r")))
