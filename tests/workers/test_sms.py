"""The SMS job against a fake Twilio REST API: what the caller gets, and what we record."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import redis
from prometheus_client import generate_latest
from rq import Queue, SimpleWorker
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from ivr.phone import is_norwegian_mobile
from sim.twilio.rest import API, SimulatedRest
from switchboard.models import SmsMessage
from switchboard.observability.collectors import worker_registry
from tests.fixtures.events import sms_request
from tests.fixtures.prometheus import check_metrics
from tests.workers.conftest import ACCOUNT_SID, STREAM, job_context
from workers.ingest import Ingestor
from workers.queues import make_worker

MESSAGES_URL = f"{API}/Accounts/{ACCOUNT_SID}/Messages.json"


def request_sms(ingestor: Ingestor, redis_client: redis.Redis, *, to: str) -> str:
    """The caller pressed "send me the link": the event goes through the ingest, as in life."""
    event = sms_request(to=to)
    redis_client.xadd(STREAM, event.to_fields())  # type: ignore[arg-type]
    ingestor.run_once()
    return event.id


def sms_row(engine: Engine, event_id: str) -> SmsMessage:
    with Session(engine) as session:
        return session.scalars(select(SmsMessage).where(SmsMessage.event_id == event_id)).one()


@pytest.mark.parametrize(
    ("number", "mobile"),
    [
        ("+4791234567", True),
        ("+4741234567", True),
        ("+4756375000", False),  # the switchboard's landline
        ("+4781234567", False),  # 8xx: service numbers
        ("+479123456", False),  # one digit short
        ("+47912345678", False),  # one digit long
        ("+4691234567", False),  # Sweden
        ("91234567", False),  # not E.164
        ("anonymous", False),
    ],
)
def test_only_norwegian_mobiles_get_sms(number: str, mobile: bool) -> None:
    assert is_norwegian_mobile(number) is mobile


def test_the_worker_reports_finished_jobs_to_prometheus(
    ingestor: Ingestor, redis_client: redis.Redis, worker: SimpleWorker
) -> None:
    registry = worker_registry(lambda: redis_client.hgetall(worker.key))
    assert registry.get_sample_value("switchboard_worker_jobs_total", {"result": "succeeded"}) == 0
    request_sms(ingestor, redis_client, to="+4791234567")
    worker.work(burst=True)
    assert registry.get_sample_value("switchboard_worker_jobs_total", {"result": "succeeded"}) == 1
    assert registry.get_sample_value("switchboard_worker_jobs_total", {"result": "failed"}) == 0
    assert check_metrics(generate_latest(registry).decode()) == (0, "")


def test_a_sent_sms_records_twilios_sid(
    ingestor: Ingestor,
    redis_client: redis.Redis,
    engine: Engine,
    worker: SimpleWorker,
    fake_twilio: SimulatedRest,
) -> None:
    event_id = request_sms(ingestor, redis_client, to="+4791234567")

    worker.work(burst=True)

    [request] = fake_twilio.requests
    assert (request.method, request.url) == ("POST", MESSAGES_URL)
    assert request.data["To"] == "+4791234567"
    assert request.data["From"] == "Alver"
    assert "alver.kommune.no" in request.data["Body"]
    row = sms_row(engine, event_id)
    assert row.status == "sent"
    assert row.twilio_sid in fake_twilio.messages
    assert row.sent_at is not None
    assert row.sent_at <= datetime.now(UTC)
    assert row.error is None


def test_a_messaging_service_sid_is_sent_as_the_service_not_the_sender(
    ingestor: Ingestor,
    redis_client: redis.Redis,
    engine: Engine,
    fake_twilio: SimulatedRest,
) -> None:
    service = "MG" + "2" * 32
    worker = make_worker(
        connection=redis_client,
        context=job_context(engine, fake_twilio, sms_from=service),
        fork=False,
        listen_for_commands=False,
    )
    event_id = request_sms(ingestor, redis_client, to="+4741234567")

    worker.work(burst=True)

    [request] = fake_twilio.requests
    assert request.data["MessagingServiceSid"] == service
    assert "From" not in request.data
    assert sms_row(engine, event_id).status == "sent"


def test_a_landline_is_rejected_without_calling_twilio(
    ingestor: Ingestor,
    redis_client: redis.Redis,
    engine: Engine,
    worker: SimpleWorker,
    fake_twilio: SimulatedRest,
) -> None:
    event_id = request_sms(ingestor, redis_client, to="+4756375000")

    worker.work(burst=True)

    assert fake_twilio.requests == []
    row = sms_row(engine, event_id)
    assert (row.status, row.twilio_sid) == ("rejected", None)


def test_an_invalid_number_fails_once_without_retry(
    ingestor: Ingestor,
    redis_client: redis.Redis,
    engine: Engine,
    worker: SimpleWorker,
    fake_twilio: SimulatedRest,
    sms_queue: Queue,
) -> None:
    fake_twilio.fail_next(
        status=400, code=21211, message="The 'To' number +4791234567 is not a valid phone number."
    )
    event_id = request_sms(ingestor, redis_client, to="+4791234567")

    worker.work(burst=True, with_scheduler=True)

    assert len(fake_twilio.requests) == 1
    row = sms_row(engine, event_id)
    assert (row.status, row.error) == ("failed", "twilio 400 error 21211")
    assert sms_queue.scheduled_job_registry.get_job_ids() == []
    assert len(sms_queue) == 0


def test_a_twilio_outage_is_retried_until_the_sms_is_sent(
    ingestor: Ingestor,
    redis_client: redis.Redis,
    engine: Engine,
    worker: SimpleWorker,
    fake_twilio: SimulatedRest,
    sms_queue: Queue,
) -> None:
    fake_twilio.fail_next(status=500, code=20500, message="Internal Server Error")
    event_id = request_sms(ingestor, redis_client, to="+4791234567")

    worker.work(burst=True, with_scheduler=True)

    row = sms_row(engine, event_id)
    assert (row.status, row.error) == ("queued", "twilio 500 error 20500")
    job = sms_queue.fetch_job(event_id)
    assert job is not None
    assert job.retries_left == 2
    registry = sms_queue.scheduled_job_registry
    assert registry.get_job_ids() == [event_id]
    retry_in = (registry.get_scheduled_time(job) - datetime.now(UTC)).total_seconds()
    assert 5 < retry_in <= 10

    # The retry interval passes: RQ's scheduler (run by the worker) enqueues the job again.
    registry.schedule(job, datetime.now(UTC))
    worker.work(burst=True, with_scheduler=True)

    assert len(fake_twilio.requests) == 2
    row = sms_row(engine, event_id)
    assert (row.status, row.error) == ("sent", None)
    assert row.twilio_sid in fake_twilio.messages


def test_the_last_failed_retry_marks_the_sms_failed(
    ingestor: Ingestor,
    redis_client: redis.Redis,
    engine: Engine,
    worker: SimpleWorker,
    fake_twilio: SimulatedRest,
    sms_queue: Queue,
) -> None:
    for _ in range(4):
        fake_twilio.fail_next(status=503, code=20503, message="Service Unavailable")
    event_id = request_sms(ingestor, redis_client, to="+4791234567")

    worker.work(burst=True, with_scheduler=True)
    for _ in range(3):
        job = sms_queue.fetch_job(event_id)
        assert job is not None
        sms_queue.scheduled_job_registry.schedule(job, datetime.now(UTC))
        worker.work(burst=True, with_scheduler=True)

    assert len(fake_twilio.requests) == 4  # the first try and three retries
    assert sms_row(engine, event_id).status == "failed"
    assert sms_queue.scheduled_job_registry.get_job_ids() == []


def test_a_job_run_twice_sends_one_sms(
    ingestor: Ingestor,
    redis_client: redis.Redis,
    engine: Engine,
    worker: SimpleWorker,
    fake_twilio: SimulatedRest,
    sms_queue: Queue,
) -> None:
    event_id = request_sms(ingestor, redis_client, to="+4791234567")
    worker.work(burst=True)
    job = sms_queue.fetch_job(event_id)
    assert job is not None

    sms_queue.enqueue_job(job)  # e.g. an operator's `rq requeue`
    worker.work(burst=True)

    assert len(fake_twilio.requests) == 1
    assert sms_row(engine, event_id).status == "sent"


def test_a_forking_worker_runs_the_job_in_its_work_horse(
    ingestor: Ingestor,
    redis_client: redis.Redis,
    engine: Engine,
    fake_twilio: SimulatedRest,
) -> None:
    worker = make_worker(
        connection=redis_client,
        context=job_context(engine, fake_twilio, sms_from="Alver"),
        fork=True,
        listen_for_commands=False,
    )
    with engine.connect():  # the parent holds a pooled connection across the fork
        pass
    event_id = request_sms(ingestor, redis_client, to="+4791234567")

    worker.work(burst=True)

    row = sms_row(engine, event_id)  # the fake's log stayed in the horse; the row tells
    assert row.status == "sent"
    assert row.twilio_sid is not None
    assert row.twilio_sid.startswith("SM")
