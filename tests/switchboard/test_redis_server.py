"""The embedded Redis: one supervised redis-server on a private unix socket."""

from __future__ import annotations

import os
import signal
import socket
import stat
import time
from pathlib import Path

import pytest
import redis

from switchboard.redis_server import EmbeddedRedis, EmbeddedRedisError, ensure_redis
from switchboard.settings import Settings


def client(server: EmbeddedRedis) -> redis.Redis:
    return redis.Redis.from_url(server.url, socket_timeout=5, socket_connect_timeout=5)


def process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_serves_on_a_private_unix_socket_only(tmp_path: Path) -> None:
    with EmbeddedRedis(tmp_path) as server:
        assert server.url == f"unix://{tmp_path.resolve() / 'redis.sock'}"
        connection = client(server)
        assert connection.ping()
        assert connection.config_get("port") == {"port": "0"}
        assert connection.config_get("appendonly") == {"appendonly": "yes"}
        assert stat.S_IMODE(server.socket_path.stat().st_mode) == 0o700
        connection.close()


def test_stop_shuts_the_server_down_and_removes_the_socket(tmp_path: Path) -> None:
    server = EmbeddedRedis(tmp_path).start()
    pid = server.pid
    assert pid is not None

    server.stop()

    assert not server.socket_path.exists()
    assert not process_exists(pid)
    server.stop()  # stopping twice is harmless


def test_a_killed_server_is_restarted_with_its_data(tmp_path: Path) -> None:
    with EmbeddedRedis(tmp_path) as server:
        connection = client(server)
        connection.xadd("switchboard:events", {"kind": "call_started"})
        old_pid = server.pid
        assert old_pid is not None

        os.kill(old_pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while not server.poll():  # poll() restarts it once it notices the death
            assert time.monotonic() < deadline, "the dead server was never restarted"

        assert server.pid != old_pid
        assert server.restarts == 1
        assert connection.xlen("switchboard:events") == 1  # the AOF brought it back
        assert not server.poll()  # healthy now: nothing to do
        connection.close()


def test_a_second_serve_reuses_the_running_server(tmp_path: Path) -> None:
    with EmbeddedRedis(tmp_path) as first:
        client(first).set("owner", "first")
        second = EmbeddedRedis(tmp_path).start()

        assert not second.owned
        assert client(second).get("owner") == b"first"
        second.stop()  # not its server to stop
        assert client(first).ping()


def test_a_stale_socket_file_does_not_block_the_start(tmp_path: Path) -> None:
    # What a server killed in an earlier run leaves behind: a socket file nobody listens on.
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(tmp_path / "redis.sock"))
    stale.close()

    with EmbeddedRedis(tmp_path) as fresh:
        assert fresh.owned
        assert client(fresh).ping()


def test_a_reused_server_that_disappears_is_taken_over(tmp_path: Path) -> None:
    first = EmbeddedRedis(tmp_path).start()
    second = EmbeddedRedis(tmp_path).start()
    first.stop()

    assert second.poll()
    assert second.owned
    assert client(second).ping()
    second.stop()


def test_ensure_redis_starts_the_embedded_server_only_without_a_url(tmp_path: Path) -> None:
    assert ensure_redis(Settings(var_dir=tmp_path, redis_url="redis://redis:6379/0")) is None

    server = ensure_redis(Settings(var_dir=tmp_path, redis_url=""))
    assert server is not None
    try:
        settings = Settings(var_dir=tmp_path, redis_url="")
        assert server.url == settings.effective_redis_url
        assert client(server).ping()
    finally:
        server.stop()


def test_a_socket_path_too_long_for_unix_is_refused_clearly(tmp_path: Path) -> None:
    with pytest.raises(EmbeddedRedisError, match="SWITCHBOARD_REDIS_URL"):
        EmbeddedRedis(tmp_path / ("x" * 120))
