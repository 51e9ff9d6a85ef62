"""Agent transfers: `POST /api/calls/{sid}/transfer` moves a live call through Twilio's REST API.

The app runs for real (Redis, SQLite, the shipped config); Twilio is the simulator, both for
the calls and for the REST API behind the SDK's `http_client` seam (`SimulatedRest`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from ivr.config import Config
from sim.call_trial import AGENT_LINE, simulator_for
from sim.twilio import Department, SimulatedRest, TwilioSimulator, press, talk
from switchboard.app import create_app
from switchboard.settings import Settings
from switchboard.twilio_rest import twilio_client
from tests.fixtures.agents import CLIENT_AGENT
from tests.switchboard.apphost import auth, make_settings

OSLO = ZoneInfo("Europe/Oslo")
MOBILE = "+4791234567"
MAIN = "+4756375000"
BYGGESAK = "+4756375101"
BARNEHAGE = "+4756375102"


@dataclass
class World:
    client: TestClient
    settings: Settings
    config: Config
    rest: SimulatedRest

    def simulator(self, at: str, **kwargs: Any) -> TwilioSimulator:
        start = datetime.fromisoformat(at).replace(tzinfo=OSLO)
        sim = simulator_for(
            http=self.client, settings=self.settings, config=self.config, start=start, **kwargs
        )
        self.rest.attach(sim)
        return sim

    def transfer(self, sim: TwilioSimulator, call_sid: str, department: str, **body: object):
        return self.client.post(
            f"/api/calls/{call_sid}/transfer",
            json={"department": department, **body},
            headers={"X-Simulated-Time": sim.now.isoformat()},
        )


@pytest.fixture
def world(tmp_path, redis_url):
    settings = make_settings(tmp_path, redis_url)
    rest = SimulatedRest(
        account_sid=settings.twilio_account_sid, auth_token=settings.auth_tokens[0]
    )
    twilio = twilio_client(settings, http_client=rest)
    app = create_app(settings, twilio=twilio, simulated_clock=True)
    with TestClient(app, headers=auth("agent")) as client:
        yield World(client, settings, app.state.services.ctx.config, rest)


def events(redis_client, call_sid: str, kind: str) -> list[dict]:
    found = []
    for _id, fields in redis_client.xrange("switchboard:events"):
        decoded = {k.decode(): v.decode() for k, v in fields.items()}
        if decoded["call_sid"] == call_sid and decoded["kind"] == kind:
            found.append(json.loads(decoded["data"]))
    return found


def agent_on_line(sim: TwilioSimulator) -> None:
    sim.place_call(
        from_=CLIENT_AGENT,
        to=AGENT_LINE,
        script=[],
        at=sim.now + timedelta(seconds=1),
    )


def transfer_at(world: World, sim: TwilioSimulator, seconds: float, sid: str, dept: str) -> list:
    """The agent presses "transfer" at a virtual instant; the API's responses land in the list."""
    responses: list = []
    when = sim.now + timedelta(seconds=seconds)
    sim.at(when, lambda: responses.append(world.transfer(sim, sid, dept)))
    return responses


def test_agent_transfer_of_a_bridged_caller_is_whispered_and_connected(world, redis_client):
    sim = world.simulator("2026-11-25T10:00", departments={BYGGESAK: Department.accepts("1")})
    agent_on_line(sim)
    # The caller would talk 10 minutes with the agent; the transfer cuts that short.
    call = sim.place_call(from_=MOBILE, to=MAIN, script=[press("0"), talk(600), talk(30)])
    responses = transfer_at(world, sim, 120, call.sid, "byggesak")
    sim.run()

    assert [r.status_code for r in responses] == [202]
    assert responses[0].json()["initiator"] == "agent"
    text = call.transcript_text()
    assert text.index(f"CONNECTED with {CLIENT_AGENT}") < text.index(f"CONNECTED with {BYGGESAK}")
    assert "Du blir sett over til byggesak, plan og oppmåling." in text
    [started] = events(redis_client, call.sid, "transfer_started")
    assert (started["initiator"], started["department"]) == ("agent", "byggesak")
    [result] = events(redis_client, call.sid, "transfer_result")
    assert (result["initiator"], result["outcome"], result["bounce"]) == (
        "agent",
        "connected",
        False,
    )
    assert result["transfer_id"] == started["transfer_id"]
    [left] = events(redis_client, call.sid, "queue_left")
    assert left["result"] == "redirected-from-bridged"  # not an abandon
    [redirect] = world.rest.requests
    assert redirect.data["Method"] == "POST"
    assert redirect.data["Url"].startswith(f"{world.settings.public_url}/twilio/transfer/start?")


