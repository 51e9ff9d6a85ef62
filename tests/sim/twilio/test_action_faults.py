"""Action requests sent twice (`Faults.duplicate_action_ratio`): the first answer counts."""

from __future__ import annotations

from datetime import datetime

import pytest

from sim.twilio import Department, Faults, press

from .conftest import CALLER, MAIN, twiml

DEPT = "+4756375101"


def gather_then_answer(server) -> None:
    server.on("/voice", twiml('<Gather action="/menu" numDigits="1"><Say>Trykk</Say></Gather>'))
    # Each delivery is answered differently, so the transcript shows which one the call used.
    server.on("/menu", lambda _r: twiml(f"<Say>Svar {len(server.to('/menu'))}</Say>"))


def test_a_duplicated_gather_action_arrives_twice_and_the_first_answer_counts(server, make_sim):
    gather_then_answer(server)
    sim = make_sim(faults=Faults(duplicate_action_ratio=1.0, max_delay_seconds=3.0))
    call = sim.place_call(from_=CALLER, to=MAIN, script=[press("1")])
    sim.run()

    first, copy = server.to("/menu")
    assert first.form == copy.form
    assert first.form["Digits"] == "1"
    sent = [datetime.fromisoformat(r.headers["x-simulated-time"]) for r in (first, copy)]
    assert sent[0] <= sent[1]
    text = call.transcript_text()
    assert "Svar 1" in text
    assert "Svar 2" not in text
    assert sum(1 for r in call.requests if r.kind == "gather-action") == 2


def test_without_action_faults_each_action_is_sent_once(server, make_sim):
    gather_then_answer(server)
    sim = make_sim(faults=Faults(duplicate_ratio=1.0))  # callback faults only
    sim.place_call(from_=CALLER, to=MAIN, script=[press("1")])
    sim.run()
    assert len(server.to("/menu")) == 1


@pytest.mark.parametrize(
    ("document", "action"),
    [
        (f'<Dial action="/dialled" timeout="5">{DEPT}</Dial>', "/dialled"),
        ('<Enqueue action="/left" waitUrl="/wait">q</Enqueue>', "/left"),
    ],
)
def test_dial_and_enqueue_actions_are_repeated_too(server, make_sim, document, action):
    server.on("/voice", twiml(document))
    server.on("/wait", twiml("<Leave/>"))
    server.on(action, twiml("<Hangup/>"))
    sim = make_sim(
        faults=Faults(duplicate_action_ratio=1.0),
        departments={DEPT: Department.no_answer()},
    )
    sim.place_call(from_=CALLER, to=MAIN)
    sim.run()
    assert len(server.to(action)) == 2
    assert len(server.to("/voice")) == 1  # the voice webhook is not an action


def test_action_faults_leave_the_callback_faults_of_a_seed_as_they_were(server, make_sim):
    server.on("/voice", twiml('<Gather action="/menu" numDigits="1"><Say>Trykk</Say></Gather>'))
    server.on("/menu", twiml("<Say>Takk</Say>"))
    server.on("/status", None)

    def dropped(faults: Faults) -> list[str]:
        sim = make_sim(faults=faults)
        calls = [sim.place_call(from_=CALLER, to=MAIN, script=[press("1")]) for _ in range(20)]
        sim.run()
        dropped = {params["CallSid"] for params in sim.dropped_callbacks}
        return [str(index) for index, call in enumerate(calls) if call.sid in dropped]

    callbacks_only = Faults(duplicate_ratio=0.3, drop_ratio=0.3, seed=7)
    with_actions = Faults(duplicate_ratio=0.3, drop_ratio=0.3, seed=7, duplicate_action_ratio=0.5)
    assert dropped(callbacks_only) == dropped(with_actions) != []


def test_the_action_ratio_is_checked():
    with pytest.raises(ValueError, match="duplicate_action_ratio"):
        Faults(duplicate_action_ratio=1.5)
