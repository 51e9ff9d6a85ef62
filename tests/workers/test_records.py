"""Call records in SQL: projected with each ingested batch, converging whatever the order."""

from __future__ import annotations

from datetime import timedelta
from itertools import permutations
from typing import Any

import pytest
import redis
from sqlalchemy import Engine, Table, delete, inspect, select, update

from ivr.events import Event
from switchboard.db import current_revision, downgrade, make_engine, migrate
from switchboard.models import (
    Callback,
    CallEvent,
    CallRecord,
    QueueVisit,
    ReturnRecord,
    TransferRecord,
)
from switchboard.settings import DEFAULT_CONFIG
from tests.fixtures.calls import Call, oslo
from tests.workers.conftest import STREAM
from workers.event_rows import insert_events
from workers.ingest import Ingestor
from workers.projection import Projector
from workers.records import load_projector, project_calls, rebuild

MORNING = oslo("2026-11-25 10:00:00")
RECORDS = (CallRecord, TransferRecord, QueueVisit, ReturnRecord)


@pytest.fixture(scope="module")
def projector() -> Projector:
    return load_projector(DEFAULT_CONFIG)


def ingest(engine: Engine, projector: Projector, events: list[Event]) -> None:
    """What the ingest does with a batch: insert the events, project their calls, one commit."""
    with engine.begin() as connection:
        new = insert_events(connection, events, caller_key="test-key")
        fresh = {e.call_sid for e in events if e.id in new}
        project_calls(connection, call_sids=fresh, projector=projector)


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    tables: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as connection:
        for model in RECORDS:
            table = model.__table__
            assert isinstance(table, Table)
            key = list(table.primary_key.columns)
            tables[table.name] = [
                tuple(r) for r in connection.execute(select(table).order_by(*key))
            ]
    return tables


def day_of_calls() -> list[Call]:
    """A connected transfer and the calls that come back from it, and a bounce."""
    first = Call(at=MORNING, caller="caller-a").start().choose("department:helse_omsorg")
    first.transfer("helse_omsorg", outcome="connected", talk=600)
    first.end()
    # Helse's PBX hands another caller back while their first leg is still connected.
    second = Call(at=MORNING + timedelta(minutes=1), caller="caller-b").start()
    second.choose("department:helse_omsorg")
    second.transfer("helse_omsorg", outcome="connected", talk=900)
    second.end()
    hand_back = Call(at=MORNING + timedelta(minutes=5), caller="helse-pbx")
    hand_back.start(from_department="helse_omsorg").end(after=60)
    recall = Call(at=MORNING + timedelta(hours=3), caller="caller-a").start()
    visit = recall.choose("switchboard", key="0").join("main")
    recall.answered(after=15).left(visit, result="bridged", after=200, waited=15).end()
    bounce = Call(at=MORNING + timedelta(hours=4), caller="caller-c").start()
    transfer = bounce.choose("department:nav").transfer("nav", outcome="busy")
    bounce.join("returns", bounced_from=transfer)
    return [first, second, hand_back, recall, bounce]


def test_late_and_reordered_batches_converge_to_the_same_records(
    engine: Engine, projector: Projector
) -> None:
    calls = day_of_calls()
    everything = [event for call in calls for event in call.events]
    ingest(engine, projector, everything)
    expected = snapshot(engine)
    kinds = {(row[0], row[3]) for row in expected["returns"]}
    assert kinds == {
        (calls[1].events[2].data["transfer_id"], "hand_back"),
        (calls[0].events[2].data["transfer_id"], "recall"),
        (calls[4].events[2].data["transfer_id"], "bounce"),
    }

    for order in (list(reversed(everything)), everything[1::2] + everything[::2]):
        with engine.begin() as connection:
            for model in (*RECORDS, CallEvent):
                connection.execute(delete(model))
        for start in range(0, len(order), 3):  # small batches, each projected as it lands
            ingest(engine, projector, order[start : start + 3])
        assert snapshot(engine) == expected


def test_calls_projected_one_by_one_in_any_order_converge(
    engine: Engine, projector: Projector
) -> None:
    # Each call's events all in, but the calls projected in different orders, one at a time:
    # a return across calls must come out the same whichever call of it is projected last.
    calls = day_of_calls()
    ingest(engine, projector, [e for call in calls for e in call.events])
    expected = snapshot(engine)
    for order in list(permutations(calls))[::13]:
        with engine.begin() as connection:
            for model in RECORDS:
                connection.execute(delete(model))
        for call in order:
            with engine.begin() as connection:
                project_calls(connection, call_sids=[call.sid], projector=projector)
        assert snapshot(engine) == expected, [calls.index(call) for call in order]


def test_ingest_projects_each_batch_in_the_same_transaction(
    ingestor: Ingestor, redis_client: redis.Redis, engine: Engine
) -> None:
    call = Call(at=MORNING).start().choose("switchboard", key="0")
    visit = call.join("main")
    for event in call.events:
        redis_client.xadd(STREAM, event.to_fields())  # type: ignore[arg-type]
    ingestor.run_once()
    with engine.connect() as connection:
        state = connection.scalar(select(CallRecord.state).where(CallRecord.call_sid == call.sid))
        waiting = connection.scalar(select(QueueVisit.ended).where(QueueVisit.visit_id == visit))
    assert (state, waiting) == ("active", None)

    call.left(visit, result="hangup", after=42).end()
    for event in call.events[-2:]:
        redis_client.xadd(STREAM, event.to_fields())  # type: ignore[arg-type]
    ingestor.run_once()
    with engine.connect() as connection:
        row = connection.execute(
            select(CallRecord.state, QueueVisit.ended, QueueVisit.wait_seconds).join(
                QueueVisit, QueueVisit.call_sid == CallRecord.call_sid
            )
        ).one()
    assert tuple(row) == ("ended", "abandoned", 42.0)
    assert ingestor.projection_failures_total == 0


