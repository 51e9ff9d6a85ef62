"""Call handling by staff leaves audit entries: an agent's transfer, a return tagged, a callback
marked, each with the actor who did it (an API token's name or the signed-in person's), and
none for a change that was refused. Raw numbers stay out of the logs.

The app runs for real; Twilio is the simulator, for calls and for the REST API.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from sim.call_trial import simulator_for
from sim.twilio import Department, SimulatedRest, TwilioSimulator, press, talk
from switchboard.access import Principal
from switchboard.app import create_app
from switchboard.audit import Audited, entries
from switchboard.deps import Services
from switchboard.models import Callback, CallRecord, ReturnRecord
from switchboard.pseudonym import caller_pseudonym
from switchboard.settings import Settings
from switchboard.staff_sessions import COOKIE
from switchboard.twilio_rest import twilio_client
from tests.switchboard.apphost import auth, make_settings
from tests.switchboard.test_agent_transfer import events

OSLO = ZoneInfo("Europe/Oslo")
MOBILE = "+4791234567"
KEYED = "+4741234567"  # a number keyed in for a callback, not the calling phone's
MAIN = "+4756375000"
BYGGESAK = "+4756375101"
BARNEHAGE = "+4756375102"
KARI = Principal(name="kari", role="agent", agent_id="sentralbord", display_name="Kari")
TOKEN_ACTOR = "test agent"  # the agent token's name in apphost


@dataclass
class World:
    client: TestClient
    settings: Settings
    services: Services
    rest: SimulatedRest

    def pseudonym(self, number: str) -> str:
        return caller_pseudonym(number, key=self.settings.caller_key)

    def session_headers(self) -> dict[str, str]:
        """A signed-in agent's cookie and CSRF token, as the console sends them."""
        cookie, session = self.services.sessions.start(KARI, method="oidc")
        return {"Cookie": f"{COOKIE}={cookie}", "X-CSRF-Token": session.csrf}

    def audited(self, action: str) -> list[Audited]:
        return list(reversed(entries(self.services.engine, action=action)))


@pytest.fixture
def world(tmp_path, redis_url) -> Iterator[World]:
    settings = make_settings(tmp_path, redis_url)
    rest = SimulatedRest(
        account_sid=settings.twilio_account_sid, auth_token=settings.auth_tokens[0]
    )
    app = create_app(
        settings, twilio=twilio_client(settings, http_client=rest), simulated_clock=True
    )
    with TestClient(app) as client:
        yield World(client, settings, app.state.services, rest)


# Who acts: the agent's API token, or an agent signed in to the console.
WHO: dict[str, tuple[Callable[[World], dict[str, str]], str]] = {
    "token": (lambda _world: auth("agent"), TOKEN_ACTOR),
    "session": (World.session_headers, KARI.name),
}


def _record_call(world: World, call_sid: str, caller: str, at: datetime) -> None:
    """The call's record, as the ingest projects it while the call goes on."""
    local = at.astimezone(OSLO)
    with Session(world.services.engine) as session, session.begin():
        session.add(
            CallRecord(
                call_sid=call_sid, caller=caller, started_at=at, state="active",
                outcome="in_progress", transfers_count=0, bounces_count=0, priority=False,
                last_event_at=at, day_local=local.date(), hour_local=local.hour,
                weekday_local=local.weekday(),
            )
        )  # fmt: skip


def _ringing_call(world: World) -> tuple[TwilioSimulator, str]:
    """A caller ringing barnehage (who will not answer), 45 s into the call."""
    start = datetime.fromisoformat("2026-11-25T10:00").replace(tzinfo=OSLO)
    sim = simulator_for(
        http=world.client,
        settings=world.settings,
        config=world.services.ctx.config,
        start=start,
        departments={BARNEHAGE: Department.no_answer(), BYGGESAK: Department.accepts("1")},
    )
    world.rest.attach(sim)
    call = sim.place_call(from_=MOBILE, to=MAIN, script=[press("2"), talk(30)])
    sim.run_until(sim.now + timedelta(seconds=45))
    return sim, call.sid