def test_agent_transfer_that_bounces_comes_back_first_in_the_returns_queue(world, redis_client):
    sim = world.simulator("2026-11-25T10:00", departments={BARNEHAGE: Department.busy()})
    agent_on_line(sim)
    call = sim.place_call(from_=MOBILE, to=MAIN, script=[press("0"), talk(600), talk(20)])
    responses = transfer_at(world, sim, 120, call.sid, "barnehage_skule")
    sim.run()

    assert [r.status_code for r in responses] == [202]
    [result] = events(redis_client, call.sid, "transfer_result")
    assert (result["initiator"], result["outcome"]) == ("agent", "busy")
    assert (result["bounce"], result["redirected"], result["next"]) == (True, False, "queue")
    joined = events(redis_client, call.sid, "queue_joined")
    assert [(j["queue"], j["bounced_from"]) for j in joined] == [
        ("main", None),
        ("returns", result["transfer_id"]),
    ]
    answered = events(redis_client, call.sid, "queue_answered")
    assert [a["queue"] for a in answered] == ["main", "returns"]
    assert "Det er dessverre oppteke hjå barnehage og skule." in call.transcript_text()


def test_the_dial_a_redirect_interrupts_is_not_a_bounce(world, redis_client):
    # The caller is ringing a department that will not answer when the agent moves them.
    sim = world.simulator(
        "2026-11-25T10:00",
        departments={BARNEHAGE: Department.no_answer(), BYGGESAK: Department.accepts("1")},
    )
    call = sim.place_call(from_=MOBILE, to=MAIN, script=[press("2"), talk(30)])
    sim.run_until(sim.now + timedelta(seconds=45))  # the Dial rings from 33 s to 58 s
    assert "DIAL +4756375102 (timeout" in call.transcript_text()
    assert "DIAL +4756375102 →" not in call.transcript_text()
    response = world.transfer(sim, call.sid, "byggesak")
    sim.run()

    assert response.status_code == 202
    interrupted, moved = events(redis_client, call.sid, "transfer_result")
    assert (interrupted["initiator"], interrupted["department"]) == ("ivr", "barnehage_skule")
    assert (interrupted["bounce"], interrupted["redirected"]) == (False, True)
    assert interrupted["next"] is None
    assert (moved["initiator"], moved["outcome"], moved["redirected"]) == (
        "agent",
        "connected",
        False,
    )
    assert events(redis_client, call.sid, "queue_joined") == []
    assert f"CONNECTED with {BYGGESAK}" in call.transcript_text()


def test_a_call_that_has_ended_is_409_and_the_marker_was_written_first(world, redis_client):
    sim = world.simulator("2026-11-25T10:00")
    call = sim.place_call(from_=MOBILE, to=MAIN, script=[press("1"), talk(5)])
    sim.run()
    assert call.ended

    response = world.transfer(sim, call.sid, "nav")

    assert response.status_code == 409
    assert response.json()["detail"]["error"] == "call_not_in_progress"
    assert [r.status for r in world.rest.requests] == [400]
    assert redis_client.get(f"sb:live:call:{call.sid}:redirected") is not None


def test_a_call_twilio_does_not_know_is_404(world):
    sim = world.simulator("2026-11-25T10:00")
    response = world.transfer(sim, "CA" + "f" * 32, "nav")
    assert response.status_code == 404
    assert response.json()["detail"]["error"] == "unknown_call"


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [(500, 20500, "twilio_error"), (429, 20429, "twilio_error"), (401, 20003, "twilio_error")],
)
def test_other_twilio_failures_are_502(world, status, code, expected):
    sim = world.simulator("2026-11-25T10:00")
    call = sim.place_call(from_=MOBILE, to=MAIN, script=[press("0")])
    sim.run_until(sim.now + timedelta(seconds=30))
    world.rest.fail_next(status=status, code=code, message="scripted")

    response = world.transfer(sim, call.sid, "nav")

    assert response.status_code == 502
    assert response.json()["detail"]["error"] == expected
    assert "REDIRECT" not in call.transcript_text()


@pytest.mark.parametrize(
    ("sid", "body", "status", "error"),
    [
        ("CA" + "1" * 32, {"department": "sentralbord"}, 422, "unknown_department"),
        ("not-a-sid", {"department": "nav"}, 422, "invalid_request"),
        ("CA" + "1" * 32, {"department": "skatt_gebyr"}, 409, "department_closed"),
    ],
)
def test_requests_refused_before_twilio_is_asked(world, sid, body, status, error):
    at = datetime(2026, 11, 25, 9, 30, tzinfo=OSLO)  # skatt opens at 10:00
    response = world.client.post(
        f"/api/calls/{sid}/transfer", json=body, headers={"X-Simulated-Time": at.isoformat()}
    )
    assert response.status_code == status
    assert response.json()["detail"]["error"] == error
    assert world.rest.requests == []


def test_a_request_without_a_department_is_422(world):
    response = world.client.post(f"/api/calls/CA{'1' * 32}/transfer", json={})
    assert response.status_code == 422
    assert world.rest.requests == []
