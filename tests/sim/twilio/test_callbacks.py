"""Status callbacks: which events, their numbering, and delivery faults (docs/twilio.md, Status
callbacks)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

from sim.twilio import Department, Faults

from .conftest import CALLER, MAIN, START, twiml

DEPT = "+4756375101"


def dial_all_events() -> str:
    return twiml(
        '<Dial timeout="20"><Number statusCallback="/leg-status"'
        f' statusCallbackEvent="initiated ringing answered completed">{DEPT}</Number></Dial>'
    )


def test_inbound_call_reports_only_its_final_status(server, make_sim):
    """The number's status callback hears only the end of the call, numbered 0."""
    server.on("/voice", twiml("<Say>Hei</Say>", '<Pause length="5"/>'))
    server.on("/status", None)
    sim = make_sim()
    call = sim.place_call(from_=CALLER, to=MAIN)
    sim.run()

    (status,) = server.to("/status")
    form = status.form
    assert (form["CallSid"], form["Direction"]) == (call.sid, "inbound")
    assert (form["CallStatus"], form["SequenceNumber"]) == ("completed", "0")
    assert (form["CallDuration"], form["Duration"]) == ("6", "1")
    assert form["CallbackSource"] == "call-progress-events"
    assert parsedate_to_datetime(form["Timestamp"]) == START + timedelta(seconds=6)
    assert status.headers["i-twilio-idempotency-token"]


def test_status_callbacks_carry_sequence_numbers(server, make_sim):
    """Each leg numbers its callbacks from 0 in firing order; answered is in-progress."""
    server.on("/voice", dial_all_events())
    server.on("/leg-status", None)
    sim = make_sim(departments={DEPT: Department.answers(ring_seconds=3, talk_seconds=10)})
    sim.place_call(from_=CALLER, to=MAIN)
    sim.run()

    callbacks = server.to("/leg-status")
    assert [(c.form["SequenceNumber"], c.form["CallStatus"]) for c in callbacks] == [
        ("0", "initiated"),
        ("1", "ringing"),
        ("2", "in-progress"),
        ("3", "completed"),
    ]
    stamps = [parsedate_to_datetime(c.form["Timestamp"]) for c in callbacks]
    assert stamps == [START, START, START + timedelta(seconds=3), START + timedelta(seconds=13)]
    assert callbacks[3].form["CallDuration"] == "10"
    assert len({c.headers["i-twilio-idempotency-token"] for c in callbacks}) == 4


def test_busy_leg_ends_its_numbering_with_busy(server, make_sim):
    """A terminal event other than completed still comes through the completed event."""
    server.on("/voice", dial_all_events())
    server.on("/leg-status", None)
    sim = make_sim(departments={DEPT: Department.busy()})
    sim.place_call(from_=CALLER, to=MAIN)
    sim.run()

    assert [
        (c.form["SequenceNumber"], c.form["CallStatus"], c.form.get("CallDuration"))
        for c in server.to("/leg-status")
    ] == [("0", "initiated", None), ("1", "ringing", None), ("2", "busy", "0")]


def test_faults_duplicate_and_drop(server, make_sim):
    """With faults, some callbacks arrive twice (same idempotency token), some never."""
    server.on("/voice", twiml("<Say>Hei</Say>"))
    server.on("/status", None)
    sim = make_sim(faults=Faults(duplicate_ratio=0.3, drop_ratio=0.2, seed=7))
    calls = [
        sim.place_call(from_=CALLER, to=MAIN, at=START + timedelta(seconds=i)) for i in range(60)
    ]
    sim.run()

    delivered = server.to("/status")
    per_call = Counter(r.form["CallSid"] for r in delivered)
    dropped = {params["CallSid"] for params in sim.dropped_callbacks}
    assert dropped, "some callbacks should be lost"
    assert any(count == 2 for count in per_call.values()), "some should arrive twice"
    assert set(per_call) | dropped == {call.sid for call in calls}
    assert not set(per_call) & dropped
    for sid, count in per_call.items():
        if count == 2:
            first, second = [r for r in delivered if r.form["CallSid"] == sid]
            assert first.form == second.form
            assert (
                first.headers["i-twilio-idempotency-token"]
                == second.headers["i-twilio-idempotency-token"]
            )


def test_faults_delay_and_reorder_delivery(server, make_sim):
    """Delayed delivery reorders callbacks; Timestamp still says when the event fired."""
    server.on("/voice", dial_all_events())
    server.on("/leg-status", None)
    sim = make_sim(
        departments={DEPT: Department.answers(ring_seconds=2, talk_seconds=5)},
        faults=Faults(max_delay_seconds=30, seed=3),
    )
    for i in range(5):
        sim.place_call(from_=CALLER, to=MAIN, at=START + timedelta(minutes=i))
    sim.run()

    callbacks = server.to("/leg-status")
    assert len(callbacks) == 20  # delayed, never lost
    by_leg: dict[str, list[int]] = {}
    for callback in callbacks:
        by_leg.setdefault(callback.form["CallSid"], []).append(int(callback.form["SequenceNumber"]))
        fired = parsedate_to_datetime(callback.form["Timestamp"])
        arrived = datetime.fromisoformat(callback.headers["x-simulated-time"])
        assert fired <= arrived
    assert any(order != sorted(order) for order in by_leg.values())


def test_without_faults_callbacks_arrive_at_once_and_in_order(server, make_sim):
    """The default: each callback is delivered when its event fires."""
    server.on("/voice", dial_all_events())
    server.on("/leg-status", None)
    sim = make_sim(departments={DEPT: Department.answers(ring_seconds=2, talk_seconds=5)})
    sim.place_call(from_=CALLER, to=MAIN)
    sim.run()

    for callback in server.to("/leg-status"):
        fired = parsedate_to_datetime(callback.form["Timestamp"])
        assert datetime.fromisoformat(callback.headers["x-simulated-time"]) == fired
    assert sim.dropped_callbacks == []
