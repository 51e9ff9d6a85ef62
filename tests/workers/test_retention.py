"""Retention for everything: SMS numbers, raw events of ended calls, records after years. The
statistics come from the records, so a purge of raw events leaves every figure as it was."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
from prometheus_client import generate_latest
from sqlalchemy import Engine, func, insert, select

from switchboard.db import make_engine, migrate
from switchboard.models import Callback, CallEvent, CallRecord, SmsMessage
from switchboard.observability.collectors import ingest_registry
from switchboard.stats.aggregates import report
from switchboard.stats.figures import Report
from tests.fixtures.calls import Call
from tests.fixtures.cli import run_cli
from tests.fixtures.prometheus import check_metrics
from tests.workers.test_records import MORNING, day_of_calls, ingest, snapshot
from workers.ingest import Ingestor
from workers.projection import Projector
from workers.purge import Purger, purge
from workers.records import load_projector
from workers.retention import EXPIRED, Retention

NOW = MORNING + timedelta(days=100)  # the morning's calls are past the events' 90 days
RECENT = NOW - timedelta(days=10)
RETENTION = Retention()


@pytest.fixture(scope="module")
def projector() -> Projector:
    return load_projector()


def stats(engine: Engine, *, start: datetime, end: datetime) -> Report:
    with engine.connect() as connection:
        return report(connection, start=start, end=end)


def event_sids(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(connection.scalars(select(CallEvent.call_sid).distinct()))


def test_raw_events_of_ended_calls_go_and_every_figure_stays_exact(
    engine: Engine, projector: Projector
) -> None:
    old = day_of_calls()
    recent = Call(at=RECENT, caller="caller-a").start().choose("switchboard", key="0")
    recent.join("main")
    recent.end(after=40)
    for call in [*old, recent]:
        ingest(engine, projector, call.events)
    *ended, active = old  # the last one (the bounce) has no end: still active
    records = snapshot(engine)
    windows = [(NOW - timedelta(days=30), NOW), (MORNING - timedelta(days=1), NOW)]
    figures = [stats(engine, start=start, end=end) for start, end in windows]

    result = purge(engine, now=NOW, retention=RETENTION)

    assert result.deleted["call_events"] == sum(len(call.events) for call in ended)
    assert event_sids(engine) == {active.sid, recent.sid}
    assert snapshot(engine) == records
    assert [stats(engine, start=start, end=end) for start, end in windows] == figures
    assert purge(engine, now=NOW, retention=RETENTION).deleted["call_events"] == 0

    # A late report for a call whose events are gone is stored, but does not rebuild its
    # record from that one event.
    first = ended[0]
    late = first.add("sms_requested", f"{first.sid}:late-sms", after=3600, caller=first.caller)
    ingest(engine, projector, [late])
    assert first.sid in event_sids(engine)
    assert snapshot(engine) == records
    # An ordinary call still gets its late events projected.
    late_end = active.end(after=60)
    ingest(engine, projector, late_end.events[-1:])
    with engine.connect() as connection:
        state = connection.scalar(select(CallRecord.state).where(CallRecord.call_sid == active.sid))
    assert state == "ended"


def _sms(engine: Engine, *, key: str, status: str, number: str, days_ago: float) -> None:
    with engine.begin() as connection:
        connection.execute(
            insert(SmsMessage).values(
                event_id=key,
                call_sid="CA" + key.rjust(32, "0"),
                caller="pseudonym",
                kind="self_service",
                status=status,
                created_at=NOW - timedelta(days=days_ago),
                number=number,
                body="text",
            )
        )


def _sms_rows(engine: Engine) -> dict[str, tuple[str, str | None, str | None]]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(SmsMessage.event_id, SmsMessage.status, SmsMessage.number, SmsMessage.error)
        )
        return {key: (status, number, error) for key, status, number, error in rows}


def test_sms_numbers_are_cleared_when_settled_and_expired_when_stuck(engine: Engine) -> None:
    _sms(engine, key="1", status="sent", number="+4791234567", days_ago=1)
    _sms(engine, key="2", status="queued", number="+4791234567", days_ago=1)
    _sms(engine, key="3", status="queued", number="+4791234567", days_ago=8)
    _sms(engine, key="4", status="rejected", number="", days_ago=8)

    result = purge(engine, now=NOW, retention=RETENTION)

    assert (result.sms_settled, result.sms_expired) == (1, 1)
    assert _sms_rows(engine) == {
        "1": ("sent", "", None),
        "2": ("queued", "+4791234567", None),  # a retry may still send it
        "3": ("failed", "", EXPIRED),
        "4": ("rejected", "", None),
    }


def test_records_are_deleted_after_their_years(engine: Engine, projector: Projector) -> None:
    for call in day_of_calls():
        ingest(engine, projector, call.events)
    requested = MORNING + timedelta(minutes=30)
    with engine.begin() as connection:
        connection.execute(
            insert(Callback).values(
                event_id="cb",
                call_sid="CA" + "9" * 32,
                number="",
                caller="pseudonym",
                language="nn",
                requested_at=requested,
                status="done",
                done_at=requested,
            )
        )
    _sms(engine, key="s", status="sent", number="", days_ago=(NOW - MORNING).days)
    records = snapshot(engine)

    four_years = purge(engine, now=MORNING + timedelta(days=4 * 365), retention=RETENTION)
    assert snapshot(engine) == records
    assert {table: n for table, n in four_years.deleted.items() if n} == {
        "call_events": four_years.deleted["call_events"]
    }

    six_years = purge(engine, now=MORNING + timedelta(days=6 * 365), retention=RETENTION)
    assert snapshot(engine) == {table: [] for table in records}
    deleted = six_years.deleted
    assert deleted["calls"] == len(records["calls"]) == 5
    assert deleted["transfers"] == len(records["transfers"])
    assert (deleted["callbacks"], deleted["sms_messages"]) == (1, 1)
    assert deleted["call_events"] > 0  # the active call's events go with its record
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(CallEvent)) == 0


def test_a_purged_number_leaves_the_sqlite_file_and_its_log(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'switchboard.db'}"
    migrate(url)
    engine = make_engine(url)
    number = "+4798765432"
    try:
        with engine.begin() as connection:
            connection.execute(
                insert(Callback).values(
                    event_id="cb",
                    call_sid="CA" + "9" * 32,
                    number=number,
                    caller="pseudonym",
                    language="nn",
                    requested_at=NOW - timedelta(days=20),
                    status="done",
                    done_at=NOW - timedelta(days=19),
                )
            )
        files = [tmp_path / "switchboard.db", tmp_path / "switchboard.db-wal"]
        assert any(number.encode() in path.read_bytes() for path in files)

        assert purge(engine, now=NOW, retention=RETENTION).closed == 1

        for path in files:
            if path.exists():
                assert b"98765432" not in path.read_bytes(), path
    finally:
        engine.dispose()


def rewrites_asked(client: redis.Redis) -> int:
    """How many BGREWRITEAOF commands this Redis has answered."""
    stats = client.info("commandstats").get("cmdstat_bgrewriteaof", {"calls": 0})
    return int(stats["calls"])


def test_the_scheduled_purge_counts_every_kind_and_rewrites_the_aof(
    engine: Engine, projector: Projector, ingestor: Ingestor, redis_client: redis.Redis
) -> None:
    for call in day_of_calls():
        ingest(engine, projector, call.events)
    _sms(engine, key="3", status="queued", number="+4791234567", days_ago=8)
    asked = rewrites_asked(redis_client)
    purger = Purger(engine=engine, redis_client=redis_client, clock=lambda: NOW)
    registry = ingest_registry(ingestor, purger)

    purger.run_once()
    purger.run_once()  # a rewrite may still be under way: that is no failure

    sample = registry.get_sample_value
    assert sample("switchboard_ingest_purges_total", {"result": "succeeded"}) == 2
    assert sample("switchboard_ingest_purged_sms_numbers_total", {"sms": "expired"}) == 1
    assert sample("switchboard_ingest_purged_sms_numbers_total", {"sms": "settled"}) == 0
    assert (sample("switchboard_ingest_purged_rows_total", {"table": "call_events"}) or 0) > 0
    assert sample("switchboard_ingest_purged_rows_total", {"table": "calls"}) == 0
    assert check_metrics(generate_latest(registry).decode()) == (0, "")
    assert rewrites_asked(redis_client) >= asked + 2  # the second may find one under way


def test_switchboard_purge_prints_what_it_removed_per_kind(
    tmp_path: Path, projector: Projector
) -> None:
    url = f"sqlite:///{tmp_path / 'switchboard.db'}"
    migrate(url)
    engine = make_engine(url)
    try:
        old = datetime.now(UTC) - timedelta(days=120)
        call = Call(at=old).start().choose("switchboard", key="0").end(after=30)
        ingest(engine, projector, call.events)
    finally:
        engine.dispose()

    result = run_cli("purge", cwd=tmp_path, env={"SWITCHBOARD_DATABASE_URL": url})

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "callback numbers: 0 closed, 0 abandoned (cancelled)" in lines
    assert "sms numbers: 0 settled, 0 expired (failed)" in lines
    assert f"call_events rows deleted: {len(call.events)}" in lines
    assert "calls rows deleted: 0" in lines
