"""The event log: a webhook's events reach the stream, or the spool when Redis is down, and
come back from the spool without loss or double counting."""

from __future__ import annotations

import json
import multiprocessing
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from ivr.events import Event
from switchboard.eventlog import EventLog
from switchboard.models import CallEvent
from switchboard.redis_client import connect_redis
from switchboard.redis_server import EmbeddedRedis
from switchboard.spool import Spool
from tests.fixtures.events import make_event
from workers.ingest import Ingestor

STREAM = "test:events"
OPEN_SECONDS = 30.0


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def web_client(url: str) -> redis.Redis:
    """The client a web process uses: 0.2 s timeouts, one retry on a refused connection."""
    return connect_redis(url, timeout=0.2, connect_timeout=0.2, retries=1)


def spooled_ids(spool: Spool) -> list[str]:
    ids: list[str] = []
    for path in sorted(spool.directory.glob("*.jsonl")):
        ids += [json.loads(line)["id"] for line in path.read_text().splitlines() if line]
    return ids


@pytest.fixture
def hung_redis(tmp_path: Path) -> Iterator[tuple[str, socket.socket]]:
    """A unix socket that accepts connections into its backlog and never answers: Redis
    stuck or a black-holed network. Its backlog tells how often the client tried."""
    path = tmp_path / "hung.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(64)
    listener.setblocking(False)
    try:
        yield f"unix://{path}", listener
    finally:
        listener.close()


def connection_attempts(listener: socket.socket) -> int:
    attempts = 0
    while True:
        try:
            connection, _ = listener.accept()
        except BlockingIOError:
            return attempts
        connection.close()
        attempts += 1


def test_events_reach_the_stream(redis_url: str, redis_client: redis.Redis, tmp_path) -> None:
    spool = Spool(tmp_path / "spool")
    log = EventLog(redis=web_client(redis_url), stream=STREAM, spool=spool, breaker_open_seconds=30)
    events = [make_event("call_started"), make_event("menu_choice", data={"digit": "2"})]

    log.append(events)

    entries: list[tuple[bytes, dict[bytes, bytes]]] = redis_client.xrange(STREAM)  # type: ignore[assignment]
    decoded = [{k.decode(): v.decode() for k, v in fields.items()} for _, fields in entries]
    assert decoded == [event.to_fields() for event in events]
    assert log.state == "closed"
    assert spool.is_empty()


def test_a_stuck_redis_costs_one_timeout_and_the_events_are_spooled(
    hung_redis: tuple[str, socket.socket], tmp_path
) -> None:
    url, _listener = hung_redis
    spool = Spool(tmp_path / "spool")
    log = EventLog(redis=web_client(url), stream=STREAM, spool=spool, breaker_open_seconds=30)
    events = [make_event("call_started"), make_event("queue_joined")]

    started = time.monotonic()
    log.append(events)
    elapsed = time.monotonic() - started

    assert elapsed < 0.5
    assert spooled_ids(spool) == [event.id for event in events]
    assert log.state == "open"
    assert log.spooled_total == 2


def test_a_missing_redis_fails_fast_and_the_events_are_spooled(tmp_path) -> None:
    spool = Spool(tmp_path / "spool")
    log = EventLog(
        redis=web_client(f"unix://{tmp_path / 'nobody-here.sock'}"),
        stream=STREAM,
        spool=spool,
        breaker_open_seconds=30,
    )
    event = make_event("call_started")

    started = time.monotonic()
    log.append([event])

    assert time.monotonic() - started < 0.5
    assert spooled_ids(spool) == [event.id]


def test_the_open_breaker_skips_redis_until_one_probe_is_due(
    hung_redis: tuple[str, socket.socket], tmp_path
) -> None:
    url, listener = hung_redis
    clock = Clock()
    spool = Spool(tmp_path / "spool")
    log = EventLog(
        redis=web_client(url),
        stream=STREAM,
        spool=spool,
        breaker_open_seconds=OPEN_SECONDS,
        clock=clock,
    )
    log.append([make_event()])
    assert connection_attempts(listener) == 1
    assert log.state == "open"

    for _ in range(5):
        started = time.monotonic()
        log.append([make_event()])
        assert time.monotonic() - started < 0.1  # no timeout paid: Redis was not asked
    clock.now += OPEN_SECONDS - 1
    log.append([make_event()])
    assert connection_attempts(listener) == 0
    assert log.replay_spool() == 0  # replays wait for the breaker too

    clock.now += 1
    state: str = log.state
    assert state == "half_open"
    log.append([make_event()])  # the probe: Redis is still stuck
    assert connection_attempts(listener) == 1
    assert log.state == "open"
    assert len(spooled_ids(spool)) == 8


def test_spooled_events_are_replayed_when_redis_is_back_and_ingested_once(
    engine: Engine, tmp_path
) -> None:
    clock = Clock()
    spool = Spool(tmp_path / "spool")
    with EmbeddedRedis(tmp_path / "own-redis") as server:
        client = web_client(server.url)
        log = EventLog(
            redis=client, stream=STREAM, spool=spool, breaker_open_seconds=OPEN_SECONDS, clock=clock
        )
        before = make_event("call_started")
        log.append([before])
        server.stop()
        during = [make_event("menu_choice"), make_event("queue_joined")]
        log.append(during[:1])  # fails: Redis is gone, the breaker opens
        log.append(during[1:])  # straight to the spool
        assert spooled_ids(spool) == [event.id for event in during]

        server.start()  # Redis is back (its AOF kept `before`)
        clock.now += OPEN_SECONDS
        leftover = spool.directory / "replaying-00000000000000000001-1.jsonl"
        leftover.write_bytes(spool.path.read_bytes())  # a replay that crashed before deleting
        assert log.replay_spool() == 4
        assert log.state == "closed"
        assert spool.is_empty()
        after = make_event("call_ended")
        log.append([after])

        ingestor = Ingestor(
            redis=client, engine=engine, stream=STREAM, consumer="test", sms_queue=None
        )
        ingestor.ensure_group()
        while ingestor.run_once():
            pass
        client.close()

    with Session(engine) as session:
        stored = list(session.scalars(select(CallEvent.event_id)))
    assert sorted(stored) == sorted(event.id for event in [before, *during, after])
    assert ingestor.duplicates_total == 2  # the crashed replay's copies


def _append_many(directory: Path, worker: int, count: int) -> None:
    spool = Spool(directory)
    for number in range(count):
        # Lines far longer than PIPE_BUF (4 KiB), where interleaving would show.
        spool.append([make_event(data={"worker": worker, "n": number, "pad": "x" * 5_000})])
    os._exit(0)  # skip pytest's atexit handlers in the forked child


def test_concurrent_appenders_and_a_replayer_lose_and_mix_nothing(tmp_path) -> None:
    directory = tmp_path / "spool"
    spool = Spool(directory)
    replayed: list[dict[str, str]] = []
    processes = [
        multiprocessing.get_context("fork").Process(
            target=_append_many, args=(directory, worker, 300)
        )
        for worker in range(4)
    ]
    for process in processes:
        process.start()
    while any(process.is_alive() for process in processes):
        spool.replay(replayed.extend)  # rotating files under the appenders' feet
    for process in processes:
        process.join(timeout=30)
        assert process.exitcode == 0
    spool.replay(replayed.extend)

    events = [Event.from_fields(fields) for fields in replayed]
    seen = sorted((event.data["worker"], event.data["n"]) for event in events)
    assert seen == [(worker, n) for worker in range(4) for n in range(300)]
    assert spool.corrupt_lines_total == 0
    assert spool.is_empty()
