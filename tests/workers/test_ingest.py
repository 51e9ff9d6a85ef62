"""The ingest consumer: stream entries become SQL rows once, whatever is delivered twice."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta

import redis
from prometheus_client import generate_latest
from rq import Queue
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from ivr.events import Event
from switchboard.eventlog import EventLog
from switchboard.models import (
    Callback,
    CallEvent,
    CallRecord,
    QueueVisit,
    ReturnRecord,
    SmsMessage,
    TransferRecord,
)
from switchboard.observability.collectors import ingest_registry
from switchboard.pseudonym import caller_pseudonym
from switchboard.sealing import NumberSeal, new_key, seal_numbers
from switchboard.spool import Spool
from switchboard.stats.aggregates import call_stats, queue_stats, transfer_stats
from tests.fixtures.calls import Call, oslo
from tests.fixtures.events import callback_request, make_event, sms_request
from tests.fixtures.prometheus import check_metrics
from tests.workers.conftest import CALLER_KEY, STREAM, make_ingestor
from workers.ingest import Ingestor


def append(redis_client: redis.Redis, *events: Event) -> None:
    for event in events:
        redis_client.xadd(STREAM, event.to_fields())  # type: ignore[arg-type]


def stored(engine: Engine) -> list[CallEvent]:
    with Session(engine) as session:
        return list(session.scalars(select(CallEvent).order_by(CallEvent.occurred_at)))


def count(engine: Engine, model: type) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def pending(redis_client: redis.Redis) -> int:
    return int(redis_client.xpending(STREAM, "ingest")["pending"])


def test_a_batch_lands_in_sql_and_leaves_the_stream(
    ingestor: Ingestor, redis_client: redis.Redis, engine: Engine
) -> None:
    events = [
        make_event("call_started", data={"from_kind": "mobile"}),
        make_event("menu_choice", data={"digit": "3", "department": "helse"}),
        make_event("call_ended", data={"duration": 42}),
    ]
    append(redis_client, *events)

    assert ingestor.run_once() == 3

    rows = stored(engine)
    assert [(row.event_id, row.kind, row.data) for row in rows] == [
        (event.id, event.kind, event.data) for event in events
    ]
    assert rows[0].occurred_at == events[0].at
    assert pending(redis_client) == 0
    assert redis_client.xlen(STREAM) == 0  # acknowledged entries are deleted
    assert ingestor.run_once() == 0


def test_a_duplicated_webhook_is_stored_once(
    ingestor: Ingestor, redis_client: redis.Redis, engine: Engine
) -> None:
    first = make_event("menu_choice", dedupe_key="CA1:4:gather", data={"digit": "1"})
    retried = make_event("menu_choice", dedupe_key="CA1:4:gather", data={"digit": "1"})
    append(redis_client, first, retried)  # both in one batch
    ingestor.run_once()
    append(redis_client, make_event("menu_choice", dedupe_key="CA1:4:gather"))  # a later batch
    ingestor.run_once()

    assert [row.event_id for row in stored(engine)] == [first.id]
    assert (ingestor.ingested_total, ingestor.duplicates_total) == (1, 2)


def test_the_consumer_reports_its_counts_to_prometheus(
    ingestor: Ingestor, redis_client: redis.Redis
) -> None:
    first = make_event("menu_choice", dedupe_key="CA9:4:menu")
    append(redis_client, first, make_event("menu_choice", dedupe_key="CA9:4:menu"))
    ingestor.run_once()
    registry = ingest_registry(ingestor)
    sample = registry.get_sample_value
    assert sample("switchboard_ingest_events_total", {"result": "stored"}) == 1
    assert sample("switchboard_ingest_events_total", {"result": "duplicate"}) == 1
    assert sample("switchboard_ingest_projection_failures_total") == 0
    assert check_metrics(generate_latest(registry).decode()) == (0, "")


def test_a_replayed_spool_event_is_stored_once(
    ingestor: Ingestor, redis_client: redis.Redis, engine: Engine
) -> None:
    event = make_event("queue_joined")
    append(redis_client, event)
    ingestor.run_once()
    append(redis_client, event)  # the same UUID again, as a spool replay sends it
    ingestor.run_once()

    assert [row.event_id for row in stored(engine)] == [event.id]


def test_malformed_entries_are_skipped_without_blocking_the_stream(
    ingestor: Ingestor, redis_client: redis.Redis, engine: Engine
) -> None:
    good = make_event("call_started")
    append(redis_client, good)
    redis_client.xadd(STREAM, {"kind": "no_such_kind", "id": "x", "call_sid": "CA", "at": "?"})
    redis_client.xadd(STREAM, {"garbage": "+4791234567"})
    bad_json = good.to_fields() | {"id": "other", "dedupe_key": "k", "data": "{not json"}
    redis_client.xadd(STREAM, bad_json)  # type: ignore[arg-type]
    later = make_event("call_ended")
    append(redis_client, later)

    assert ingestor.run_once() == 5

    assert [row.event_id for row in stored(engine)] == [good.id, later.id]
    assert ingestor.malformed_total == 3
    assert pending(redis_client) == 0


def test_a_dead_consumers_batch_is_taken_over_and_counted_once(
    redis_client: redis.Redis, engine: Engine, sms_queue: Queue
) -> None:
    before = [make_event("call_started"), callback_request(), sms_request()]
    append(redis_client, *before)
    dead = make_ingestor(redis_client, engine, sms_queue, consumer="dead")
    batch = dead.read()
    dead.store(batch)  # committed... and then the process died before enqueue and XACK
    del dead
    after = [make_event("call_ended")]
    append(redis_client, *after)

    # A live consumer leaves entries alone while they are younger than claim_idle_ms...
    patient = make_ingestor(redis_client, engine, sms_queue, consumer="patient")
    patient.run_once()
    assert pending(redis_client) == 3
    # ...and takes them over once they are older (0 ms here).
    rescuer = make_ingestor(redis_client, engine, sms_queue, consumer="rescuer", claim_idle_ms=0)
    while rescuer.run_once():
        pass

    assert {row.event_id for row in stored(engine)} == {e.id for e in before + after}
    assert rescuer.claimed_total == 3
    assert rescuer.duplicates_total == 3  # the dead consumer's rows, not stored again
    assert count(engine, Callback) == 1
    assert count(engine, SmsMessage) == 1
    assert sms_queue.job_ids == [before[2].id]  # the SMS the crash skipped is still sent
    assert pending(redis_client) == 0


def test_a_dead_consumers_batch_is_projected_once(
    redis_client: redis.Redis, engine: Engine, sms_queue: Queue
) -> None:
    # Three calls: NAV is busy (a bounce; the caller waits in the returns queue and is
    # answered); Helse connects; the second caller calls again an hour later (a recall).
    morning = oslo("2026-11-25 10:00:00")
    bounced = Call(at=morning, caller="caller-a").start().choose("department:nav")
    transfer = bounced.transfer("nav", outcome="busy")
    visit = bounced.join("returns", bounced_from=transfer)
    bounced.answered("returns", after=10)
    bounced.left(visit, result="bridged", after=60, waited=10, queue="returns")
    bounced.end()
    helped = Call(at=morning, caller="caller-b").start().choose("department:helse_omsorg")
    helped.transfer("helse_omsorg", outcome="connected", talk=120)
    helped.end()
    again = Call(at=morning + timedelta(hours=1), caller="caller-b").start().end(after=30)
    append(redis_client, *bounced.events, *helped.events, *again.events)
    dead = make_ingestor(redis_client, engine, sms_queue, consumer="dead")
    dead.store(dead.read())  # committed, with the projection... and then the process died
    del dead
    assert (count(engine, CallRecord), count(engine, ReturnRecord)) == (3, 2)

    rescuer = make_ingestor(redis_client, engine, sms_queue, consumer="rescuer", claim_idle_ms=0)
    while rescuer.run_once():
        pass

    assert rescuer.duplicates_total == len(bounced.events + helped.events + again.events)
    assert (count(engine, CallRecord), count(engine, TransferRecord)) == (3, 2)
    assert (count(engine, QueueVisit), count(engine, ReturnRecord)) == (1, 2)
    start, end = morning - timedelta(days=1), morning + timedelta(days=1)
    with engine.connect() as connection:
        calls = call_stats(connection, start=start, end=end).total
        queue = queue_stats(connection, start=start, end=end).total
        transfers = transfer_stats(connection, start=start, end=end).total
    assert (calls.calls, calls.in_progress) == (3, 0)
    assert (queue.offered, queue.answered) == (1, 1)
    assert (transfers.transfers, transfers.returned) == (2, 2)
    assert (transfers.bounces, transfers.hand_backs, transfers.recalls) == (1, 0, 1)
    assert pending(redis_client) == 0


def test_a_restarted_consumer_first_finishes_its_own_pending_entries(
    redis_client: redis.Redis, engine: Engine, sms_queue: Queue
) -> None:
    event = make_event("call_started")
    append(redis_client, event)
    make_ingestor(redis_client, engine, sms_queue, consumer="web-1").read()  # crashed

    restarted = make_ingestor(redis_client, engine, sms_queue, consumer="web-1")
    assert restarted.run_once() == 1

    assert [row.event_id for row in stored(engine)] == [event.id]
    assert pending(redis_client) == 0


def test_a_callback_request_keeps_the_number_only_in_the_callback_row(
    ingestor: Ingestor, redis_client: redis.Redis, engine: Engine
) -> None:
    request = callback_request(number="+4756375012", due_at="2026-03-03T08:00:00+00:00")
    append(redis_client, request)
    ingestor.run_once()

    with Session(engine) as session:
        callback = session.scalars(select(Callback)).one()
        event_row = session.scalars(select(CallEvent)).one()
    assert callback.number == "+4756375012"
    assert callback.caller == caller_pseudonym("+4756375012", key=CALLER_KEY)
    assert callback.status == "pending"
    assert callback.language == "nn"
    assert callback.due_at == datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
    assert callback.requested_at == request.at
    assert "number" not in event_row.data
    assert "+4756375012" not in json.dumps(event_row.data)


def test_an_sms_request_is_stored_and_enqueued_once_however_often_delivered(
    ingestor: Ingestor, redis_client: redis.Redis, engine: Engine, sms_queue: Queue
) -> None:
    request = sms_request(to="+4791234567")
    retried_webhook = make_event(
        "sms_requested", dedupe_key=request.dedupe_key, data=dict(request.data)
    )
    append(redis_client, request, request, retried_webhook)
    ingestor.run_once()
    append(redis_client, request)  # and once more, in a later batch
    ingestor.run_once()

    with Session(engine) as session:
        sms = session.scalars(select(SmsMessage)).one()
        event_row = session.scalars(select(CallEvent)).one()
    assert (sms.event_id, sms.status, sms.kind, sms.caller) == (
        request.id,
        "queued",
        "self_service",
        request.data["caller"],
    )
    assert "to" not in event_row.data
    assert sms_queue.job_ids == [request.id]
    job = sms_queue.fetch_job(request.id)
    assert job is not None
    assert job.kwargs == {"sms_id": sms.id}  # the number and text are on the row
    assert (sms.number, sms.body) == ("+4791234567", request.data["body"])
    assert ingestor.sms_enqueued_total == 1


def test_run_forever_ingests_and_replays_the_spool_until_stopped(
    redis_client: redis.Redis, engine: Engine, sms_queue: Queue, tmp_path
) -> None:
    spool = Spool(tmp_path / "spool")
    spooled = make_event("call_started")
    spool.append([spooled])  # written while Redis was down
    event_log = EventLog(redis=redis_client, stream=STREAM, spool=spool, breaker_open_seconds=30)
    streamed = make_event("call_ended")
    event_log.append([streamed])
    ingestor = make_ingestor(redis_client, engine, sms_queue, event_log=event_log)
    stop = threading.Event()
    thread = threading.Thread(target=ingestor.run_forever, args=(stop,), kwargs={"block_ms": 50})
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while len(stored(engine)) < 2 and time.monotonic() < deadline:
            stop.wait(0.01)  # polling a real outcome, bounded by the deadline
    finally:
        stop.set()
        thread.join(timeout=10)

    assert not thread.is_alive()
    assert {row.event_id for row in stored(engine)} == {spooled.id, streamed.id}
    assert spool.is_empty()


def test_an_event_the_database_refuses_does_not_hold_up_the_rest(
    ingestor: Ingestor, redis_client: redis.Redis, engine: Engine
) -> None:
    before, after = make_event("call_started"), make_event("call_ended")
    oversized = callback_request(number="+47" + "9" * 40)  # wider than callbacks.number
    append(redis_client, before, oversized, after)

    assert ingestor.run_once() == 3

    ids = {row.event_id for row in stored(engine)}
    assert {before.id, after.id} <= ids
    assert pending(redis_client) == 0
    if engine.dialect.name == "postgresql":  # SQLite does not enforce VARCHAR widths
        assert oversized.id not in ids
        assert ingestor.malformed_total == 1


def test_sealed_numbers_are_opened_and_one_no_key_opens_is_counted_not_fatal(
    ingestor: Ingestor, redis_client: redis.Redis, engine: Engine
) -> None:
    opened = seal_numbers(callback_request(number="+4756375012"), ingestor.seal)
    lost = seal_numbers(sms_request(to="+4791234567"), NumberSeal.from_text(new_key("gone")))
    append(redis_client, opened, lost, make_event("call_ended"))

    assert ingestor.run_once() == 3

    assert len(stored(engine)) == 3
    with Session(engine) as session:
        assert session.scalars(select(Callback.number)).one() == "+4756375012"
        assert session.scalars(select(SmsMessage.status)).one() == "rejected"
    assert ingestor.unopened_numbers_total == 1
    sample = ingest_registry(ingestor).get_sample_value
    assert sample("switchboard_ingest_unopened_numbers_total") == 1
    assert pending(redis_client) == 0