@pytest.mark.parametrize("who", sorted(WHO))
def test_an_agent_transfer_is_audited_with_its_transfer_id(
    world: World, redis_client: redis.Redis, who: str
) -> None:
    headers, actor = WHO[who]
    sim, call_sid = _ringing_call(world)
    _record_call(world, call_sid, world.pseudonym(MOBILE), sim.now)
    moved = world.client.post(
        f"/api/calls/{call_sid}/transfer",
        json={"department": "byggesak"},
        headers={**headers(world), "X-Simulated-Time": sim.now.isoformat()},
    )
    sim.run()
    assert moved.status_code == 202, moved.text
    [entry] = world.audited("transfer")
    assert entry.actor == actor
    assert entry.subject == world.pseudonym(MOBILE)
    assert entry.detail["department"] == "byggesak"
    # The same transfer id as the transfer's own events, so the log and the statistics meet.
    agent_started = [
        e for e in events(redis_client, call_sid, "transfer_started")
        if e["initiator"] == "agent"
    ]  # fmt: skip
    assert [e["transfer_id"] for e in agent_started] == [entry.detail["transfer_id"]]


def test_a_transfer_twilio_refuses_is_not_audited_and_an_unknown_caller_has_no_subject(
    world: World,
) -> None:
    sim, call_sid = _ringing_call(world)
    at = {"X-Simulated-Time": sim.now.isoformat()}
    unknown = world.client.post(
        "/api/calls/CA" + "f" * 32 + "/transfer",
        json={"department": "byggesak"},
        headers={**auth("agent"), **at},
    )
    assert unknown.status_code == 404
    assert world.audited("transfer") == []
    moved = world.client.post(
        f"/api/calls/{call_sid}/transfer",
        json={"department": "byggesak"},
        headers={**auth("agent"), **at},
    )
    assert moved.status_code == 202
    [entry] = world.audited("transfer")
    assert entry.subject is None  # no call record yet: never a number instead


def _rows(world: World) -> None:
    """A pending callback (id 1) to a keyed-in number, and a return t1 of a recorded call."""
    now = datetime.now(UTC)
    _record_call(world, "CA" + "1" * 32, world.pseudonym(MOBILE), now)
    with Session(world.services.engine) as session, session.begin():
        session.add(
            Callback(
                id=1, event_id="1-0", call_sid="CA" + "1" * 32, number=KEYED,
                caller=world.pseudonym(MOBILE), language="nn", requested_at=now,
                status="pending",
            )
        )  # fmt: skip
        session.add(
            ReturnRecord(
                transfer_id="t1", call_sid="CA" + "1" * 32, transfer_call_sid="CA" + "2" * 32,
                kind="bounce", cause="busy", detected_at=now, department="byggesak",
                initiator="ivr", day_local=now.date(), hour_local=now.hour,
                weekday_local=now.weekday(),
            )
        )  # fmt: skip


@pytest.mark.parametrize("who", sorted(WHO))
def test_a_return_tag_is_audited(world: World, who: str) -> None:
    headers, actor = WHO[who]
    _rows(world)
    for reason in ("other", "wrong_department"):
        tagged = world.client.post(
            "/api/returns/t1", json={"reason": reason}, headers=headers(world)
        )
        assert tagged.status_code == 200, tagged.text
    missing = world.client.post("/api/returns/t9", json={"reason": "other"}, headers=headers(world))
    assert missing.status_code == 404
    found = world.audited("return_tagged")
    assert [(e.actor, e.detail["transfer_id"], e.detail["reason"]) for e in found] == [
        (actor, "t1", "other"),
        (actor, "t1", "wrong_department"),
    ]
    assert {e.subject for e in found} == {world.pseudonym(MOBILE)}


@pytest.mark.parametrize("who", sorted(WHO))
def test_a_callback_mark_is_audited_once(world: World, who: str) -> None:
    headers, actor = WHO[who]
    _rows(world)
    marked = world.client.post("/api/callbacks/1", json={"status": "done"}, headers=headers(world))
    assert marked.status_code == 200, marked.text
    again = world.client.post(
        "/api/callbacks/1", json={"status": "cancelled"}, headers=headers(world)
    )
    assert again.status_code == 409
    [entry] = world.audited("callback_marked")
    assert (entry.actor, entry.detail) == (actor, {"callback_id": 1, "status": "done"})
    assert entry.subject == world.pseudonym(MOBILE)  # the caller's, never the number
    [read] = world.audited("number_read")
    assert read.actor == actor


def test_marking_a_callback_logs_no_number_even_at_debug(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    _rows(world)
    caplog.set_level(logging.DEBUG)
    listed = world.client.get("/api/callbacks", headers=auth("agent"))
    assert [c["number"] for c in listed.json()] == [KEYED]  # the agent does see it
    marked = world.client.post(
        "/api/callbacks/1", json={"status": "done"}, headers=world.session_headers()
    )
    assert marked.status_code == 200
    assert logging.getLogger().isEnabledFor(logging.DEBUG)
    for number in (KEYED, MOBILE):
        assert number not in caplog.text
        assert number.removeprefix("+47") not in caplog.text
