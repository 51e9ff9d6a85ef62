"""Say, Play, Pause, Redirect, Hangup, Reject and the document rules (docs/twilio.md, Requests)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from sim.twilio import Call, SimulatorLimitation, Timing, TwilioSimulator
from sim.twilio.transcript import Said, Warned

from .conftest import CALLER, MAIN, PUBLIC, START, Reply, SimFactory, TwimlServer, twiml


def run_call(
    server: TwimlServer, make_sim: SimFactory, voice: Reply, **documents: Reply
) -> tuple[TwilioSimulator, Call]:
    server.on("/voice", voice)
    server.on("/status", None)
    for path, reply in documents.items():
        server.on(f"/{path}", reply)
    sim = make_sim()
    call = sim.place_call(from_=CALLER, to=MAIN)
    sim.run()
    return sim, call


def test_say_keeps_text_voice_language_and_takes_speaking_time(server, make_sim):
    """What is said, in which voice and language; about 2.5 words a second."""
    voice = twiml(
        '<Say voice="Polly.Ida-Neural" language="nb-NO">'
        "Velkomen til Alver kommune, du har kome til sentralbordet</Say>",
        "<Redirect>/next</Redirect>",
    )
    _, call = run_call(server, make_sim, voice, next=twiml("<Hangup/>"))

    said = [entry for entry in call.transcript if isinstance(entry, Said)]
    assert [(s.text, s.voice, s.language) for s in said] == [
        ("Velkomen til Alver kommune, du har kome til sentralbordet", "Polly.Ida-Neural", "nb-NO")
    ]
    (nxt,) = server.to("/next")
    assert nxt.headers["x-simulated-time"] == (START + timedelta(seconds=3.6)).isoformat()


def test_say_reads_the_text_of_ssml_children(server, make_sim):
    """SSML inside <Say> is spoken as its text."""
    voice = twiml('<Say language="nb-NO">Ring <say-as interpret-as="telephone">113</say-as></Say>')
    _, call = run_call(server, make_sim, voice)

    assert "IVR  (nb-NO): Ring 113" in call.transcript_text()


def test_play_and_pause_take_time(server, make_sim):
    """<Play> plays its URL (resolved against the document), <Pause length> waits."""
    voice = twiml(
        "<Play>/audio/velkomen.wav</Play>", '<Pause length="3"/>', "<Redirect>/next</Redirect>"
    )
    _, call = run_call(server, make_sim, voice, next=twiml("<Hangup/>"))

    assert call.transcript_text().splitlines()[:2] == [
        f"IVR  plays {PUBLIC}/audio/velkomen.wav",
        "IVR  pauses 3 s",
    ]
    (nxt,) = server.to("/next")
    assert nxt.headers["x-simulated-time"] == (START + timedelta(seconds=13)).isoformat()


def test_play_of_audio_of_known_length_takes_length_times_loop(server, make_sim):
    """A URL in `Timing.audio_seconds` plays for its length per loop; others, `play_seconds`."""
    voice = twiml(
        '<Play loop="3">/audio/hold.mp3</Play>',
        "<Play>/audio/unknown.wav</Play>",
        "<Redirect>/next</Redirect>",
    )
    server.on("/voice", voice)
    server.on("/status", None)
    server.on("/next", twiml("<Hangup/>"))
    sim = make_sim(timing=Timing(audio_seconds={f"{PUBLIC}/audio/hold.mp3": 42.5}))
    call = sim.place_call(from_=CALLER, to=MAIN)
    sim.run()

    assert call.transcript_text().splitlines()[:2] == [
        f"IVR  plays {PUBLIC}/audio/hold.mp3 for 127.5 s",
        f"IVR  plays {PUBLIC}/audio/unknown.wav",
    ]
    (nxt,) = server.to("/next")
    at = START + timedelta(seconds=3 * 42.5 + Timing().play_seconds)
    assert nxt.headers["x-simulated-time"] == at.isoformat()


def test_redirect_posts_by_default_and_later_verbs_are_unreachable(server, make_sim):
    """<Redirect> fetches with POST; verbs after it never run."""
    voice = twiml("<Redirect>/next?s=2</Redirect>", "<Say>Aldri</Say>")
    _, call = run_call(server, make_sim, voice, next=twiml("<Say>Her</Say>"))

    (nxt,) = server.to("/next")
    assert nxt.method == "POST"
    assert nxt.form["CallStatus"] == "in-progress"
    assert "Aldri" not in call.transcript_text()
    assert f"REDIRECT → {PUBLIC}/next?s=2" in call.transcript_text()


def test_running_out_of_verbs_ends_the_call(server, make_sim):
    """Twilio hangs up when the TwiML runs out; the final status is completed (docs/twilio.md,
    Status callbacks)."""
    _, call = run_call(
        server, make_sim, twiml("<Say>Ha det</Say>", "<Hangup/>", "<Say>Aldri</Say>")
    )

    assert call.status == "completed"
    assert call.transcript_text().splitlines() == [
        "IVR  (en-US): Ha det",
        "IVR hangs up",
        "CALL ENDS completed after 1 s",
    ]


@pytest.mark.parametrize(("reason", "status"), [("busy", "busy"), ("rejected", "no-answer")])
def test_reject_as_first_verb_leaves_the_call_unanswered(server, make_sim, reason, status):
    """<Reject> first means no answer; the call ends busy or no-answer, duration 0."""
    _, call = run_call(server, make_sim, twiml(f'<Reject reason="{reason}"/>', "<Say>Aldri</Say>"))

    (callback,) = server.to("/status")
    assert callback.form["CallStatus"] == status
    assert callback.form["CallDuration"] == "0"
    assert call.answered_at is None
    assert "Aldri" not in call.transcript_text()


def test_unknown_attribute_is_a_warning_and_the_call_goes_on(server, make_sim):
    """Attribute names are case-sensitive; a misspelt one is ignored with warning 12200."""
    voice = twiml(
        '<Gather action="/menu" numdigits="1"><Say>Trykk</Say></Gather>', "<Say>Vidare</Say>"
    )
    _, call = run_call(server, make_sim, voice, menu=twiml("<Hangup/>"))

    warnings = [entry.message for entry in call.transcript if isinstance(entry, Warned)]
    assert warnings == ["12200 <Gather>: unknown attribute 'numdigits' (names are case-sensitive)"]
    assert "IVR  (en-US): Vidare" in call.transcript_text()


def test_verbs_the_simulator_does_not_imitate_fail_loudly(server, make_sim):
    """A <Record> would otherwise be skipped silently and a test pass by accident."""
    server.on("/voice", twiml("<Record/>"))
    sim = make_sim()
    sim.place_call(from_=CALLER, to=MAIN)

    with pytest.raises(SimulatorLimitation, match="Record"):
        sim.run()
