"""When the app stops, its lifespan stops the threads it started and lets go of what it built:
the engine's pooled connections and its own Redis client. A Redis client passed in by the
caller stays the caller's, open."""

from __future__ import annotations

import threading
from typing import Any

import redis
from fastapi.testclient import TestClient
from sqlalchemy import event

from switchboard.app import create_app
from tests.fixtures.localhost import wait_for
from tests.switchboard.apphost import auth, make_app, make_settings

APP_THREADS = ("spool-replayer", "event-log-metrics")  # the event log's and the metrics'


def _connection_ids(client: redis.Redis) -> set[int]:
    """The ids of the connections the Redis server has open, as `CLIENT LIST` shows them."""
    return {int(entry["id"]) for entry in client.client_list()}


def test_stopping_the_app_stops_its_threads_and_closes_its_connections(
    tmp_path, redis_url, redis_client
):
    settings = make_settings(tmp_path, redis_url)
    app = create_app(settings, simulated_clock=True)  # no client passed in: the app makes one
    engine = app.state.services.engine
    opened: list[Any] = []
    closed: list[Any] = []
    event.listen(engine, "connect", lambda dbapi, _record: opened.append(dbapi))
    event.listen(engine, "close", lambda dbapi, _record: closed.append(dbapi))
    threads_before = set(threading.enumerate())
    redis_before = _connection_ids(redis_client)

    with TestClient(app, headers=auth("agent")) as client:
        assert client.get("/api/callbacks").status_code == 200  # a session on the engine
        assert client.get("/readyz").json()["checks"]["redis"] == "ok"  # the app's Redis
        apps_redis = _connection_ids(redis_client) - redis_before
        started = set(threading.enumerate()) - threads_before
        apps_threads = [thread for thread in started if thread.name in APP_THREADS]
        assert sorted(thread.name for thread in apps_threads) == sorted(APP_THREADS)
        assert engine.pool.checkedout() == 0  # the requests gave their connections back

    assert [thread.name for thread in apps_threads if thread.is_alive()] == []  # joined
    assert opened, "the requests used the database"
    assert {id(dbapi) for dbapi in closed} == {id(dbapi) for dbapi in opened}
    assert apps_redis, "the app talked to Redis on connections of its own"
    # The server drops a client when it reads the closed socket, after the close returned.
    wait_for(
        lambda: not apps_redis & _connection_ids(redis_client),
        within=5.0,
        what="the app's Redis connections closed",
    )

    # The engine is still usable after the stop, on a connection opened anew.
    with engine.connect():
        pass
    assert len(opened) == len(closed) + 1
    engine.dispose()


def test_a_redis_client_passed_in_stays_open(tmp_path, redis_url, redis_client):
    settings = make_settings(tmp_path, redis_url)
    app = make_app(settings, redis_client)
    connection = redis_client.client_id()
    with TestClient(app) as client:
        assert client.get("/readyz").json()["checks"]["redis"] == "ok"
    assert connection in _connection_ids(redis_client)
    assert redis_client.client_id() == connection  # the same connection, not a new one
    app.state.services.engine.dispose()
