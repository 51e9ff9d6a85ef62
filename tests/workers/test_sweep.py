"""The reconciliation sweep: calls whose end was lost, settled through Twilio's REST API.

Calls are played by the simulator against the real app; the app's events go through the real
ingest into SQL (SQLite and PostgreSQL); Twilio's REST API is the simulator's (`SimulatedRest`,
at the SDK's `http_client` seam).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from twilio.rest import Client as TwilioClient

from ivr.config import Config
from ivr.events import Event
from sim.twilio import (
    Department,
    Faults,
    PhoneNumberConfig,
    SimulatedRest,
    TwilioSimulator,
    press,
    talk,
)
from switchboard.app import create_app
from switchboard.eventlog import EventLog
from switchboard.job_queues import make_queue
from switchboard.models import CallEvent
from switchboard.settings import Settings
from switchboard.twilio_rest import twilio_client
from tests.workers.conftest import make_ingestor
from workers.context import JobContext
from workers.ingest import Ingestor
from workers.queues import make_worker
from workers.sweep import Sweeper, SweepResult, sweep_job

OSLO = ZoneInfo("Europe/Oslo")
STREAM = "switchboard:events"  # the default, which the RQ job reads from its settings
MAIN = "+4756375000"


@dataclass
class World:
    sim: TwilioSimulator
    rest: SimulatedRest
    twilio: TwilioClient
    ingestor: Ingestor
    engine: Engine
    settings: Settings
    redis: redis.Redis

    def sweeper(self, **overrides: object) -> Sweeper:
        options: dict[str, object] = {
            "engine": self.engine,
            "twilio": self.twilio,
            "events": EventLog.from_settings(self.settings, redis=self.redis),
        }
        options.update(overrides)
        return Sweeper(**options)  # type: ignore[arg-type]

    def ingest(self) -> None:
        while self.ingestor.run_once():
            pass

    def ended(self, call_sid: str) -> list[CallEvent]:
        with Session(self.engine) as session:
            query = select(CallEvent).where(
                CallEvent.call_sid == call_sid, CallEvent.kind == "call_ended"
            )
            return list(session.scalars(query))


def simulator(http: TestClient, settings: Settings, config: Config) -> TwilioSimulator:
    """The main number as in `switchboard try-call`, with every status callback lost: the
    inbound call's end reaches us only through the sweep."""
    public = settings.public_url
    number = PhoneNumberConfig(
        voice_url=f"{public}/twilio/voice",
        status_callback_url=f"{public}/twilio/status",
        fallback_url=f"{public}/twilio/fallback",
    )
    return TwilioSimulator(
        http=http,
        auth_token=settings.auth_tokens[0],
        account_sid=settings.twilio_account_sid,
        numbers={MAIN: number},
        default_department=Department.accepts("1"),
        start=datetime(2026, 11, 25, 10, 0, tzinfo=OSLO),
        faults=Faults(drop_ratio=1.0),
    )


@pytest.fixture
def world(tmp_path: Path, redis_client: redis.Redis, engine: Engine) -> Iterator[World]:
    settings = Settings(var_dir=tmp_path, public_url="https://ivr.alver.example")
    rest = SimulatedRest(
        account_sid=settings.twilio_account_sid, auth_token=settings.auth_tokens[0]
    )
    twilio = twilio_client(settings, http_client=rest)
    app = create_app(settings, redis_client=redis_client, twilio=twilio, simulated_clock=True)
    with TestClient(app) as client:
        sim = simulator(client, settings, app.state.services.ctx.config)
        rest.attach(sim)
        ingestor = make_ingestor(redis_client, engine, None, stream=STREAM)  # type: ignore[arg-type]
        yield World(sim, rest, twilio, ingestor, engine, settings, redis_client)


def later(world: World, **delta: float) -> datetime:
    return world.sim.now + timedelta(**delta)


