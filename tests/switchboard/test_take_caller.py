"""Taking a chosen caller ("Ta denne") and the agent line's returns without a race.

The app runs for real (Redis, SQLite, a roster with two phone agents and a Twilio Client
agent); Twilio is the simulator, for the calls and for the REST API behind the SDK's
`http_client` seam. Agents sign in with a real staff session (the agent's roster id on it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from sim.call_trial import AGENT_LINE, place_agent
from sim.twilio import Call, Department, TwilioSimulator, hang_up_after, press
from switchboard.audit import entries
from switchboard.models import QueueVisit
from tests.fixtures.agents import (
    AGENT_NUMBER,
    CLIENT_AGENT,
    OTHER_AGENT_NUMBER,
    OTHER_PIN,
    PIN,
)
from tests.switchboard.agentworld import START, AgentWorld, agent_app
from tests.switchboard.apphost import auth
from workers.ingest import Ingestor
from workers.records import load_projector

MAIN = "+4756375000"
BARNEHAGE = "+4756375102"
FIRST, SECOND = "+4791234567", "+4798765432"
BUSY_BARNEHAGE = "Retur frå barnehage og skule. Det var oppteke."


class World(AgentWorld):
    def simulator(self, departments: Mapping[str, Department] | None = None) -> TwilioSimulator:
        """Barnehage is busy: a caller who asks for it comes back."""
        return super().simulator(departments or {BARNEHAGE: Department.busy()})

    def take(self, sim: TwilioSimulator, call_sid: str, headers: dict[str, str]):
        return self.client.post(
            f"/api/queue/{call_sid}/take",
            headers={**headers, "X-Simulated-Time": sim.now.isoformat()},
        )

    def visits(self) -> list[QueueVisit]:
        ingestor = Ingestor(
            redis=self.services.redis,
            engine=self.services.engine,
            stream=self.settings.stream,
            consumer="test",
            caller_key=self.settings.caller_key,
            projector=load_projector(caller_key=self.settings.caller_key),
            seal=self.settings.number_seal,
        )
        ingestor.ensure_group()
        while ingestor.run_once():
            pass
        with Session(self.services.engine) as session:
            return list(session.scalars(select(QueueVisit).order_by(QueueVisit.joined_at)))


@pytest.fixture
def world(tmp_path, redis_url) -> Iterator[World]:
    with agent_app(tmp_path, redis_url) as base:
        yield World(**vars(base))


def bounced_caller(sim: TwilioSimulator, number: str, *, after: float) -> Call:
    """A citizen who asks for barnehage (busy), comes back, and waits up to 5 minutes."""
    return sim.place_call(
        from_=number,
        to=MAIN,
        script=[hang_up_after(300), press("2")],
        at=START + timedelta(seconds=after),
    )


def client_agent(sim: TwilioSimulator, *, after: float, stays: float = 400) -> Call:
    return sim.place_call(
        from_=CLIENT_AGENT,
        to=AGENT_LINE,
        script=[hang_up_after(stays)],
        at=START + timedelta(seconds=after),
    )


def connected(call: Call, agent: str) -> bool:
    return f"CONNECTED with {agent}" in call.transcript_text()


def test_an_agent_takes_a_chosen_returned_caller_and_hears_why(world):
    sim = world.simulator()
    agent = client_agent(sim, after=0)  # idle on the main queue before anyone returns
    first = bounced_caller(sim, FIRST, after=1)
    second = bounced_caller(sim, SECOND, after=10)
    sim.run_until(START + timedelta(seconds=60))
    assert [m.call.sid for m in sim.queue("sentralbord-retur").members] == [first.sid, second.sid]

    response = world.take(sim, second.sid, world.signed_in("sentralbord"))
    sim.run_until(START + timedelta(seconds=90))

    assert response.status_code == 202, response.text
    body = response.json()
    assert (body["agent"], body["queue"], body["department"], body["cause"]) == (
        "sentralbord",
        "returns",
        "barnehage_skule",
        "busy",
    )
    # The chosen caller, not the one ahead of them, is with the agent; the agent heard why.
    assert connected(second, CLIENT_AGENT)
    assert not connected(first, CLIENT_AGENT)
    assert [m.call.sid for m in sim.queue("sentralbord-retur").members] == [first.sid]
    text = agent.transcript_text()
    assert text.index(BUSY_BARNEHAGE) < text.index(f"CONNECTED with {SECOND}")
    [entry] = entries(world.services.engine, action="caller_taken")
    assert entry.actor == "sentralbord@alver.kommune.no"
    assert entry.detail["call_sid"] == second.sid

    sim.run()
    visits = [v for v in world.visits() if v.call_sid == second.sid]
    # One visit, answered when the agent's <Queue url> fired: never "redirected".
    assert [(v.queue, v.ended) for v in visits] == [("returns", "answered")]
    [visit] = visits
    # Time queued in both queues, not only in the agent's (Twilio's QueueTime restarts there).
    text = second.transcript_text()
    moved = re.search(r"QUEUE sentralbord-retur → redirected \(waited (\d+) s\)", text)
    taken = re.search(r"DEQUEUED from agent-sentralbord by client:sentralbord after (\d+) s", text)
    assert moved, text
    assert taken, text
    assert visit.wait_seconds == int(moved[1]) + int(taken[1])
    stats = world.client.get(
        "/api/stats?from=2026-11-25&to=2026-11-26&queue=returns", headers=auth("manager")
    )
    queue = {name: figure["value"] for name, figure in stats.json()["queue"]["total"].items()}
    # Both returned callers: one visit each, both answered (the first after the second's
    # conversation), none counted as redirected.
    assert (queue["offered"], queue["answered"], queue["redirected"]) == (2, 2, 0)


def test_two_agents_taking_one_caller_one_gets_them_the_other_409(world):
    sim = world.simulator()
    kari = place_agent(
        sim, world.config.switchboard.agents.find(AGENT_NUMBER), pin=PIN, stays=400, at=START
    )
    ola = place_agent(
        sim,
        world.config.switchboard.agents.find(OTHER_AGENT_NUMBER),
        pin=OTHER_PIN,
        stays=400,
        at=START,
    )
    caller = bounced_caller(sim, FIRST, after=30)
    sim.run_until(START + timedelta(seconds=90))

    won = world.take(sim, caller.sid, world.signed_in("kari"))
    lost = world.take(sim, caller.sid, world.signed_in("ola"))
    sim.run_until(START + timedelta(seconds=120))

    assert won.status_code == 202
    assert lost.status_code == 409
    assert lost.json()["detail"]["error"] == "already_taken"
    assert connected(caller, AGENT_NUMBER)
    assert not connected(caller, OTHER_AGENT_NUMBER)
    # Ola's line was never moved: still on the main queue, not on an empty one of Kari's.
    assert "agent-kari" not in ola.transcript_text()
    assert BUSY_BARNEHAGE not in ola.transcript_text()
    assert BUSY_BARNEHAGE in kari.transcript_text()


def test_refusals_say_what_is_wrong_and_move_nobody(world):
    sim = world.simulator()
    caller = bounced_caller(sim, FIRST, after=0)
    sim.run_until(START + timedelta(seconds=60))

    not_connected = world.take(sim, caller.sid, world.signed_in("kari"))
    token = world.client.post(
        f"/api/queue/{caller.sid}/take",
        headers={**auth("agent"), "X-Simulated-Time": sim.now.isoformat()},
    )

    assert not_connected.status_code == 409
    assert not_connected.json()["detail"]["error"] == "agent_not_connected"
    assert token.status_code == 409
    assert token.json()["detail"]["error"] == "no_agent_id"
    assert world.rest.requests == []  # Twilio was never asked to move anyone
    assert [m.call.sid for m in sim.queue("sentralbord-retur").members] == [caller.sid]

    # An agent connects, takes the caller (the agent line), talks, and is idle again.
    client_agent(sim, after=61, stays=300)
    sim.run_until(START + timedelta(seconds=200))
    assert connected(caller, CLIENT_AGENT)
    unknown = world.take(sim, "CA" + "f" * 32, world.signed_in("sentralbord"))
    assert unknown.status_code == 409
    assert unknown.json()["detail"]["error"] == "not_waiting"


def test_a_twilio_failure_is_502_and_the_caller_can_be_taken_again(world):
    sim = world.simulator()
    client_agent(sim, after=0)
    caller = bounced_caller(sim, FIRST, after=1)
    sim.run_until(START + timedelta(seconds=60))
    headers = world.signed_in("sentralbord")
    world.services.moves.sids.get("sentralbord-retur")  # the queue list is read once, and kept
    world.rest.fail_next(status=500, code=20500, message="Internal Server Error")

    failed = world.take(sim, caller.sid, headers)
    retried = world.take(sim, caller.sid, headers)
    sim.run_until(START + timedelta(seconds=90))

    assert failed.status_code == 502
    assert "Twilio did not move the caller" in failed.json()["detail"]["message"]
    assert retried.status_code == 202  # the claim was released
    assert connected(caller, CLIENT_AGENT)


def test_agent_line_race_one_agent_gets_the_return_the_other_the_main_queue(world):
    sim = world.simulator()
    returned = bounced_caller(sim, FIRST, after=0)
    sim.run_until(START + timedelta(seconds=50))
    assert [m.call.sid for m in sim.queue("sentralbord-retur").members] == [returned.sid]
    # Both agents connect in the same second while one returned caller waits.
    kari = place_agent(
        sim, world.config.switchboard.agents.find(AGENT_NUMBER), pin=PIN, stays=200, at=sim.now
    )
    ola = place_agent(
        sim,
        world.config.switchboard.agents.find(OTHER_AGENT_NUMBER),
        pin=OTHER_PIN,
        stays=200,
        at=sim.now,
    )
    later = sim.place_call(
        from_=SECOND,
        to=MAIN,
        script=[hang_up_after(300), press("0")],
        at=sim.now + timedelta(seconds=40),
    )
    sim.run()

    takers = [a for a in (kari, ola) if BUSY_BARNEHAGE in a.transcript_text()]
    assert len(takers) == 1
    [taker] = takers
    other = ola if taker is kari else kari
    assert connected(returned, taker.from_)
    # The other agent waited on the main queue (never an empty returns queue) and got the
    # next citizen there.
    assert "DIAL queue sentralbord-retur" not in other.transcript_text()
    assert "DIAL queue sentralbord (timeout" in other.transcript_text()
    assert connected(later, other.from_)
    events = [
        json.loads(fields[b"data"])
        for _id, fields in world.services.redis.xrange(world.settings.stream)
        if fields[b"kind"] == b"queue_moved"
    ]
    assert [(e["queue"], e["to_queue"]) for e in events] == [
        ("returns", f"agent-{_id_of(world, taker)}")
    ]


def _id_of(world: World, agent: Call) -> str:
    found = world.config.switchboard.agents.find(agent.from_)
    assert found is not None
    return found.id


def test_when_twilio_fails_the_agent_line_dials_the_returns_queue_where_the_caller_waits(world):
    sim = world.simulator()
    returned = bounced_caller(sim, FIRST, after=0)
    sim.run_until(START + timedelta(seconds=50))
    world.rest.fail_next(status=503, code=20503, message="Service Unavailable")
    agent = client_agent(sim, after=50, stays=400)
    sim.run_until(START + timedelta(seconds=70))

    # Not moved (Twilio said 503), so still in the returns queue: the agent dials it and
    # takes them, hearing only that a returned caller comes.
    assert [r.status for r in world.rest.requests] == [503]
    text = agent.transcript_text()
    assert "Innringar som kjem i retur frå ei avdeling." in text
    assert "DIAL queue sentralbord-retur (timeout 120 s)" in text
    assert connected(returned, CLIENT_AGENT)
    sim.run()
    visits = [v for v in world.visits() if v.call_sid == returned.sid]
    assert [(v.queue, v.ended) for v in visits] == [("returns", "answered")]


def test_a_caller_whose_agent_left_goes_back_to_the_returns_queue(world):
    sim = world.simulator()
    returned = bounced_caller(sim, FIRST, after=0)
    sim.run_until(START + timedelta(seconds=50))
    # The agent is given the caller, and hangs up while hearing who it is.
    quitter = client_agent(sim, after=50, stays=2)
    sim.run_until(START + timedelta(seconds=60))
    assert [m.call.sid for m in sim.queue("agent-sentralbord").members] == [returned.sid]
    kari = place_agent(
        sim,
        world.config.switchboard.agents.find(AGENT_NUMBER),
        pin=PIN,
        stays=200,
        at=START + timedelta(seconds=280),
    )
    sim.run()

    assert not connected(returned, CLIENT_AGENT)
    assert "CONNECTED" not in quitter.transcript_text()
    # Back in the returns queue once the agent's idle line had lapsed, then taken by Kari.
    text = returned.transcript_text()
    after_the_move = text[text.index("ENQUEUE agent-sentralbord") :]
    assert "QUEUE agent-sentralbord → leave" in after_the_move
    assert "ENQUEUE sentralbord-retur" in after_the_move
    assert connected(returned, AGENT_NUMBER)
    assert BUSY_BARNEHAGE in kari.transcript_text()
    visits = [v for v in world.visits() if v.call_sid == returned.sid]
    assert [(v.queue, v.ended) for v in visits] == [("returns", "answered")]


def test_when_the_agents_line_cannot_be_redirected_the_caller_goes_back_in_line(world):
    sim = world.simulator()
    agent = client_agent(sim, after=0)
    caller = bounced_caller(sim, FIRST, after=1)
    sim.run_until(START + timedelta(seconds=60))
    headers = world.signed_in("sentralbord")
    world.rest.fail_next(status=500, code=20500, message="Internal Server Error", path="/Calls/")

    failed = world.take(sim, caller.sid, headers)
    sim.run_until(START + timedelta(seconds=70))

    assert failed.status_code == 502
    assert "the caller is back in the queue" in failed.json()["detail"]["message"]
    assert [m.call.sid for m in sim.queue("sentralbord-retur").members] == [caller.sid]
    assert "Retur frå" not in agent.transcript_text()
    # Unclaimed again: the next try hands them over.
    retried = world.take(sim, caller.sid, headers)
    sim.run_until(START + timedelta(seconds=90))
    assert retried.status_code == 202
    assert connected(caller, CLIENT_AGENT)
    sim.run()
    visits = [v for v in world.visits() if v.call_sid == caller.sid]
    assert [(v.queue, v.ended) for v in visits] == [("returns", "answered")]
