"""A web-only instance (`serve --no-embedded-workers`, as compose runs the app) replays its own
spool once Redis is back, with no ingest running; its workers share the spool directory and
never push an event twice; the backlog shows in the metrics while it waits."""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis

from switchboard.eventlog import EventLog
from switchboard.redis_client import connect_redis
from switchboard.redis_server import EmbeddedRedis
from switchboard.settings import Settings
from switchboard.spool import Spool
from tests.fixtures.events import make_event
from tests.fixtures.localhost import fetch, free_port, poll, status, wait_for
from tests.fixtures.redis import stream_entries
from tests.fixtures.serve import start_serve
from tests.switchboard.test_eventlog import spooled_ids, web_client
from tests.switchboard.test_serve import ingest_consumers, play_a_call, sample

STREAM = Settings().stream


@pytest.fixture
def workdir() -> Iterator[Path]:
    # Short: the test's own Redis listens on a unix socket in here (107 bytes at most).
    with tempfile.TemporaryDirectory(prefix="sb-spool-") as directory:
        yield Path(directory)


def stream_ids(client: redis.Redis) -> Counter[str]:
    return Counter(fields[b"id"].decode() for _, fields in stream_entries(client, STREAM))


def claim(spool: Spool, number: int) -> None:
    """Leave `events.jsonl` claimed by a replay that never finished (as a crash leaves it)."""
    spool.path.rename(spool.directory / f"replaying-{number:020d}-1.jsonl")


def test_a_web_only_instance_drains_its_spool_when_redis_returns(workdir: Path) -> None:
    own_redis = EmbeddedRedis(workdir / "r").start()
    port, metrics_port = free_port(), free_port()
    app, metrics = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{metrics_port}/metrics"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    env |= {
        "SWITCHBOARD_PUBLIC_URL": app,
        "SWITCHBOARD_REDIS_URL": own_redis.url,
        "SWITCHBOARD_BREAKER_OPEN_SECONDS": "1",
    }
    spool = Spool(workdir / "var" / "spool")
    with (workdir / "serve.log").open("wb") as log:
        serve = start_serve(
            workdir,
            *("--no-embedded-workers", "--port", str(port), "--workers", "2"),
            *("--metrics-port", str(metrics_port)),
            env=env,
            stdout=log,
            stderr=log,
        )
    try:
        wait_for(lambda: status(f"{app}/readyz") == 200, within=60, what="serve ready")
        own_redis.stop()
        call, _ = play_a_call(app)  # the caller is served all the same
        assert "Velkomen til Alver kommune." in call.transcript_text()
        spooled = spooled_ids(spool)
        assert len(spooled) >= 2  # at least the call's start and end
        backlog = poll(
            lambda: fetch(metrics),
            lambda page: sample(page, "switchboard_event_spool_events") == len(spooled),
            within=20,
            what="the spool backlog in the metrics",
        )
        assert 0 < sample(backlog, "switchboard_event_spool_bytes")
        assert 0 < sample(backlog, "switchboard_event_spool_oldest_age_seconds") < 600
        assert status(f"{app}/readyz") == 503  # Redis is down, not the backlog's fault

        own_redis.start()  # back on the same socket; nothing else is running
        client = connect_redis(own_redis.url, timeout=5, connect_timeout=5)
        try:
            wait_for(
                lambda: set(stream_ids(client)) == set(spooled),
                within=30,
                what="the spooled events in the stream",
            )
            assert stream_ids(client) == Counter(spooled), "each event pushed exactly once"
            assert ingest_consumers(client) == 0, "the web process drained it on its own"
        finally:
            client.close()
        wait_for(spool.is_empty, within=10, what="the spool files deleted")
        drained = poll(
            lambda: fetch(metrics),
            lambda page: sample(page, "switchboard_event_spool_events") == 0,
            within=20,
            what="the drained spool in the metrics",
        )
        assert sample(drained, "switchboard_event_spool_bytes") == 0
        assert sample(drained, "switchboard_event_spool_oldest_age_seconds") == 0
        assert status(f"{app}/readyz") == 200
    finally:
        serve.terminate()
        try:
            serve.wait(timeout=60)
        except subprocess.TimeoutExpired:
            serve.kill()
            serve.wait()
        own_redis.stop()


def test_workers_sharing_a_spool_replay_each_event_once(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis
) -> None:
    """Eight replayers (as many web workers) start at once on a spool of twenty batches."""
    directory = tmp_path / "spool"
    writer = Spool(directory)
    events = [make_event("call_started", call_sid=f"CA{n:032x}") for n in range(200)]
    for batch in range(20):
        writer.append(events[batch * 10 : batch * 10 + 10])
        claim(writer, batch)
    logs = [
        EventLog(
            redis=web_client(redis_url),
            stream=STREAM,
            spool=Spool(directory),
            breaker_open_seconds=30,
        )
        for _ in range(8)
    ]
    start = threading.Barrier(len(logs))
    pushed: list[int] = []

    def replay(log: EventLog) -> None:
        start.wait()
        pushed.append(log.replay_spool())

    threads = [threading.Thread(target=replay, args=(log,)) for log in logs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sum(pushed) == len(events)
    assert stream_ids(redis_client) == Counter(event.id for event in events)
    assert writer.is_empty()


def test_the_backlog_reports_events_and_the_age_of_the_oldest(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    assert spool.backlog().events == 0
    assert spool.backlog().oldest_age_seconds == 0
    spooled_at = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    spool.append([make_event("call_started", at=spooled_at)])
    claim(spool, 1)  # an older file, claimed by a replay, is read first
    spool.append([make_event("call_ended", at=spooled_at + timedelta(minutes=5))] * 2)
    backlog = spool.backlog(now=spooled_at + timedelta(minutes=20))
    assert backlog.events == 3
    assert backlog.bytes == spool.backlog_bytes() > 0
    assert backlog.oldest_age_seconds == 20 * 60