def test_a_lost_end_of_call_is_recovered_from_twilio(world: World) -> None:
    call = world.sim.place_call(from_="+4791234567", to=MAIN, script=[press("1"), talk(40)])
    world.sim.run()
    world.ingest()
    assert world.ended(call.sid) == []  # the status callback was lost

    result = world.sweeper().run_once(later(world, hours=1))
    world.ingest()

    assert result == SweepResult(checked=1, ended=1)
    [ended] = world.ended(call.sid)
    assert ended.dedupe_key == f"{call.sid}:rest:completed"
    assert call.ended_at is not None
    assert ended.occurred_at == call.ended_at.replace(microsecond=0)  # RFC 2822: seconds
    assert ended.data["status"] == "completed"
    assert ended.data["final"] is True
    assert ended.data["duration_seconds"] == call.duration
    assert ended.data["source"] == "rest"
    # Settled: the next sweep leaves the call alone.
    assert world.sweeper().run_once(later(world, hours=2)) == SweepResult()


def test_a_call_still_live_is_left_for_the_next_sweep(world: World) -> None:
    call = world.sim.place_call(from_="+4791234567", to=MAIN, script=[press("0")])
    world.sim.run_until(later(world, minutes=40))  # waiting in the queue; no agent is on
    world.ingest()

    result = world.sweeper().run_once(later(world, minutes=1))
    world.ingest()

    assert result == SweepResult(checked=1, live=1)
    assert world.ended(call.sid) == []


def test_a_call_twilio_does_not_know_is_closed_as_unresolved(world: World) -> None:
    sid = "CA" + "e" * 32  # say, a call_started replayed from another account's spool
    started = Event(
        kind="call_started",
        call_sid=sid,
        dedupe_key=f"{sid}:started",
        at=world.sim.now,
        data={"caller": "x", "switchboard_open": True},
    )
    EventLog.from_settings(world.settings, redis=world.redis).append([started])
    world.ingest()

    result = world.sweeper().run_once(later(world, hours=1))
    world.ingest()

    assert result == SweepResult(checked=1, unresolved=1)
    [ended] = world.ended(sid)
    assert (ended.dedupe_key, ended.data["status"], ended.data["final"]) == (
        f"{sid}:rest:unresolved",
        "unresolved",
        True,
    )


def test_young_calls_and_calls_with_an_end_are_not_asked_about(world: World) -> None:
    call = world.sim.place_call(from_="+4791234567", to=MAIN, script=[press("1"), talk(40)])
    world.sim.run()
    world.ingest()

    assert world.sweeper().run_once(later(world, minutes=10)) == SweepResult()  # too young
    assert world.rest.requests == []
    world.sweeper(min_age=timedelta(minutes=5)).run_once(later(world, minutes=10))
    world.ingest()
    assert len(world.ended(call.sid)) == 1
    assert world.sweeper(min_age=timedelta(0)).run_once(later(world, hours=1)) == SweepResult()


def test_a_twilio_failure_is_tried_again_and_twice_swept_is_one_row(world: World) -> None:
    call = world.sim.place_call(from_="+4791234567", to=MAIN, script=[press("1"), talk(40)])
    world.sim.run()
    world.ingest()
    world.rest.fail_next(status=503, code=20503, message="Service unavailable")

    assert world.sweeper().run_once(later(world, hours=1)) == SweepResult(checked=1, failed=1)
    # Two sweeps before the ingest catches up: the same dedupe key, so one row.
    assert world.sweeper().run_once(later(world, hours=1)).ended == 1
    assert world.sweeper().run_once(later(world, hours=1)).ended == 1
    world.ingest()
    assert len(world.ended(call.sid)) == 1


def test_the_sweep_runs_as_an_rq_job(world: World) -> None:
    call = world.sim.place_call(from_="+4791234567", to=MAIN, script=[press("1"), talk(40)])
    world.sim.run()
    world.ingest()
    context = JobContext(engine=world.engine, twilio=world.twilio, sms_from="Alver")
    queue = make_queue("maintenance", connection=world.redis)
    # The job sweeps at the wall clock's now: long after the simulated 2026 call.
    job = queue.enqueue(sweep_job, min_age_minutes=0)
    worker = make_worker(
        ["maintenance"],
        connection=world.redis,
        context=context,
        fork=False,
        listen_for_commands=False,
    )

    worker.work(burst=True)
    world.ingest()

    job.refresh()
    assert job.get_status() == "finished"
    assert job.return_value() == {
        "checked": 1,
        "ended": 1,
        "unresolved": 0,
        "live": 0,
        "failed": 0,
    }
    assert [e.dedupe_key for e in world.ended(call.sid)] == [f"{call.sid}:rest:completed"]
