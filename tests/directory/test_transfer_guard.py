"""The transfer guard through the real API, with the simulator playing a caller bridged to an
agent: a transfer to a department that closes in 3 minutes is refused with the warning, goes
ahead with the override (counted and audited), and the SMS and callback alternatives reach the
caller's number through the event log and the ingest, as the IVR's requests do."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.config import Config
from sim.call_trial import AGENT_LINE, simulator_for
from sim.twilio import Department, SimulatedRest, TwilioSimulator, press, talk
from switchboard.app import create_app
from switchboard.audit import entries
from switchboard.models import Callback, SmsMessage
from switchboard.settings import Settings
from switchboard.twilio_rest import twilio_client
from tests.fixtures.agents import CLIENT_AGENT
from tests.fixtures.calls import OSLO
from tests.switchboard.apphost import auth, make_settings
from workers.ingest import Ingestor

MOBILE = "+4791234567"
MAIN = "+4756375000"
BYGGESAK = "+4756375101"  # open 09:00-14:00 on weekdays


@dataclass
class World:
    client: TestClient
    settings: Settings
    config: Config
    rest: SimulatedRest

    @property
    def services(self) -> Any:
        return self.client.app.state.services  # type: ignore[attr-defined]

    def choices(self, choice: str, warning: str) -> float:
        registry = self.client.app.state.metrics.registry  # type: ignore[attr-defined]
        value = registry.get_sample_value(
            "switchboard_transfer_guard_choices_total", {"choice": choice, "warning": warning}
        )
        return value or 0.0


@pytest.fixture
def world(tmp_path: Path, redis_url: str) -> Iterator[World]:
    settings = make_settings(tmp_path, redis_url)
    rest = SimulatedRest(
        account_sid=settings.twilio_account_sid, auth_token=settings.auth_tokens[0]
    )
    twilio = twilio_client(settings, http_client=rest)
    app = create_app(settings, twilio=twilio, simulated_clock=True)
    with TestClient(app, headers=auth("agent")) as client:
        yield World(client, settings, app.state.services.ctx.config, rest)


def caller_with_agent(world: World, at: str) -> tuple[TwilioSimulator, Any]:
    """A caller who pressed 0 and is talking with the agent on the line at `at` (Oslo)."""
    start = datetime.fromisoformat(at).replace(tzinfo=OSLO)
    sim = simulator_for(
        http=world.client,
        settings=world.settings,
        config=world.config,
        start=start,
        departments={BYGGESAK: Department.accepts("1")},
    )
    world.rest.attach(sim)
    sim.place_call(from_=CLIENT_AGENT, to=AGENT_LINE, script=[], at=sim.now + timedelta(seconds=1))
    call = sim.place_call(from_=MOBILE, to=MAIN, script=[press("0"), talk(900), talk(30)])
    return sim, call


def at(sim: TwilioSimulator, seconds: float, action: Any) -> list[Any]:
    """What the agent does at a virtual instant; the API's answers land in the list."""
    answers: list[Any] = []
    sim.at(sim.now + timedelta(seconds=seconds), lambda: answers.append(action()))
    return answers


def post(world: World, sim: TwilioSimulator, path: str, **body: object) -> Any:
    return world.client.post(
        path,
        json={"department": "byggesak", **body},
        headers={"X-Simulated-Time": sim.now.isoformat()},
    )


def ingest(world: World, redis_client: redis.Redis) -> None:
    ingestor = Ingestor.from_settings(
        world.settings, redis=redis_client, engine=world.services.engine, consumer="test"
    )
    ingestor.ensure_group()
    while ingestor.run_once():
        pass


def test_the_guard_warns_on_a_department_that_closes_in_three_minutes(world: World) -> None:
    sim, call = caller_with_agent(world, "2026-11-25T13:50")
    path = f"/api/calls/{call.sid}/transfer"
    # 13:57: byggesak closes at 14:00. The agent is warned, then goes ahead.
    refused = at(sim, 420, lambda: post(world, sim, path))
    overridden = at(sim, 425, lambda: post(world, sim, path, override_guard=True))
    sim.run()

    [warning] = refused
    assert warning.status_code == 409
    assert warning.json()["detail"]["error"] == "guard_warning"
    assert warning.json()["detail"]["warnings"] == ["closes_soon"]
    [went] = overridden
    assert went.status_code == 202, went.text
    assert went.json()["overrode"] == ["closes_soon"]
    assert f"CONNECTED with {BYGGESAK}" in call.transcript_text()
    assert world.choices("went_ahead", "closes_soon") == 1
    [audited] = entries(world.services.engine, action="guard_override")
    assert audited.detail["department"] == "byggesak"
    assert audited.detail["warnings"] == ["closes_soon"]
    assert MOBILE not in str(audited.detail)
    assert MOBILE != audited.subject


