"""Failed fetches: the number's fallback URL, and Twilio's own apology without one
(docs/twilio.md, Requests)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import Response
from fastapi.responses import RedirectResponse

from sim.twilio import PhoneNumberConfig, press

from .conftest import CALLER, MAIN, PUBLIC, Received, twiml

FALLBACK = twiml('<Say language="nb-NO">Orsak, noko gjekk gale. Vi set deg over.</Say>')
APOLOGY = "TWILIO (en-US): We are sorry, an application error has occurred. Goodbye."


def fail(error: Exception) -> Callable[[Received], str]:
    def reply(_request: Received) -> str:
        raise error

    return reply


@pytest.mark.parametrize(
    ("reply", "code"),
    [
        (Response(status_code=500), 11200),
        (Response(status_code=404), 11200),
        (fail(RuntimeError("database down")), 11200),
        (fail(TimeoutError("slow")), 11205),
        (Response(content="Hei", media_type="text/xml"), 12100),
        (twiml("<say>Hei</say>"), 12100),
        (twiml("<Gather><Dial>+4756375101</Dial></Gather>"), 12100),
        ("<Reply><Say>Hei</Say></Reply>", 12102),
        (Response(content=twiml("<Say>Hei</Say>"), media_type=None), 12300),
        (Response(content="", media_type="text/xml"), 11770),
    ],
    ids=[
        "http-500", "http-404", "exception", "timeout", "not-xml", "lower-case-verb",
        "dial-in-gather", "wrong-root", "no-content-type", "empty-body",
    ],
)  # fmt: skip
def test_invalid_twiml_triggers_fallback_with_error_code(server, make_sim, reply, code):
    """An unusable response makes Twilio POST the fallback URL with ErrorCode/ErrorUrl,
    and the fallback's TwiML goes on with the call."""
    server.on("/voice", reply)
    server.on("/fallback", FALLBACK)
    sim = make_sim()
    call = sim.place_call(from_=CALLER, to=MAIN)
    sim.run()

    (fallback,) = server.to("/fallback")
    assert fallback.form["ErrorCode"] == str(code)
    assert fallback.form["ErrorUrl"] == f"{PUBLIC}/voice"
    assert fallback.form["CallSid"] == call.sid
    assert fallback.signature_valid
    lines = call.transcript_text().splitlines()
    assert lines[0].startswith(f"ERROR {code} at {PUBLIC}/voice")
    assert lines[1:3] == [
        f"FALLBACK {PUBLIC}/fallback (ErrorCode {code})",
        "IVR  (nb-NO): Orsak, noko gjekk gale. Vi set deg over.",
    ]


def test_fallback_is_used_for_a_failing_action_url(server, make_sim):
    """A later fetch (here a Gather action) that fails also goes to the fallback URL,
    with the parameters of the failed request."""
    server.on("/voice", twiml('<Gather numDigits="1" action="/menu?s=2"><Say>Trykk</Say></Gather>'))
    server.on("/menu", Response(status_code=503))
    server.on("/fallback", FALLBACK)
    sim = make_sim()
    sim.place_call(from_=CALLER, to=MAIN, script=[press("3")])
    sim.run()

    (fallback,) = server.to("/fallback")
    assert fallback.form["ErrorUrl"] == f"{PUBLIC}/menu?s=2"
    assert fallback.form["ErrorCode"] == "11200"
    assert fallback.form["Digits"] == "3"


def test_without_fallback_twilio_apologises_in_english_and_hangs_up(server, make_sim):
    """With no fallback URL the caller hears Twilio's English error message."""
    server.on("/voice", Response(status_code=500))
    sim = make_sim(numbers={MAIN: PhoneNumberConfig(voice_url=f"{PUBLIC}/voice")})
    call = sim.place_call(from_=CALLER, to=MAIN)
    sim.run()

    assert call.transcript_text().splitlines()[1:] == [
        APOLOGY,
        "TWILIO hangs up",
        "CALL ENDS completed after 4 s",
    ]


def test_a_failing_fallback_ends_with_the_application_error(server, make_sim):
    """The fallback is tried once; if it fails too, Twilio apologises."""
    server.on("/voice", Response(status_code=500))
    server.on("/fallback", Response(status_code=500))
    sim = make_sim()
    call = sim.place_call(from_=CALLER, to=MAIN)
    sim.run()

    assert len(server.to("/fallback")) == 1
    assert APOLOGY in call.transcript_text()


def test_plain_text_that_is_not_twiml_is_read_aloud(server, make_sim):
    """A text/plain answer that is not TwiML is read to the caller, then Twilio hangs up."""
    server.on("/voice", Response(content="Stengt i dag", media_type="text/plain"))
    sim = make_sim()
    call = sim.place_call(from_=CALLER, to=MAIN)
    sim.run()

    assert server.to("/fallback") == []
    assert call.transcript_text().splitlines()[:2] == [
        "TWILIO (en-US): Stengt i dag",
        "TWILIO hangs up",
    ]


def test_http_redirect_is_followed_without_the_form(server, make_sim):
    """Twilio follows a 3xx, but the POST body is lost on the way."""
    server.on("/voice", RedirectResponse("/moved?s=1", status_code=302))
    server.on("/moved", twiml("<Say>Flytta</Say>"))
    sim = make_sim()
    call = sim.place_call(from_=CALLER, to=MAIN)
    sim.run()

    (moved,) = server.to("/moved")
    assert moved.method == "GET"
    assert moved.form == {}
    assert moved.signature_valid
    assert "IVR  (en-US): Flytta" in call.transcript_text()
