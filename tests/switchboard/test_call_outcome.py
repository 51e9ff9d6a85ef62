"""The call outcome is a column: the projection writes it, and the exporter and `/api/stats`
count that column, so they agree; migration 0004 gives calls recorded before it their outcome."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, MetaData, Table, inspect, select

from ivr.events import Event
from ivr.vocabulary import CALL_OUTCOMES, ENDED_CALL_OUTCOMES
from switchboard.db import current_revision, downgrade, make_engine, migrate
from switchboard.models import CallRecord
from switchboard.settings import DEFAULT_CONFIG
from switchboard.stats import aggregates as stats
from switchboard.stats.kpis import EPOCH, FOREVER, read_current, read_totals
from tests.fixtures.calls import OSLO, Call, oslo
from tests.switchboard.apphost import auth, make_app, make_settings
from workers.event_rows import insert_events
from workers.projection import CallProjection, Projector
from workers.records import load_projector, project_calls

MORNING = oslo("2026-11-25 10:00:00")
NOW = "2026-11-25T12:00:00+01:00"
BOUNDS = (10.0, 20.0)


@pytest.fixture(scope="module")
def projector() -> Projector:
    return load_projector(DEFAULT_CONFIG)


def calls_of_every_outcome() -> dict[str, Call]:
    """One call per outcome, each built from the events the flow reports."""

    def call(minute: int) -> Call:
        return Call(at=MORNING.replace(minute=minute), caller=f"caller-{minute}").start()

    in_progress = call(0).choose("switchboard", key="0")
    unresolved = call(1).choose("switchboard", key="0").end(status="unresolved")
    transferred = call(2).choose("department:helse_omsorg")
    transferred.transfer("helse_omsorg", outcome="connected", talk=120)
    transferred.end()
    # A bounce, then an agent answers in the returns queue: answered.
    answered = call(3).choose("department:nav")
    bounced = answered.transfer("nav", outcome="busy")
    visit = answered.join("returns", bounced_from=bounced)
    answered.answered("returns", after=15)
    answered.left(visit, result="bridged", after=90, waited=15, queue="returns").end()
    callback = call(4).choose("switchboard", key="0")
    visit = callback.join("main")
    callback.callback(after=40)
    callback.left(visit, result="hangup", after=2).end()
    sms = call(5).sms().end()
    abandoned = call(6).choose("switchboard", key="0")
    visit = abandoned.join("main")
    abandoned.left(visit, result="hangup", after=45).end()
    ivr = call(7).choose("switchboard", key="0").end(after=5)
    calls = {
        "in_progress": in_progress,
        "unresolved": unresolved,
        "transferred": transferred,
        "answered": answered,
        "callback": callback,
        "sms": sms,
        "abandoned": abandoned,
        "ivr": ivr,
    }
    assert tuple(sorted(calls)) == tuple(sorted(CALL_OUTCOMES))
    return calls


def events_of(calls: dict[str, Call]) -> list[Event]:
    return [event for call in calls.values() for event in call.events]


def ingest(engine: Engine, projector: Projector, events: list[Event]) -> list[CallProjection]:
    """What the ingest does with a batch: store the events, project their calls."""
    with engine.begin() as connection:
        insert_events(connection, events, caller_key="test-key")
        return project_calls(
            connection, call_sids={e.call_sid for e in events}, projector=projector
        )


def stored_outcomes(connection: Connection) -> dict[str, str]:
    rows = connection.execute(select(CallRecord.call_sid, CallRecord.outcome))
    return {str(sid): str(outcome) for sid, outcome in rows}


def exporter_outcomes(connection: Connection) -> dict[str, float]:
    totals = read_totals(connection, start=EPOCH, end=FOREVER, wait_bounds=BOUNDS)
    counted = {dict(k)["outcome"]: v for k, v in totals.values["switchboard_call_outcomes"].items()}
    now = MORNING.replace(hour=12)
    current = read_current(connection, now=now, zone=OSLO, since=EPOCH, wait_bounds=BOUNDS)
    today = current.values["switchboard_today_calls"]
    counted["in_progress"] = today[(("outcome", "in_progress"),)]
    return counted


def statistics_outcomes(calls: dict[str, Any]) -> dict[str, int]:
    counted = {ending: calls[f"outcome_{ending}"] for ending in ENDED_CALL_OUTCOMES}
    return counted | {"in_progress": calls["in_progress"]}


def test_every_outcome_agrees_in_the_projection_the_exporter_and_the_statistics(
    engine: Engine, projector: Projector
) -> None:
    calls = calls_of_every_outcome()
    projections = ingest(engine, projector, events_of(calls))
    expected = {call.sid: outcome for outcome, call in calls.items()}
    assert {p.call.call_sid: p.call.outcome for p in projections} == expected
    one_each = dict.fromkeys(CALL_OUTCOMES, 1)
    with engine.connect() as connection:
        assert stored_outcomes(connection) == expected
        assert exporter_outcomes(connection) == one_each
        section = stats.call_stats(connection, start=EPOCH, end=FOREVER)
        assert statistics_outcomes(asdict(section.total)) == one_each


def test_api_stats_serves_the_same_outcomes_as_the_exporter(
    tmp_path: Path, redis_url: str, projector: Projector
) -> None:
    app = make_app(make_settings(tmp_path, redis_url))
    with TestClient(app, headers=auth("manager")) as client:
        engine = client.app.state.services.engine  # type: ignore[attr-defined]
        ingest(engine, projector, events_of(calls_of_every_outcome()))
        response = client.get("/api/stats", headers={"X-Simulated-Time": NOW})
        assert response.status_code == 200, response.text
        total = response.json()["calls"]["total"]
        served = statistics_outcomes({name: figure["value"] for name, figure in total.items()})
        with engine.connect() as connection:
            assert served == exporter_outcomes(connection) == dict.fromkeys(CALL_OUTCOMES, 1)


# -- the migration ---------------------------------------------------------------------------


@pytest.fixture
def at_0003(empty_db_url: str) -> Iterator[Engine]:
    migrate(empty_db_url, "0003_privacy")
    engine = make_engine(empty_db_url)
    try:
        yield engine
    finally:
        engine.dispose()


def record_as_at_0003(engine: Engine, projector: Projector, events: list[Event]) -> None:
    """Store the events and write their records as the ingest did before 0004: no outcome."""
    sids = sorted({e.call_sid for e in events})
    projections = [projector.project_call(sid, events) for sid in sids]
    with engine.begin() as connection:
        insert_events(connection, events, caller_key="test-key")
        metadata = MetaData()

        def table(name: str) -> Table:
            return Table(name, metadata, autoload_with=connection)

        calls, transfers, visits = table("calls"), table("transfers"), table("queue_visits")
        assert "outcome" not in calls.c
        for p in projections:
            assert p is not None
            connection.execute(calls.insert(), _columns(calls, asdict(p.call)))
            for t in p.transfers:
                connection.execute(transfers.insert(), _columns(transfers, asdict(t)))
            for v in p.visits:
                connection.execute(visits.insert(), _columns(visits, asdict(v)))


def _columns(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in row.items() if name in table.c}


def test_calls_recorded_at_0003_get_their_outcome_from_the_migration(
    at_0003: Engine, empty_db_url: str, projector: Projector
) -> None:
    calls = calls_of_every_outcome()
    record_as_at_0003(at_0003, projector, events_of(calls))

    migrate(empty_db_url, "0004_call_outcome")
    assert current_revision(empty_db_url) == "0004_call_outcome"
    with at_0003.connect() as connection:
        assert stored_outcomes(connection) == {c.sid: outcome for outcome, c in calls.items()}
    columns = {c["name"]: c for c in inspect(at_0003).get_columns("calls")}
    assert columns["outcome"]["nullable"] is False
    checks = {c["name"] for c in inspect(at_0003).get_check_constraints("calls")}
    assert "ck_calls_outcome" in checks
    assert len(checks) == 2

    downgrade(empty_db_url, "0003_privacy")
    assert "outcome" not in {c["name"] for c in inspect(at_0003).get_columns("calls")}
    checks = {c["name"] for c in inspect(at_0003).get_check_constraints("calls")}
    assert "ck_calls_outcome" not in checks
    assert len(checks) == 1
    migrate(empty_db_url)
    with at_0003.connect() as connection:
        assert Counter(stored_outcomes(connection).values()) == Counter(CALL_OUTCOMES)