def test_a_projection_that_fails_keeps_the_batch(
    ingestor: Ingestor, redis_client: redis.Redis, engine: Engine
) -> None:
    # A producer bug: a department id longer than the column. PostgreSQL refuses the row, and
    # the savepoint keeps the events; SQLite does not check lengths and stores it.
    call = Call(at=MORNING).start()
    call.transfer("d" * 40, outcome="busy")
    for event in call.events:
        redis_client.xadd(STREAM, event.to_fields())  # type: ignore[arg-type]
    ingestor.run_once()
    with engine.connect() as connection:
        stored = connection.scalars(select(CallEvent.event_id)).all()
        transfers = connection.scalars(select(TransferRecord.department)).all()
    assert sorted(stored) == sorted(e.id for e in call.events)
    if engine.dialect.name == "postgresql":
        assert (ingestor.projection_failures_total, transfers) == (1, [])
    else:
        assert (ingestor.projection_failures_total, transfers) == (0, ["d" * 40])


def test_an_ended_call_never_goes_back_to_active(engine: Engine, projector: Projector) -> None:
    call = Call(at=MORNING).start().choose("switchboard", key="0").end(after=30)
    ingest(engine, projector, call.events)
    # Retention purged its end event; a late report of the same call arrives after that.
    with engine.begin() as connection:
        connection.execute(delete(CallEvent).where(CallEvent.kind == "call_ended"))
    late = call.add("sms_requested", f"{call.sid}:sms", after=1, caller=call.caller)
    ingest(engine, projector, [late])
    with engine.connect() as connection:
        state = connection.scalar(select(CallRecord.state))
    assert state == "ended"


def test_an_agents_reason_survives_reprojection(engine: Engine, projector: Projector) -> None:
    call = Call(at=MORNING).start().choose("department:nav")
    transfer = call.transfer("nav", outcome="no_answer")
    visit = call.join("returns", bounced_from=transfer)
    ingest(engine, projector, call.events)
    with engine.begin() as connection:
        connection.execute(
            update(ReturnRecord)
            .where(ReturnRecord.transfer_id == transfer)
            .values(
                reason="other", note="Stengt for lunsj", tagged_at=MORNING + timedelta(minutes=2)
            )
        )
    call.answered("returns", after=20)
    call.left(visit, result="bridged", after=120, waited=20, queue="returns").end()
    ingest(engine, projector, call.events[-3:])
    with engine.connect() as connection:
        kept = connection.execute(
            select(ReturnRecord.kind, ReturnRecord.reason, ReturnRecord.note)
        ).one()
        ended = connection.scalar(select(QueueVisit.ended))
    assert tuple(kept) == ("bounce", "other", "Stengt for lunsj")
    assert ended == "answered"


def test_a_queue_callback_is_linked_to_its_visit(engine: Engine, projector: Projector) -> None:
    call = Call(at=MORNING).start().choose("switchboard", key="0")
    visit = call.join("main")
    call.callback(after=40)
    call.left(visit, result="hangup", after=2).end()
    ingest(engine, projector, call.events)
    with engine.connect() as connection:
        linked = connection.scalar(select(Callback.visit_id))
        ended = connection.scalar(select(QueueVisit.ended))
    assert (linked, ended) == (visit, "callback")


def test_rebuild_projects_every_stored_call(engine: Engine, projector: Projector) -> None:
    calls = day_of_calls()
    ingest(engine, projector, [e for call in calls for e in call.events])
    expected = snapshot(engine)
    with engine.begin() as connection:
        for model in RECORDS:
            connection.execute(delete(model))
    assert rebuild(engine, projector=projector, chunk=2) == len(calls)
    assert snapshot(engine) == expected


NEW_TABLES = {"calls", "transfers", "queue_visits", "returns"}


def test_the_records_migration_upgrades_and_downgrades(empty_db_url: str) -> None:
    def tables() -> set[str]:
        engine = make_engine(empty_db_url)
        try:
            return set(inspect(engine).get_table_names())
        finally:
            engine.dispose()

    def callback_columns() -> set[str]:
        engine = make_engine(empty_db_url)
        try:
            return {c["name"] for c in inspect(engine).get_columns("callbacks")}
        finally:
            engine.dispose()

    migrate(empty_db_url, "0002_call_records")
    assert NEW_TABLES <= tables()
    assert {"done_at", "visit_id"} <= callback_columns()
    assert current_revision(empty_db_url) == "0002_call_records"

    downgrade(empty_db_url, "0001_initial")
    assert tables() & NEW_TABLES == set()
    assert {"done_at", "visit_id"} & callback_columns() == set()

    downgrade(empty_db_url, "base")
    assert current_revision(empty_db_url) is None
    migrate(empty_db_url)
    assert NEW_TABLES <= tables()
