"""<Gather> as Twilio runs it (docs/twilio.md)."""

from __future__ import annotations

from datetime import timedelta

from sim.twilio import (
    Call,
    PhoneNumberConfig,
    TwilioSimulator,
    hang_up,
    press,
    say,
    silence,
)
from sim.twilio.scripts import Action
from sim.twilio.transcript import NoInput

from .conftest import CALLER, MAIN, PUBLIC, START, Reply, SimFactory, TwimlServer, twiml


def run_call(
    server: TwimlServer,
    make_sim: SimFactory,
    voice: Reply,
    script: list[Action],
    **documents: Reply,
) -> tuple[TwilioSimulator, Call]:
    server.on("/voice", voice)
    server.on("/status", None)
    for path, reply in documents.items():
        server.on(f"/{path}", reply)
    sim = make_sim()
    call = sim.place_call(from_=CALLER, to=MAIN, script=script)
    sim.run()
    return sim, call


def test_gather_without_input_falls_through_to_next_verb(server, make_sim):
    """No input means no request; the next verb in the same document runs."""
    voice = twiml(
        '<Gather action="/menu" timeout="3"><Say language="nb-NO">Trykk ein</Say></Gather>',
        '<Say language="nb-NO">Vi høyrde ikkje noko</Say>',
    )
    _, call = run_call(server, make_sim, voice, [silence()], menu=twiml("<Hangup/>"))

    assert server.to("/menu") == []
    assert call.transcript_text().splitlines() == [
        "IVR  (nb-NO): Trykk ein",
        "CALLER gives no input (3 s)",
        "IVR  (nb-NO): Vi høyrde ikkje noko",
        "IVR hangs up",
        "CALL ENDS completed after 6 s",
    ]


def test_gather_default_action_is_current_url(server, make_sim):
    """Without `action` the Gather posts to the document's own URL (with its query)."""

    def voice(request):
        if "Digits" in request.form:
            return twiml(f"<Say>Valt {request.form['Digits']}</Say>")
        return twiml('<Gather numDigits="1"><Say>Trykk</Say></Gather>')

    server.on("/voice", voice)
    sim = make_sim(numbers={MAIN: PhoneNumberConfig(voice_url=f"{PUBLIC}/voice?s=1")})
    call = sim.place_call(from_=CALLER, to=MAIN, script=[press("7")])
    sim.run()

    assert [(r.path, r.query, r.form.get("Digits")) for r in server.received] == [
        ("/voice", "s=1", None),
        ("/voice", "s=1", "7"),
    ]
    assert "IVR  (en-US): Valt 7" in call.transcript_text()


def test_finish_on_key_ends_input_and_is_not_in_digits(server, make_sim):
    """`#` ends the input at once and is left out of Digits."""
    voice = twiml('<Gather action="/id" timeout="5"><Say>Tast fødselsnummer</Say></Gather>')
    run_call(server, make_sim, voice, [press("1234#")], id=twiml("<Hangup/>"))

    (action,) = server.to("/id")
    assert action.form["Digits"] == "1234"
    # 2 words (1 s) + 1 s thinking + four key intervals, and no 5 s timeout wait.
    assert action.headers["x-simulated-time"] == (START + timedelta(seconds=3.2)).isoformat()


def test_input_without_finish_key_waits_for_the_timeout(server, make_sim):
    """Without the finish key the Gather ends `timeout` seconds after the last key."""
    voice = twiml('<Gather action="/id" timeout="4"><Say>Tast</Say></Gather>')
    run_call(server, make_sim, voice, [press("12")], id=twiml("<Hangup/>"))

    (action,) = server.to("/id")
    assert action.form["Digits"] == "12"
    assert action.headers["x-simulated-time"] == (START + timedelta(seconds=6.3)).isoformat()


def test_num_digits_completes_the_gather(server, make_sim):
    """Reaching numDigits posts at once; extra keys are not collected."""
    voice = twiml('<Gather action="/menu" numDigits="1"><Say>Trykk</Say></Gather>')
    run_call(server, make_sim, voice, [press("42")], menu=twiml("<Hangup/>"))

    (action,) = server.to("/menu")
    assert action.form["Digits"] == "4"
    assert action.form["FinishedOnKey"] == ""


def test_only_the_finish_key_counts_as_no_input(server, make_sim):
    """A caller who presses only # gave no input: no request, fall through."""
    voice = twiml('<Gather action="/menu"><Say>Trykk</Say></Gather>', "<Say>Ingen val</Say>")
    _, call = run_call(server, make_sim, voice, [press("#")], menu=twiml("<Hangup/>"))

    assert server.to("/menu") == []
    assert "IVR  (en-US): Ingen val" in call.transcript_text()


def test_action_on_empty_result_posts_without_input(server, make_sim):
    """`actionOnEmptyResult="true"` requests the action even with no input."""
    voice = twiml(
        '<Gather action="/menu" actionOnEmptyResult="true" timeout="2"><Say>Trykk</Say></Gather>',
        "<Say>Aldri nådd</Say>",
    )
    _, call = run_call(server, make_sim, voice, [silence()], menu=twiml("<Say>Tomt</Say>"))

    (action,) = server.to("/menu")
    assert "Digits" not in action.form
    assert "SpeechResult" not in action.form
    assert "Aldri nådd" not in call.transcript_text()
    assert "IVR  (en-US): Tomt" in call.transcript_text()


def test_speech_result_and_confidence(server, make_sim):
    """Speech input posts SpeechResult and Confidence."""
    voice = twiml(
        '<Gather action="/speech" input="speech dtmf" language="nb-NO" hints="byggesak,skule">'
        "<Say>Sei kva du ringjer om</Say></Gather>"
    )
    _, call = run_call(
        server, make_sim, voice, [say("byggesøknad", confidence=0.87)], speech=twiml("<Hangup/>")
    )

    (action,) = server.to("/speech")
    assert action.form["SpeechResult"] == "byggesøknad"
    assert action.form["Confidence"] == "0.87"
    assert "Digits" not in action.form
    assert 'CALLER says "byggesøknad" (0.87)' in call.transcript_text()


def test_speech_is_not_heard_by_a_dtmf_gather(server, make_sim):
    """Input defaults to dtmf, so speech at such a Gather is no input."""
    voice = twiml('<Gather action="/menu"><Say>Trykk</Say></Gather>', "<Say>Ingen val</Say>")
    _, call = run_call(server, make_sim, voice, [say("byggesak")], menu=twiml("<Hangup/>"))

    assert server.to("/menu") == []
    assert 'CALLER says "byggesak" (0.90) (not heard)' in call.transcript_text()
    assert any(isinstance(entry, NoInput) for entry in call.transcript)


def test_caller_hangs_up_at_a_gather(server, make_sim):
    """A caller who hangs up at the menu sends nothing more; the call completes (docs/twilio.md,
    Status callbacks)."""
    voice = twiml('<Gather action="/menu"><Say>Trykk ein</Say></Gather>', "<Say>Ingen val</Say>")
    _, call = run_call(server, make_sim, voice, [hang_up()], menu=twiml("<Hangup/>"))

    assert server.to("/menu") == []
    assert call.transcript_text().splitlines() == [
        "IVR  (en-US): Trykk ein",
        "CALLER hangs up",
        "CALL ENDS completed after 1 s",
    ]
    (status,) = server.to("/status")
    assert status.form["CallStatus"] == "completed"
