"""What a caller hears when our service cannot do its job.

`fallback_twiml` is static: it depends on the config only, never on the clock, Redis or the
database, so `/twilio/fallback` and `deploy/fallback.xml` can serve it when everything else
is down. `error_reply` is for an exception inside a voice route: it still tries to serve the
caller (the switchboard queue when open), and falls back to the static TwiML if even that fails.
"""

from __future__ import annotations

from twilio.twiml.voice_response import Dial, VoiceResponse

from ivr import queue
from ivr.call import Context, Reply, Turn
from ivr.closed import emergency_line
from ivr.config import SWITCHBOARD, Config
from ivr.events import Event
from ivr.prompts import say


def fallback_twiml(config: Config) -> str:
    """An apology, the switchboard's backup line if there is one, then the closed path."""
    lang = config.municipality.default_language
    ctx_voice = config.voice
    response = VoiceResponse()

    def speak(text: str) -> None:
        response.say(text, voice=ctx_voice.voice, language=ctx_voice.language)

    speak(say("technical_error", lang))
    backup = config.switchboard.fallback_number
    if backup is not None:
        speak(say("to_switchboard", lang))
        dial = Dial(timeout=30)  # no action: on no answer Twilio goes on to the next verb
        dial.number(backup)
        response.append(dial)
    speak(emergency_line(config, lang))
    site = config.municipality.self_service_url.removeprefix("https://").removeprefix("www.")
    speak(say("self_service_hint", lang, site=site.rstrip("/")))
    speak(say("goodbye", lang))
    response.hangup()
    return str(response.to_xml())


def error_reply(ctx: Context, turn: Turn) -> tuple[str, list[Event]]:
    """Spoken Norwegian TwiML after an exception: queue for the switchboard, or closed path."""
    try:
        reply = Reply()
        ctx.speak(reply.twiml, say("technical_error", turn.language), turn.language)
        if ctx.hours.is_open(SWITCHBOARD, turn.at):
            queue.enqueue(ctx, turn, reply, queue="main")
        else:
            ctx.speak(reply.twiml, emergency_line(ctx.config, turn.language), turn.language)
            ctx.speak(reply.twiml, say("goodbye", turn.language), turn.language)
            reply.twiml.hangup()
        return reply.xml(), reply.events
    except Exception:
        return fallback_twiml(ctx.config), []
