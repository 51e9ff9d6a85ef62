"""Agent status through the real app, with the simulator playing Twilio: a paused agent is
never bridged to a caller, ready again they are; nobody ready means new callers are offered a
callback or an SMS first; and the status API's roles, CSRF and refusals.

The app runs for real (Redis, SQLite, a roster with two phone agents and a Twilio Client agent);
Twilio is the simulator, for the calls and for the REST API behind the SDK's `http_client` seam.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from sim.call_trial import AGENT_LINE
from sim.twilio import Call, TwilioSimulator, hang_up_after, press, talk
from switchboard.audit import entries
from switchboard.observability.exporter import BusinessCollector, exporter_registry
from tests.fixtures.agents import CLIENT_AGENT
from tests.switchboard.agentworld import START, AgentWorld, agent_app
from tests.switchboard.apphost import auth

MAIN = "+4756375000"
CITIZEN, OTHER = "+4791234567", "+4798765432"
PAUSED = "Du har pause, og får ingen innringarar. Trykk 1 når du er klar."
OFFER = "Akkurat no er ingen på sentralbordet ledige."


class World(AgentWorld):
    def set_status(self, sim: TwilioSimulator, headers: dict[str, str], **body: str):
        return self.client.post(
            "/api/agents/me/status",
            json=body,
            headers={**headers, "X-Simulated-Time": sim.now.isoformat()},
        )

    def statuses(
        self, sim: TwilioSimulator, headers: dict[str, str]
    ) -> dict[str, tuple[str, str | None, bool]]:
        response = self.client.get(
            "/api/agents", headers={**headers, "X-Simulated-Time": sim.now.isoformat()}
        )
        assert response.status_code == 200, response.text
        return {
            a["id"]: (a["status"], a["reason"], a["connected"]) for a in response.json()["agents"]
        }

    def counted(self, name: str, **labels: str) -> float:
        return self.registry.get_sample_value(name, labels) or 0.0


@pytest.fixture
def world(tmp_path, redis_url) -> Iterator[World]:
    with agent_app(tmp_path, redis_url) as base:
        yield World(**vars(base))


def client_agent(sim: TwilioSimulator, *, after: float, stays: float = 600) -> Call:
    return sim.place_call(
        from_=CLIENT_AGENT,
        to=AGENT_LINE,
        script=[hang_up_after(stays)],
        at=START + timedelta(seconds=after),
    )


def caller(sim: TwilioSimulator, number: str, *keys: str, after: float) -> Call:
    """A citizen who asks for the switchboard (0 in the open menu), then presses `keys`."""
    return sim.place_call(
        from_=number,
        to=MAIN,
        script=[hang_up_after(400), press("0"), *(press(k) for k in keys)],
        at=START + timedelta(seconds=after),
    )


def connected(call: Call, agent: str) -> bool:
    return f"CONNECTED with {agent}" in call.transcript_text()


def at(seconds: float) -> datetime:
    return START + timedelta(seconds=seconds)


def test_a_paused_agent_gets_no_caller_and_ready_again_gets_them(world):
    sim = world.simulator()
    agent = client_agent(sim, after=0)
    sim.run_until(at(5))
    headers = world.signed_in("sentralbord")
    assert world.statuses(sim, headers)["sentralbord"] == ("ready", None, True)

    paused = world.set_status(sim, headers, status="paused", reason="lunch")
    assert paused.status_code == 200, paused.text
    assert paused.json()["line"] == "paused"
    # The citizen hears the overflow offer (nobody ready), stays silent, and joins the queue.
    citizen = caller(sim, CITIZEN, after=10)
    sim.run_until(at(100))

    assert PAUSED in agent.transcript_text()
    assert not connected(citizen, CLIENT_AGENT)
    assert [m.call.sid for m in sim.queue("sentralbord").members] == [citizen.sid]
    assert world.statuses(sim, headers)["sentralbord"] == ("paused", "lunch", True)
    assert world.statuses(sim, auth("manager"))["sentralbord"][0] == "paused"

    ready = world.set_status(sim, headers, status="ready")
    sim.run_until(at(130))

    assert ready.json()["line"] == "connected"
    assert connected(citizen, CLIENT_AGENT)
    assert world.statuses(sim, headers)["sentralbord"][0] == "ready"
    # Each change is counted and audited.
    assert world.counted("switchboard_agent_status_changes_total", status="paused") == 1
    audited = entries(world.services.engine, action="agent_status")  # the newest first
    assert [(e.actor, e.detail["status"]) for e in audited] == [
        ("sentralbord@alver.kommune.no", "ready"),
        ("sentralbord@alver.kommune.no", "paused"),
    ]


def test_a_paused_agent_presses_1_to_be_ready_again(world):
    sim = world.simulator()
    agent = sim.place_call(
        from_=CLIENT_AGENT,
        to=AGENT_LINE,
        script=[hang_up_after(600), press("1")],
        at=at(0),
    )
    sim.run_until(at(2))
    headers = world.signed_in("sentralbord")
    world.set_status(sim, headers, status="paused", reason="meeting")
    citizen = caller(sim, CITIZEN, "0", after=5)
    sim.run_until(at(90))

    assert PAUSED in agent.transcript_text()
    assert connected(citizen, CLIENT_AGENT)
    assert world.statuses(sim, headers)["sentralbord"][0] == "ready"


def test_nobody_ready_offers_a_callback_and_8_records_it(world):
    sim = world.simulator()
    client_agent(sim, after=0, stays=5)  # in and out: the roster is known, nobody is ready
    sim.run_until(at(10))
    citizen = caller(sim, CITIZEN, "8", after=10)
    sim.run_until(at(60))

    text = citizen.transcript_text()
    assert OFFER in text
    assert "Takk. Vi ringjer deg opp på nummeret som sluttar på" in text
    assert sim.queue("sentralbord").members == []
    assert world.counted("switchboard_overflow_offered_total", why="no_agent_ready") == 1
    assert world.statuses(sim, auth("manager"))["sentralbord"] == ("offline", None, False)


def test_nobody_ready_and_0_joins_the_queue_anyway(world):
    sim = world.simulator()
    client_agent(sim, after=0, stays=5)
    citizen = caller(sim, OTHER, "0", after=10)
    sim.run_until(at(60))

    assert OFFER in citizen.transcript_text()
    assert [m.call.sid for m in sim.queue("sentralbord").members] == [citizen.sid]


def test_the_status_api_refuses_tokens_without_a_roster_id_and_sessions_without_csrf(world):
    sim = world.simulator()
    token = world.client.post(
        "/api/agents/me/status", json={"status": "ready"}, headers=auth("agent")
    )
    assert token.status_code == 409
    assert token.json()["detail"]["error"] == "no_agent_id"

    headers = world.signed_in("kari")
    forged = world.set_status(sim, {"Cookie": headers["Cookie"]}, status="offline")
    assert forged.status_code == 403
    no_reason = world.set_status(sim, headers, status="paused")
    assert no_reason.status_code == 422
    offline = world.set_status(sim, headers, status="offline")
    assert offline.status_code == 200
    assert offline.json()["line"] is None  # not on the agent line: nothing to move

    operators = world.client.get("/api/agents", headers=auth("operator"))
    assert operators.status_code == 403
    listed = world.client.get("/api/agents", headers=auth("agent")).json()["agents"]
    assert {a["id"] for a in listed} == {a.id for a in world.config.switchboard.agents.roster}
    assert all(set(a) == {"id", "name", "status", "reason", "since", "connected"} for a in listed)


def test_the_exporter_counts_agents_by_status(world):
    sim = world.simulator()
    client_agent(sim, after=0)  # sentralbord: on the line, ready
    sim.run_until(at(5))
    paused = world.set_status(sim, world.signed_in("kari"), status="paused", reason="admin")
    assert paused.status_code == 200, paused.text
    collector = BusinessCollector(
        engine=world.services.engine,
        redis=world.services.redis,
        config=world.config,
        stream=world.settings.stream,
        clock=lambda: at(10),
    )
    registry = exporter_registry(collector)

    def gauge(name: str, **labels: str) -> float | None:
        return registry.get_sample_value(name, labels)

    roster = len(world.config.switchboard.agents.roster)
    assert gauge("switchboard_agents_ready") == 1
    assert gauge("switchboard_agents", status="ready") == 1
    assert gauge("switchboard_agents", status="paused") == 1
    assert gauge("switchboard_agents", status="offline") == roster - 2


def test_logging_off_in_the_console_ends_an_idle_line(world):
    sim = world.simulator()
    agent = client_agent(sim, after=0)
    sim.run_until(at(5))
    headers = world.signed_in("sentralbord")

    off = world.set_status(sim, headers, status="offline")
    sim.run_until(at(30))

    assert off.json()["line"] == "off"
    assert "Du er logga av sentralbordlinja. Ha det." in agent.transcript_text()
    assert world.statuses(sim, headers)["sentralbord"] == ("offline", None, False)
    citizen = caller(sim, CITIZEN, "0", after=31)  # nobody ready: offered, then queued
    sim.run_until(at(90))
    assert OFFER in citizen.transcript_text()
    assert not connected(citizen, CLIENT_AGENT)


def test_a_long_expected_wait_offers_a_callback_even_with_an_agent_ready(world):
    sim = world.simulator()
    client_agent(sim, after=0)
    first = sim.place_call(from_=CITIZEN, to=MAIN, script=[press("0"), talk(300)], at=at(10))
    waiting = [caller(sim, f"+479100000{n}", after=20 + n) for n in range(3)]
    sim.run_until(at(60))
    assert connected(first, CLIENT_AGENT)  # the one ready agent is busy with the first

    # Three wait ahead: (3 + 1) x 90 s = 6 minutes, more than Alver's 5.
    late = caller(sim, OTHER, "0", after=61)
    sim.run_until(at(100))

    assert all("Ventetida er no over" not in c.transcript_text() for c in waiting)
    assert "Ventetida er no over 5 minutt." in late.transcript_text()
    members = [m.call.sid for m in sim.queue("sentralbord").members]
    assert members == [*(c.sid for c in waiting), late.sid]
    assert world.counted("switchboard_overflow_offered_total", why="long_wait") == 1
