"""Fixtures for the workers: an ingest consumer, the SMS queue, and a job worker whose Twilio
is a fake REST API behind the SDK's `http_client` seam."""

from __future__ import annotations

import pytest
import redis
from rq import Queue, SimpleWorker, Worker
from sqlalchemy import Engine

from sim.twilio import SimulatedRest
from switchboard.job_queues import SMS_QUEUE, make_queue
from switchboard.settings import Settings
from workers.context import JobContext, build_context
from workers.ingest import Ingestor
from workers.queues import make_worker

STREAM = "test:events"
CALLER_KEY = "test-caller-key"
ACCOUNT_SID = "AC" + "1" * 32
AUTH_TOKEN = "test-auth-token"


@pytest.fixture
def sms_queue(redis_client: redis.Redis) -> Queue:
    return make_queue(SMS_QUEUE, connection=redis_client)


def make_ingestor(
    redis_client: redis.Redis, engine: Engine, sms_queue: Queue, **overrides: object
) -> Ingestor:
    options: dict[str, object] = {
        "redis": redis_client,
        "engine": engine,
        "stream": STREAM,
        "consumer": "ingest-1",
        "sms_queue": sms_queue,
        "caller_key": CALLER_KEY,
    }
    options.update(overrides)
    ingestor = Ingestor(**options)  # type: ignore[arg-type]
    ingestor.ensure_group()
    return ingestor


@pytest.fixture
def ingestor(redis_client: redis.Redis, engine: Engine, sms_queue: Queue) -> Ingestor:
    return make_ingestor(redis_client, engine, sms_queue)


@pytest.fixture
def fake_twilio() -> SimulatedRest:
    return SimulatedRest(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN)


def job_settings(*, sms_from: str = "Alver") -> Settings:
    return Settings(twilio_account_sid=ACCOUNT_SID, twilio_auth_token=AUTH_TOKEN, sms_from=sms_from)


def job_context(engine: Engine, fake_twilio: SimulatedRest, *, sms_from: str) -> JobContext:
    """The worker's own context (`build_context`), with the fake Twilio behind the SDK."""
    return build_context(job_settings(sms_from=sms_from), engine=engine, http_client=fake_twilio)


@pytest.fixture
def worker(
    redis_client: redis.Redis, engine: Engine, fake_twilio: SimulatedRest
) -> Worker | SimpleWorker:
    """Runs jobs in this process, so a test can run them to completion with work(burst=True)."""
    return make_worker(
        connection=redis_client,
        context=job_context(engine, fake_twilio, sms_from="Alver"),
        fork=False,
        listen_for_commands=False,
    )
