"""Raw callback numbers are removed after retention; pending ones are kept until then. The
ingest consumer purges on a schedule, so nobody has to run `switchboard purge`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from switchboard.db import make_engine, migrate
from switchboard.models import Callback
from switchboard.observability.collectors import ingest_registry
from tests.fixtures.localhost import fetch, free_port, wait_for
from tests.fixtures.prometheus import check_metrics
from workers.purge import Purger, purge_numbers, start_purger

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)


def _callback(engine, *, event_id, status, requested_days_ago, done_days_ago=None):
    with engine.begin() as connection:
        connection.execute(
            insert(Callback).values(
                event_id=event_id,
                call_sid="CA" + event_id.rjust(32, "0"),
                number="+4791234567",
                caller="pseudonym",
                language="nn",
                requested_at=NOW - timedelta(days=requested_days_ago),
                due_at=None,
                status=status,
                done_at=None if done_days_ago is None else NOW - timedelta(days=done_days_ago),
            )
        )


def _numbers(engine) -> dict[str, tuple[str, str]]:
    with Session(engine) as session:
        return {c.event_id: (c.status, c.number) for c in session.scalars(select(Callback))}


def test_numbers_are_purged_after_retention_and_kept_while_needed(engine):
    _callback(engine, event_id="1", status="done", requested_days_ago=40, done_days_ago=35)
    _callback(engine, event_id="2", status="done", requested_days_ago=10, done_days_ago=9)
    _callback(engine, event_id="3", status="pending", requested_days_ago=5)
    _callback(engine, event_id="4", status="pending", requested_days_ago=45)

    result = purge_numbers(engine, now=NOW, keep_days=30)

    assert (result.closed, result.abandoned) == (1, 1)
    assert _numbers(engine) == {
        "1": ("done", ""),
        "2": ("done", "+4791234567"),  # recently done: the agent may still need it
        "3": ("pending", "+4791234567"),  # still owed
        "4": ("cancelled", ""),  # owed too long: cancelled, number gone
    }
    assert purge_numbers(engine, now=NOW, keep_days=30) == result.__class__(closed=0, abandoned=0)


def test_the_purger_counts_what_it_removed_at_its_own_clock(engine, ingestor):
    _callback(engine, event_id="1", status="done", requested_days_ago=40, done_days_ago=35)
    _callback(engine, event_id="2", status="pending", requested_days_ago=20)
    days_later = {"days": 0}
    purger = Purger(engine=engine, clock=lambda: NOW + timedelta(**days_later))
    registry = ingest_registry(ingestor, purger)  # the ingest's metrics

    purger.run_once()
    days_later["days"] = 15  # the pending callback is now 35 days old
    purger.run_once()

    assert _numbers(engine) == {"1": ("done", ""), "2": ("cancelled", "")}
    sample = registry.get_sample_value
    assert sample("switchboard_ingest_purges_total", {"result": "succeeded"}) == 2
    assert sample("switchboard_ingest_purges_total", {"result": "failed"}) == 0
    assert sample("switchboard_ingest_purged_numbers_total", {"callback": "closed"}) == 1
    assert sample("switchboard_ingest_purged_numbers_total", {"callback": "abandoned"}) == 1
    assert check_metrics(generate_latest(registry).decode()) == (0, "")


def test_a_failed_purge_is_counted_and_tried_again(tmp_path):
    # A database without tables: the purge fails, and the next round succeeds once it has them.
    url = f"sqlite:///{tmp_path / 'late.db'}"
    engine = make_engine(url)
    purger = Purger(engine=engine, clock=lambda: NOW)
    stop = threading.Event()
    try:
        thread = start_purger(purger, interval=0.05, stop=stop)
        wait_for(lambda: purger.failed_total >= 1, what="a failed purge")
        migrate(url)
        wait_for(lambda: purger.succeeded_total >= 1, what="a purge after the migration")
    finally:
        stop.set()
        engine.dispose()
    thread.join(timeout=10)
    assert not thread.is_alive()


def _metric(url: str, name: str, labels: dict[str, str]) -> float | None:
    for family in text_string_to_metric_families(fetch(url)):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    return None


def test_a_running_ingest_purges_expired_numbers_on_its_own(db_url, redis_url, tmp_path):
    """Nobody runs `switchboard purge`: the ingest consumer does, at start and on schedule."""
    engine = make_engine(db_url)
    _callback(engine, event_id="1", status="done", requested_days_ago=40, done_days_ago=35)
    _callback(engine, event_id="2", status="pending", requested_days_ago=2)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    env |= {
        "SWITCHBOARD_DATABASE_URL": db_url,
        "SWITCHBOARD_REDIS_URL": redis_url,
        "SWITCHBOARD_VAR_DIR": str(tmp_path / "var"),
    }
    log = tmp_path / "ingest.log"
    try:
        with log.open("w") as out:
            code = _run_ingest_while_callbacks_expire(engine, env=env, port=port, out=out)
    finally:
        engine.dispose()
    assert code == 0
    output = log.read_text()
    assert "purge: removed the numbers of 1 closed and 0 abandoned callbacks" in output
    assert "purge: removed the numbers of 0 closed and 1 abandoned callbacks" in output
    assert "4791234567" not in output  # counts only, never a number


def _run_ingest_while_callbacks_expire(engine, *, env, port, out) -> int:
    """Runs `switchboard ingest` until it has purged at start and on schedule; its exit code."""
    metrics = f"http://127.0.0.1:{port}/metrics"
    ingest = subprocess.Popen(
        [
            *(sys.executable, "-m", "switchboard", "ingest"),
            *("--metrics-port", str(port), "--purge-every", "0.2", "--keep-days", "30"),
        ],
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(lambda: _numbers(engine)["1"] == ("done", ""), within=30, what="purge at start")
        # A callback that expires while the consumer runs: the next scheduled round takes it.
        _callback(engine, event_id="3", status="pending", requested_days_ago=31)
        wait_for(
            lambda: _numbers(engine)["3"] == ("cancelled", ""), within=30, what="scheduled purge"
        )
        assert _numbers(engine)["2"] == ("pending", "+4791234567")  # still owed: kept
        purged = "switchboard_ingest_purged_numbers_total"
        # The counters follow the committed purge: a bounded wait for the scrape to show it.
        wait_for(lambda: _metric(metrics, purged, {"callback": "abandoned"}) == 1, what="count")
        assert _metric(metrics, purged, {"callback": "closed"}) == 1
        runs = _metric(metrics, "switchboard_ingest_purges_total", {"result": "succeeded"})
        assert runs is not None
        assert runs >= 2
    finally:
        ingest.send_signal(signal.SIGTERM)
        code = ingest.wait(timeout=30)
    return code
