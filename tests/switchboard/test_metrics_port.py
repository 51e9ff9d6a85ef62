"""What `serve`'s metrics port reads: the web workers' multiprocess files, written here by real
worker processes (the app's own `WebMetrics`), and the app's health."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest

from switchboard.observability.metrics_port import web_registry
from tests.fixtures.localhost import free_port
from tests.fixtures.prometheus import check_metrics

VOICE = "/twilio/voice"


@contextmanager
def web_worker(directory: Path, *, breaker_open: bool) -> Iterator[subprocess.Popen[str]]:
    """A process that records one webhook and its breaker state in multiprocess mode, as a
    uvicorn worker does, then lives until its stdin closes."""
    code = textwrap.dedent(
        f"""
        import sys
        from prometheus_client import CollectorRegistry
        from switchboard.observability.web_metrics import WebMetrics

        metrics = WebMetrics(CollectorRegistry(), routes=[{VOICE!r}])
        with metrics.timing({VOICE!r}) as seen:
            seen.status = 200
        metrics.event_breaker_open.set({int(breaker_open)})
        metrics.event_spool_bytes.set(4096)
        print("ready", flush=True)
        sys.stdin.readline()
        """
    )
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    process = subprocess.Popen(
        [sys.executable, "-c", code],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline() == "ready\n"
        yield process
    finally:
        if process.poll() is None:
            process.communicate(timeout=30)  # closes stdin: the worker ends


def nowhere() -> str:
    return f"http://127.0.0.1:{free_port()}/healthz"


def value(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, labels)


def test_the_port_sums_every_workers_counts_and_forgets_a_dead_workers_open_breaker(
    tmp_path: Path,
) -> None:
    registry = web_registry(tmp_path, health_url=nowhere())
    requests = "switchboard_webhook_requests_total"
    with web_worker(tmp_path, breaker_open=False):
        with web_worker(tmp_path, breaker_open=True) as failing:
            assert value(registry, requests, route=VOICE, status="2xx") == 2
            assert value(registry, "switchboard_event_breaker_open") == 1
            failing.communicate(timeout=30)  # that worker ends with its breaker open
        assert failing.returncode == 0
        # The living worker's state counts; the dead one's gauges are gone, its counts stay.
        assert value(registry, "switchboard_event_breaker_open") == 0
        assert value(registry, "switchboard_event_spool_bytes") == 4096
        assert value(registry, requests, route=VOICE, status="2xx") == 2
        assert check_metrics(generate_latest(registry).decode()) == (0, "")
    # With no worker left, no gauge claims to know the breaker or the spool.
    assert value(registry, "switchboard_event_breaker_open") is None
    assert value(registry, "switchboard_event_spool_bytes") is None
    assert value(registry, requests, route=VOICE, status="2xx") == 2
    assert sorted(path.name.split("_")[0] for path in tmp_path.glob("*.db")) == [
        "counter",
        "counter",
        "gauge",  # build_info, mode max: "which version ran" may outlive the worker
        "gauge",
        "histogram",
        "histogram",
    ]


def test_the_port_says_the_app_is_down_when_its_health_check_does_not_answer(
    tmp_path: Path,
) -> None:
    registry = web_registry(tmp_path, health_url=nowhere())
    assert value(registry, "switchboard_web_up") == 0
