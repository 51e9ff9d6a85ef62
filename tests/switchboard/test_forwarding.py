"""56 37 50 00 forwarded by the old operator to a Twilio number, instead of ported.

Then `To` is the Twilio number, `From` is the citizen's (as operators keep it), and
`ForwardedFrom` may or may not come. The caller must be served exactly as on a direct call, and
a department calling back (a hand-back) must still be recognised by its `From`.
"""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from sim.call_trial import simulator_for
from sim.twilio import press
from tests.switchboard.apphost import make_app, make_settings

OSLO = ZoneInfo("Europe/Oslo")
MAIN = "+4756375000"
TWILIO_NUMBER = "+4732990000"  # where the old operator forwards the main number
CITIZEN = "+4791234567"
BYGGESAK = "+4756375101"  # the department's own phone


@pytest.fixture
def sim(tmp_path, redis_url):
    settings = make_settings(tmp_path, redis_url)
    app = make_app(settings)
    with TestClient(app) as client:
        config = app.state.services.ctx.config
        start = datetime(2026, 11, 25, 10, 0, tzinfo=OSLO)
        simulator = simulator_for(http=client, settings=settings, config=config, start=start)
        # The Twilio number is configured like the main number would be after a port.
        simulator.numbers[TWILIO_NUMBER] = simulator.numbers[MAIN]
        yield simulator


def call_started(redis_client, call_sid: str) -> dict:
    for _id, fields in redis_client.xrange("switchboard:events"):
        if fields[b"call_sid"].decode() == call_sid and fields[b"kind"] == b"call_started":
            return json.loads(fields[b"data"])
    raise AssertionError(f"no call_started for {call_sid}")


def kinds(redis_client, call_sid: str) -> list[str]:
    return [
        fields[b"kind"].decode()
        for _id, fields in redis_client.xrange("switchboard:events")
        if fields[b"call_sid"].decode() == call_sid and fields[b"kind"] != b"transfer_progress"
    ]


def test_a_forwarded_call_is_served_exactly_like_a_direct_one(sim, redis_client) -> None:
    calls = {
        "direct": sim.place_call(from_=CITIZEN, to=MAIN, script=[press("1")]),
        "forwarded, ForwardedFrom given": sim.place_call(
            from_=CITIZEN, to=TWILIO_NUMBER, script=[press("1")], forwarded_from=MAIN
        ),
        "forwarded, ForwardedFrom absent": sim.place_call(
            from_=CITIZEN, to=TWILIO_NUMBER, script=[press("1")]
        ),
    }
    sim.run()
    heard = {how: call.transcript_text() for how, call in calls.items()}
    assert "CONNECTED with +4756375101" in heard["direct"]
    assert heard["forwarded, ForwardedFrom given"] == heard["direct"]
    assert heard["forwarded, ForwardedFrom absent"] == heard["direct"]
    assert calls["forwarded, ForwardedFrom given"].requests[0].params["ForwardedFrom"] == MAIN
    assert "ForwardedFrom" not in calls["forwarded, ForwardedFrom absent"].requests[0].params

    started = {how: call_started(redis_client, call.sid) for how, call in calls.items()}
    assert {how: (s["to"], s["forwarded_from_present"]) for how, s in started.items()} == {
        "direct": (MAIN, False),
        "forwarded, ForwardedFrom given": (TWILIO_NUMBER, True),
        "forwarded, ForwardedFrom absent": (TWILIO_NUMBER, False),
    }
    assert {s["caller"] for s in started.values()} == {started["direct"]["caller"]}  # same person
    assert {s["from_department"] for s in started.values()} == {None}
    assert len({tuple(kinds(redis_client, call.sid)) for call in calls.values()}) == 1


def test_a_hand_back_forwarded_from_a_department_is_recognised_by_from(sim, redis_client) -> None:
    hand_back = sim.place_call(
        from_=BYGGESAK, to=TWILIO_NUMBER, script=[press("0")], forwarded_from=MAIN
    )
    sim.run()
    started = call_started(redis_client, hand_back.sid)
    assert (started["from_department"], started["to"]) == ("byggesak", TWILIO_NUMBER)
