"""Process orchestration for `switchboard serve`: start the children, restart crashes, stop cleanly.

The web server, the ingest consumer and the RQ worker run as separate child processes, so that a
crash in a job or in ingestion never takes the voice webhook down with it. The supervisor owns
them: it restarts a child that dies (with exponential backoff, so a child that crashes at start-up
does not spin), forwards SIGINT/SIGTERM once, and gives every child a bounded time to stop before
it is killed. Servers the children depend on (the embedded Redis) are started before the
supervisor and stopped after it, by the caller. Each child gets a lifeline
(switchboard/lifeline.py): should the supervisor itself be killed (SIGKILL, the OOM killer), the
kernel kills its children too, and uvicorn's workers and RQ's work horses after them.

Why our own ~150 lines rather than circus, honcho or supervisord: `serve` must stay one
foreground command that `make run` and a container run as is, with nothing to configure.
honcho runs a Procfile, restarts nothing and stops everything when one process ends; circus
and supervisord are daemons of their own, with a control socket, a configuration format and
(circus) ZeroMQ, and neither sets a parent-death signal, so a killed circus leaves its
processes behind just as we did. What we need besides (restart with backoff, forwarding the
first Ctrl-C only, a bounded stop, the pids for the metrics port, a lifeline) is less code
here than the glue those would need.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from switchboard.access import DEVELOPMENT_TOKENS
from switchboard.exposure import local_url
from switchboard.lifeline import dying_with_me

if TYPE_CHECKING:
    from switchboard.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChildSpec:
    name: str
    argv: Sequence[str]
    env: Mapping[str, str] | None = None  # None: inherit the supervisor's environment


@dataclass(frozen=True)
class Backoff:
    first_seconds: float = 0.5
    max_seconds: float = 30.0
    # A child that ran this long before dying counts as healthy again, so one crash after a
    # day of service restarts at once instead of after the longest delay.
    stable_seconds: float = 30.0

    def delay(self, failures: int) -> float:
        if failures <= 0:
            return 0.0
        return float(min(self.max_seconds, self.first_seconds * 2 ** (failures - 1)))


@dataclass
class _Child:
    spec: ChildSpec
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    failures: int = 0
    restart_at: float | None = None
    restarts: int = 0
    exit_codes: list[int] = field(default_factory=list)


class Supervisor:
    """Runs child processes until asked to stop. `run()` blocks; `request_stop()` is thread-safe
    and safe to call from a signal handler."""

    def __init__(
        self,
        specs: Sequence[ChildSpec],
        *,
        backoff: Backoff | None = None,
        stop_timeout_seconds: float = 15.0,
        tick_seconds: float = 0.2,
        on_exit: Callable[[int], None] | None = None,
    ) -> None:
        names = [s.name for s in specs]
        if len(set(names)) != len(names):
            raise ValueError(f"child names must be unique: {names}")
        self._children = [_Child(spec) for spec in specs]
        self._backoff = backoff or Backoff()
        self._stop_timeout = stop_timeout_seconds
        self._tick = tick_seconds
        self._on_exit = on_exit
        self._stop = threading.Event()
        self._stop_signal: int = signal.SIGTERM
        self._lock = threading.Lock()

    def request_stop(self, signum: int = signal.SIGTERM) -> None:
        """Stop all children by sending them `signum` (the signal the supervisor received)."""
        self._stop_signal = signum
        self._stop.set()

    def pids(self) -> dict[str, int | None]:
        """The running pid of each child, None while it waits to be restarted."""
        with self._lock:
            return {
                c.spec.name: c.process.pid
                if c.process is not None and c.process.poll() is None
                else None
                for c in self._children
            }

    def restarts(self) -> dict[str, int]:
        with self._lock:
            return {c.spec.name: c.restarts for c in self._children}

    def run(self) -> int:
        """Start every child and keep them running until `request_stop()`. Returns 0."""
        try:
            with self._lock:
                for child in self._children:
                    self._start(child)
            while not self._stop.is_set():
                with self._lock:
                    now = time.monotonic()
                    for child in self._children:
                        self._check(child, now)
                self._stop.wait(self._tick)
        finally:
            self._shutdown()
        return 0

    def _start(self, child: _Child) -> None:
        env = dict(child.spec.env) if child.spec.env is not None else None
        # A process group of its own: Ctrl-C in the terminal reaches only the supervisor, which
        # forwards it once. A second SIGINT would make uvicorn and RQ abandon work in flight.
        # And a lifeline (switchboard/lifeline.py): if the supervisor is killed, so is the child.
        child.process = subprocess.Popen(  # noqa: S603 - argv is built by us, not from user input
            list(child.spec.argv), env=env, process_group=0, preexec_fn=dying_with_me()
        )
        child.started_at = time.monotonic()
        child.restart_at = None
        log.info("started %s (pid %d)", child.spec.name, child.process.pid)

    def _check(self, child: _Child, now: float) -> None:
        if child.process is not None:
            code = child.process.poll()
            if code is None:
                return
            self._reap(child, code)
            if now - child.started_at >= self._backoff.stable_seconds:
                child.failures = 0
            child.failures += 1
            delay = self._backoff.delay(child.failures)
            child.restart_at = now + delay
            log.error("%s exited with code %d; restarting in %.1f s", child.spec.name, code, delay)
        if child.restart_at is not None and now >= child.restart_at:
            child.restarts += 1
            self._start(child)

    def _reap(self, child: _Child, code: int) -> None:
        assert child.process is not None
        pid = child.process.pid
        child.exit_codes.append(code)
        child.process = None
        if self._on_exit is not None:
            self._on_exit(pid)

    def _shutdown(self) -> None:
        with self._lock:
            running = [c for c in self._children if c.process is not None]
            for child in running:
                assert child.process is not None
                if child.process.poll() is None:
                    log.info("stopping %s (pid %d)", child.spec.name, child.process.pid)
                    _send(child.process, self._stop_signal)
            deadline = time.monotonic() + self._stop_timeout
            for child in running:
                assert child.process is not None
                try:
                    code = child.process.wait(timeout=max(0.0, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    log.warning("%s did not stop in time; killing it", child.spec.name)
                    _kill_group(child.process)
                    code = child.process.wait()
                self._reap(child, code)


def _send(process: subprocess.Popen[bytes], signum: int) -> None:
    # Only the child itself: uvicorn and RQ pass a graceful stop on to their own workers and
    # work horses, and a second copy would make them abandon requests and jobs in flight.
    try:
        os.kill(process.pid, signum)
    except ProcessLookupError:
        pass  # it died between poll() and kill(): nothing to stop


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    # The whole group, so that uvicorn's workers and RQ's work horse don't outlive their parent.
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def install_signal_handlers(supervisor: Supervisor) -> None:
    """Forward SIGINT and SIGTERM to the supervisor (main thread only)."""

    def handle(signum: int, _frame: object) -> None:
        supervisor.request_stop(signum)

    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)


# --- the children of `switchboard serve` -----------------------------------------------------


def child_environment(
    *,
    base: Mapping[str, str],
    redis_url: str,
    database_url: str,
    var_dir: Path,
    metrics_dir: Path,
) -> dict[str, str]:
    """The environment every child gets. Only the children get PROMETHEUS_MULTIPROC_DIR: the
    supervisor reads their files (switchboard/observability/metrics_port.py) but writes none."""
    env = dict(base)
    env.update(
        {
            "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
            # Every child connects with this plain URL; none starts a Redis of its own.
            "SWITCHBOARD_REDIS_URL": redis_url,
            "SWITCHBOARD_DATABASE_URL": database_url,
            "SWITCHBOARD_VAR_DIR": str(var_dir),
        }
    )
    return env


def service_children(
    *, host: str, port: int, web_workers: int, embedded_workers: bool, env: Mapping[str, str]
) -> list[ChildSpec]:
    uvicorn = [
        *(sys.executable, "-m", "uvicorn", "switchboard.app:app"),
        *("--host", host, "--port", str(port), "--workers", str(web_workers)),
        # Signatures are checked against SWITCHBOARD_PUBLIC_URL, never against forwarded
        # headers, which any client could send if we trusted them.
        "--no-proxy-headers",
        # Say nothing about the software to whoever probes the public port.
        "--no-server-header",
        # Bounded, so that a stop never waits on a client that keeps its connection open.
        *("--timeout-graceful-shutdown", "10"),
    ]
    children = [ChildSpec("web", uvicorn, env)]
    if embedded_workers:
        # `python -m switchboard`, not the console script: the children need nothing on PATH.
        me = (sys.executable, "-m", "switchboard")
        children.append(ChildSpec("ingest", [*me, "ingest"], env))
        children.append(ChildSpec("worker", [*me, "worker"], env))
    return children


TWILIO_PATHS = {
    "Voice webhook": "/twilio/voice",
    "Status callback": "/twilio/status",
    "Fallback": "/twilio/fallback",
    "Agent phones": "/twilio/agent",
}
OPERATOR_PATHS = {
    "Health": "/healthz",
    "Readiness": "/readyz",
    "OpenAPI": "/docs",
}
NEXT_STEPS = (
    "switchboard try-call --press 1",
    "switchboard try-call --at 2026-12-24T10:00",
    "switchboard config check",
)


def describe_service(
    settings: Settings,
    *,
    host: str,
    port: int,
    metrics_url: str,
    web_workers: int,
    embedded_workers: bool,
    redis_url: str,
    embedded_redis: bool,
) -> str:
    """What `serve` prints for the operator at start: where things are and what to try.
    `metrics_url` is empty when the web metrics are off."""
    public = settings.public_url
    local = local_url(host, port)
    background = "ingest consumer, RQ worker" if embedded_workers else "none (run separately)"
    redis_kind = "embedded, supervised" if embedded_redis else "external"
    rows = [
        f"Switchboard is starting ({settings.env}).",
        f"  Listening on      {local} (web workers: {web_workers})",
        f"  Redis             {redis_url} ({redis_kind})",
        f"  Background        {background}",
        f"  Configuration     {settings.config}",
        *_outbox(settings),
        "",
        f"Twilio URLs (signatures are checked against {public}):",
        *(f"  {label:<17} {public}{path}" for label, path in TWILIO_PATHS.items()),
        "",
        "For operators:",
        *(f"  {label:<17} {local}{path}" for label, path in OPERATOR_PATHS.items()),
        f"  {'Metrics':<17} {metrics_url or 'off (--metrics-port 0)'} (Prometheus; not on "
        "the public port)",
        *_api_tokens(settings, local),
        "",
        "Try next:",
        *(f"  {step}" for step in NEXT_STEPS),
        "",
        "Stop with Ctrl-C.",
    ]
    return "\n".join(rows)


def _outbox(settings: Settings) -> list[str]:
    """Without a Twilio account, where SMS go instead (`switchboard.outbox`)."""
    if settings.twilio_configured:
        return []
    return [f"  SMS outbox        {settings.outbox_path} (no Twilio account: nothing is sent)"]


def _api_tokens(settings: Settings, local: str) -> list[str]:
    """In development with no tokens configured: the public development tokens, one a role."""
    if settings.env == "production" or settings.api_tokens:
        return []
    return [
        "",
        "Development API tokens (public; production refuses them):",
        *(f"  {role:<17} {token}" for token, role in DEVELOPMENT_TOKENS.items()),
        f"  e.g. curl -H 'Authorization: Bearer dev-manager-token' {local}/api/stats",
    ]
