"""<Dial><Number>: outcomes, the whisper, and the dialled leg's callbacks (docs/twilio.md: Dial,
Status callbacks)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from sim.twilio import Call, Department, TwilioSimulator, hang_up_after, talk
from sim.twilio.scripts import Action

from .conftest import CALLER, MAIN, START, SimFactory, TwimlServer, twiml

DEPT = "+4756375101"
WHISPER = twiml(
    '<Gather numDigits="1" action="/whisper-accept" timeout="5">'
    '<Say language="nb-NO">Samtale frå sentralbordet. Trykk ein for å ta imot.</Say></Gather>',
    '<Say language="nb-NO">Ingen svar</Say>',
    "<Hangup/>",
)


def dial_twiml(
    *,
    action: str | None = "/dial-done",
    timeout: int = 20,
    whisper: bool = True,
    after: str = "",
    events: str | None = None,
) -> str:
    number_attrs = ' url="/whisper"' if whisper else ""
    if events is not None:
        number_attrs += f' statusCallback="/leg-status" statusCallbackEvent="{events}"'
    action_attr = f' action="{action}"' if action else ""
    return twiml(
        f'<Dial{action_attr} timeout="{timeout}" callerId="{MAIN}">'
        f"<Number{number_attrs}>{DEPT}</Number></Dial>",
        after,
    )


def run_dial(
    server: TwimlServer,
    make_sim: SimFactory,
    department: Department,
    voice: str | None = None,
    script: tuple[Action, ...] = (),
) -> tuple[TwilioSimulator, Call]:
    server.on("/voice", voice or dial_twiml())
    server.on("/whisper", WHISPER)
    server.on("/whisper-accept", twiml('<Say language="nb-NO">Set over</Say>'))
    server.on("/dial-done", twiml('<Say language="nb-NO">Tilbake i menyen</Say>'))
    server.on("/leg-status", None)
    server.on("/status", None)
    sim = make_sim(departments={DEPT: department})
    call = sim.place_call(from_=CALLER, to=MAIN, script=script)
    sim.run()
    return sim, call


def test_dial_without_action_continues_with_next_verb(server, make_sim):
    """With no action, the call goes on with the verb after <Dial> when the leg ends."""
    voice = dial_twiml(action=None, timeout=10, after='<Say language="nb-NO">Ingen svarte</Say>')
    _, call = run_dial(server, make_sim, Department.no_answer(), voice=voice)

    assert call.transcript_text().splitlines() == [
        f"DIAL {DEPT} (timeout 10 s)",
        f"DIAL {DEPT} → no-answer",
        "IVR  (nb-NO): Ingen svarte",
        "IVR hangs up",
        "CALL ENDS completed after 11 s",
    ]


def test_dial_with_action_makes_later_verbs_unreachable(server, make_sim):
    """With an action, its TwiML runs next and verbs after <Dial> never do."""
    voice = dial_twiml(after="<Say>Aldri</Say>")
    _, call = run_dial(server, make_sim, Department.busy(), voice=voice)

    assert "Aldri" not in call.transcript_text()
    assert "IVR  (nb-NO): Tilbake i menyen" in call.transcript_text()


def test_whisper_running_out_of_verbs_bridges(server, make_sim):
    """The employee presses 1, the whisper runs out of verbs, and the call is bridged."""
    _, call = run_dial(server, make_sim, Department.accepts("1", ring_seconds=4, talk_seconds=90))

    (whisper,) = server.to("/whisper")
    child_sid = whisper.form["CallSid"]
    assert whisper.form["Direction"] == "outbound-dial"
    assert whisper.form["ParentCallSid"] == call.sid
    assert whisper.form["CallStatus"] == "in-progress"
    assert (whisper.form["From"], whisper.form["To"]) == (MAIN, DEPT)
    assert server.to("/whisper-accept")[0].form["Digits"] == "1"

    (action,) = server.to("/dial-done")
    assert action.form["CallSid"] == call.sid
    assert action.form["DialCallStatus"] == "completed"
    assert action.form["DialBridged"] == "true"
    assert action.form["DialCallSid"] == child_sid
    # From the answer at 4 s: the prompt (9 words, 3.6 s), 1 s to think, "Set over" (1 s), 90 s.
    assert action.form["DialCallDuration"] == str(round(3.6 + 1 + 1 + 90))
    assert call.transcript_text().splitlines()[:7] == [
        f"DIAL {DEPT} (timeout 20 s)",
        "WHISPER (nb-NO): Samtale frå sentralbordet. Trykk ein for å ta imot.",
        "CALLEE presses 1",
        "WHISPER (nb-NO): Set over",
        f"CONNECTED with {DEPT}",
        "CALLEE hangs up",
        f"DIAL {DEPT} → completed (bridged, 96 s)",
    ]


def test_whisper_hangup_gives_completed_unbridged(server, make_sim):
    """Nobody presses a key, the whisper hangs up: completed, but DialBridged=false."""
    _, call = run_dial(server, make_sim, Department.declines())

    (action,) = server.to("/dial-done")
    assert action.form["DialCallStatus"] == "completed"
    assert action.form["DialBridged"] == "false"
    assert server.to("/whisper-accept") == []
    assert f"DIAL {DEPT} → completed (not bridged)" in call.transcript_text()
    assert "CONNECTED" not in call.transcript_text()


def test_answer_without_whisper_is_bridged_even_by_a_machine(server, make_sim):
    """`completed` is reported whenever something answers, such as a voicemail."""
    voice = dial_twiml(whisper=False)
    _, _ = run_dial(server, make_sim, Department.declines(talk_seconds=25), voice=voice)

    (action,) = server.to("/dial-done")
    assert (action.form["DialCallStatus"], action.form["DialBridged"]) == ("completed", "true")
    assert action.form["DialCallDuration"] == "25"


@pytest.mark.parametrize(
    ("department", "status", "seconds"),
    [
        (Department.busy(after_seconds=2), "busy", 2),
        (Department.no_answer(), "no-answer", 20),
        (Department.accepts("1", ring_seconds=25), "no-answer", 20),
        (Department.failed(), "failed", 1),
    ],
    ids=["busy", "no-answer", "rings-past-timeout", "failed"],
)
def test_dial_outcomes_without_answer(server, make_sim, department, status, seconds):
    """`busy`, `no-answer` at the Dial timeout, `failed`; no duration, never bridged."""
    _, call = run_dial(server, make_sim, department)

    (action,) = server.to("/dial-done")
    assert action.form["DialCallStatus"] == status
    assert action.form["DialBridged"] == "false"
    assert "DialCallDuration" not in action.form
    assert action.headers["x-simulated-time"] == (START + timedelta(seconds=seconds)).isoformat()
    assert server.to("/whisper") == []
    assert f"DIAL {DEPT} → {status}" in call.transcript_text()


def test_caller_hanging_up_in_the_bridge_still_gets_the_dial_action(server, make_sim):
    """The action is requested with CallStatus=completed, and its TwiML is ignored."""
    _, call = run_dial(
        server, make_sim, Department.accepts("1", talk_seconds=300), script=(talk(20),)
    )

    (action,) = server.to("/dial-done")
    assert action.form["CallStatus"] == "completed"
    assert (action.form["DialCallStatus"], action.form["DialBridged"]) == ("completed", "true")
    assert action.form["DialCallDuration"] == str(round(3.6 + 1 + 1 + 20))
    assert "Tilbake i menyen" not in call.transcript_text()
    assert call.transcript_text().splitlines()[-3:] == [
        "CALLER hangs up",
        f"DIAL {DEPT} → completed (bridged, 26 s)",
        "CALL ENDS completed after 30 s",
    ]


def test_dialled_leg_reports_only_requested_events(server, make_sim):
    """`statusCallbackEvent` picks the events; answered arrives as in-progress."""
    voice = dial_twiml(events="initiated answered completed")
    run_dial(server, make_sim, Department.accepts("1", talk_seconds=30), voice=voice)

    callbacks = server.to("/leg-status")
    assert [(c.form["CallStatus"], c.form["SequenceNumber"]) for c in callbacks] == [
        ("initiated", "0"),
        ("in-progress", "1"),
        ("completed", "2"),
    ]
    first = callbacks[0].form
    assert first["Direction"] == "outbound-dial"
    assert first["CallbackSource"] == "call-progress-events"
    assert first["Timestamp"] == "Tue, 01 Dec 2026 09:30:00 +0000"
    assert "CallDuration" not in first
    assert callbacks[2].form["CallDuration"] == str(round(3.6 + 1 + 1 + 30))
    assert all(c.form["ParentCallSid"] == server.to("/voice")[0].form["CallSid"] for c in callbacks)


def test_each_dial_takes_the_next_behaviour_of_the_department(server, make_sim):
    """A department can be scripted per dial: busy first, then a person answers."""

    def voice(request):
        return twiml(
            f'<Dial action="/dial-done" timeout="20"><Number url="/whisper">{DEPT}</Number></Dial>'
        )

    def dial_done(request):
        if request.form["DialCallStatus"] == "busy":
            return twiml("<Redirect>/voice</Redirect>")
        return twiml("<Hangup/>")

    server.on("/voice", voice)
    server.on("/whisper", WHISPER)
    server.on("/whisper-accept", twiml("<Say>Set over</Say>"))
    server.on("/dial-done", dial_done)
    sim = make_sim(departments={DEPT: [Department.busy(), Department.accepts("1")]})
    sim.place_call(from_=CALLER, to=MAIN)
    sim.run()

    assert [r.form["DialCallStatus"] for r in server.to("/dial-done")] == ["busy", "completed"]
    assert [r.form["DialBridged"] for r in server.to("/dial-done")] == ["false", "true"]


def test_caller_hanging_up_while_it_rings_cancels_the_dialled_leg(server, make_sim):
    """Not certain from Twilio's docs: the action is still requested, the leg is canceled."""
    voice = dial_twiml(events="completed")
    run_dial(server, make_sim, Department.no_answer(), voice=voice, script=(hang_up_after(3),))

    (action,) = server.to("/dial-done")
    assert action.form["CallStatus"] == "completed"
    assert (action.form["DialCallStatus"], action.form["DialBridged"]) == ("canceled", "false")
    assert action.headers["x-simulated-time"] == (START + timedelta(seconds=3)).isoformat()
    (leg,) = server.to("/leg-status")
    assert (leg.form["CallStatus"], leg.form["CallDuration"]) == ("canceled", "0")
