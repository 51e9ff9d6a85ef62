"""The SMS job carries the row's id, never the number: the number lives on the row until the SMS
is settled, and neither Redis nor any log line ever holds it."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
import redis
from rq import Queue, SimpleWorker
from sqlalchemy import Engine, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sim.twilio.rest import SimulatedRest
from switchboard.models import SmsMessage
from tests.workers.test_sms import request_sms, sms_row
from workers.ingest import Ingestor

NUMBER = "+4791234567"
DIGITS = ("91234567", "4791234567")


def test_the_job_takes_the_rows_id_and_the_row_the_number_until_sent(
    ingestor: Ingestor,
    redis_client: redis.Redis,
    engine: Engine,
    worker: SimpleWorker,
    fake_twilio: SimulatedRest,
    sms_queue: Queue,
) -> None:
    event_id = request_sms(ingestor, redis_client, to=NUMBER)
    row = sms_row(engine, event_id)
    assert (row.status, row.number) == ("queued", NUMBER)
    assert row.body is not None
    assert "alver.kommune.no" in row.body
    job = sms_queue.fetch_job(event_id)
    assert job is not None
    assert (list(job.args), job.kwargs) == ([], {"sms_id": row.id})
    assert job.description == f"workers.sms.send_sms(sms_id={row.id})"

    worker.work(burst=True)

    [request] = fake_twilio.requests
    assert request.data["To"] == NUMBER
    assert request.data["Body"] == row.body
    sent = sms_row(engine, event_id)
    assert (sent.status, sent.number, sent.body) == ("sent", "", row.body)


def test_a_queued_retry_keeps_the_number_and_a_failure_clears_it(
    ingestor: Ingestor,
    redis_client: redis.Redis,
    engine: Engine,
    worker: SimpleWorker,
    fake_twilio: SimulatedRest,
) -> None:
    fake_twilio.fail_next(status=500, code=20500, message="Internal Server Error")
    retried = request_sms(ingestor, redis_client, to=NUMBER)
    worker.work(burst=True, with_scheduler=True)
    assert (sms_row(engine, retried).status, sms_row(engine, retried).number) == ("queued", NUMBER)

    fake_twilio.fail_next(status=400, code=21211, message=f"The 'To' number {NUMBER} is invalid.")
    failed = request_sms(ingestor, redis_client, to="+4741234567")
    landline = request_sms(ingestor, redis_client, to="+4756375000")
    worker.work(burst=True, with_scheduler=True)

    assert (sms_row(engine, failed).status, sms_row(engine, failed).number) == ("failed", "")
    assert (sms_row(engine, landline).status, sms_row(engine, landline).number) == ("rejected", "")


def _old_row(engine: Engine, *, number: str | None) -> int:
    """A row as the version before the number moved onto it wrote it, or one with a number."""
    with engine.begin() as connection:
        return int(
            connection.execute(
                insert(SmsMessage)
                .values(
                    event_id=f"old-{number}",
                    call_sid="CA" + "7" * 32,
                    caller="c" * 64,
                    kind="self_service",
                    language="nn",
                    status="queued",
                    created_at=datetime.now(UTC),
                    number=number,
                    body=None if number is None else "from the row",
                )
                .returning(SmsMessage.id)
            ).scalar_one()
        )


@pytest.mark.parametrize("row_number", [None, "+4741234567"])
def test_a_job_enqueued_by_an_older_version_with_the_number_is_still_sent(
    engine: Engine,
    worker: SimpleWorker,
    fake_twilio: SimulatedRest,
    sms_queue: Queue,
    row_number: str | None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sms_id = _old_row(engine, number=row_number)
    # RQ's default description spells out the arguments; our workers never log descriptions.
    sms_queue.enqueue("workers.sms.send_sms", sms_id=sms_id, to=NUMBER, body="from the job")
    caplog.set_level(logging.DEBUG)

    worker.work(burst=True)

    for digits in DIGITS:
        assert digits not in caplog.text

    [request] = fake_twilio.requests
    if row_number is None:  # the row has nothing: the job's arguments are the upgrade path
        assert (request.data["To"], request.data["Body"]) == (NUMBER, "from the job")
    else:  # the row's own number and text win
        assert (request.data["To"], request.data["Body"]) == (row_number, "from the row")
    with Session(engine) as session:
        row = session.get(SmsMessage, sms_id)
        assert row is not None
        assert (row.status, row.number) == ("sent", "")


def test_no_log_line_and_no_job_in_redis_holds_the_number(
    ingestor: Ingestor,
    redis_client: redis.Redis,
    engine: Engine,
    worker: SimpleWorker,
    fake_twilio: SimulatedRest,
    sms_queue: Queue,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, RQ's own included
    # Twilio's error messages quote the number; a retry, a refusal and a success.
    fake_twilio.fail_next(status=503, code=20503, message=f"Cannot reach {NUMBER} now")
    retried = request_sms(ingestor, redis_client, to=NUMBER)
    worker.work(burst=True, with_scheduler=True)
    job = sms_queue.fetch_job(retried)
    assert job is not None
    sms_queue.scheduled_job_registry.schedule(job, datetime.now(UTC))
    fake_twilio.fail_next(status=400, code=21211, message=f"The 'To' number {NUMBER} is invalid.")
    refused = request_sms(ingestor, redis_client, to=NUMBER)
    worker.work(burst=True, with_scheduler=True)

    assert sms_row(engine, retried).status == "sent"
    assert sms_row(engine, refused).status == "failed"
    assert len(fake_twilio.requests) == 3
    assert any("sms " in record.getMessage() for record in caplog.records)
    assert any(record.name.startswith("rq.") for record in caplog.records)
    for digits in DIGITS:
        assert digits not in caplog.text
    keys = list(redis_client.scan_iter(match="rq:job:*"))
    assert keys  # the finished and failed jobs are still there
    for key in keys:
        if redis_client.type(key) != b"hash":
            continue
        stored = repr(redis_client.hgetall(key))
        for digits in DIGITS:
            assert digits not in stored, key


def test_a_database_error_does_not_quote_the_number(engine: Engine) -> None:
    row = {
        "event_id": "twice",
        "call_sid": "CA" + "7" * 32,
        "kind": "self_service",
        "status": "queued",
        "created_at": datetime.now(UTC),
        "number": NUMBER,
    }
    with engine.begin() as connection:
        connection.execute(insert(SmsMessage).values(**row))
    with pytest.raises(IntegrityError) as refused, engine.begin() as connection:
        connection.execute(insert(SmsMessage).values(**row))  # the same event id again
    assert "INSERT INTO sms_messages" in str(refused.value)
    for digits in DIGITS:
        assert digits not in str(refused.value)