def test_an_open_department_without_warnings_needs_no_override(world: World) -> None:
    sim, call = caller_with_agent(world, "2026-11-25T10:00")
    answers = at(sim, 120, lambda: post(world, sim, f"/api/calls/{call.sid}/transfer"))
    sim.run()
    assert [a.status_code for a in answers] == [202]
    assert answers[0].json()["overrode"] == []
    assert entries(world.services.engine, action="guard_override") == []


def test_the_sms_alternative_sends_the_caller_the_departments_link(
    world: World, redis_client: redis.Redis
) -> None:
    sim, call = caller_with_agent(world, "2026-11-25T13:50")
    answers = at(sim, 420, lambda: post(world, sim, f"/api/calls/{call.sid}/sms-link"))
    sim.run()

    [answer] = answers
    assert answer.status_code == 202, answer.text
    assert answer.json()["to"] == "+47 ••• •• 567"
    assert answer.json()["guard_counted"] is True
    assert world.choices("sms", "closes_soon") == 1
    ingest(world, redis_client)
    with Session(world.services.engine) as session:
        [sms] = session.scalars(select(SmsMessage).where(SmsMessage.call_sid == call.sid)).all()
    assert (sms.number, sms.status) == (MOBILE, "queued")
    assert "https://www.alver.kommune.no/tenester/byggesak" in (sms.body or "")
    [audited] = entries(world.services.engine, action="caller_sms_link")
    assert MOBILE not in str(audited.detail)
    assert audited.subject != MOBILE


def test_the_callback_alternative_asks_the_department_to_call_back(
    world: World, redis_client: redis.Redis
) -> None:
    sim, call = caller_with_agent(world, "2026-11-25T13:50")
    answers = at(sim, 420, lambda: post(world, sim, f"/api/calls/{call.sid}/callback"))
    sim.run()

    assert [a.status_code for a in answers] == [202]
    assert world.choices("callback", "closes_soon") == 1
    ingest(world, redis_client)
    with Session(world.services.engine) as session:
        [callback] = session.scalars(select(Callback).where(Callback.call_sid == call.sid)).all()
    assert (callback.number, callback.status) == (MOBILE, "pending")
    assert len(entries(world.services.engine, action="caller_callback")) == 1


def test_cancelling_in_the_guard_is_counted(world: World) -> None:
    at_ = datetime(2026, 11, 25, 13, 57, tzinfo=OSLO).isoformat()
    response = world.client.post(
        "/api/directory/guard-cancelled",
        json={"department": "byggesak"},
        headers={"X-Simulated-Time": at_},
    )
    assert response.status_code == 200
    assert response.json() == {"department": "byggesak", "guard": ["closes_soon"], "counted": True}
    assert world.choices("cancelled", "closes_soon") == 1


def test_a_closed_department_stays_refused_even_with_the_override(world: World) -> None:
    at_ = datetime(2026, 11, 25, 14, 5, tzinfo=OSLO).isoformat()
    response = world.client.post(
        f"/api/calls/CA{'1' * 32}/transfer",
        json={"department": "byggesak", "override_guard": True},
        headers={"X-Simulated-Time": at_},
    )
    assert response.status_code == 409
    assert response.json()["detail"]["error"] == "department_closed"
    assert response.json()["detail"]["warnings"] == ["closed"]
    assert world.rest.requests == []


def test_live_state_knows_which_caller_the_agent_talks_with(world: World) -> None:
    sim, call = caller_with_agent(world, "2026-11-25T10:00")
    sim.run_until(sim.now + timedelta(seconds=120))
    assert f"CONNECTED with {CLIENT_AGENT}" in call.transcript_text()
    assert world.services.live.current_caller("sentralbord") == call.sid

    answers = at(sim, 1, lambda: post(world, sim, f"/api/calls/{call.sid}/transfer"))
    sim.run()
    assert [a.status_code for a in answers] == [202]
    # The agent is back on the line, waiting: there is no caller to "set over" any more.
    assert world.services.live.current_caller("sentralbord") is None
