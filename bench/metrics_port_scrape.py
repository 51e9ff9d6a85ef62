"""The web workers' metrics port: what a scrape costs `serve`, and what a gauge sync costs a
webhook.

A scrape of `serve --metrics-port` merges every web worker's multiprocess files (after deleting
the live gauges of dead workers) and asks the app's /healthz. This starts real worker processes
that record a webhook each in multiprocess mode, as uvicorn workers do, and times a scrape
(files only, and with the health probe against a local HTTP server) for a few worker counts.
It also times `WebMetrics.sync_event_log`, which every webhook now ends with, with the spool
absent and with a spool of waiting events.

    .venv/bin/python bench/metrics_port_scrape.py [--scrapes 300]

Writes bench/results/metrics_port_scrape.json. The budget: a scrape far inside Prometheus'
10 s timeout and the 15 s interval; a sync far inside a webhook's 2 s alert.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from prometheus_client import CollectorRegistry, generate_latest  # noqa: E402

from ivr.events import Event  # noqa: E402
from switchboard.observability.metrics_port import web_registry  # noqa: E402
from switchboard.observability.web_metrics import WebMetrics  # noqa: E402
from switchboard.spool import Spool  # noqa: E402

WORKER = textwrap.dedent(
    """
    import sys
    from prometheus_client import CollectorRegistry
    from switchboard.observability.web_metrics import WebMetrics

    metrics = WebMetrics(CollectorRegistry(), routes=["/twilio/voice", "/twilio/status"])
    with metrics.timing("/twilio/voice") as seen:
        seen.status = 200
    metrics.event_breaker_open.set(0)
    metrics.event_spool_bytes.set(0)
    print("ready", flush=True)
    sys.stdin.readline()
    """
)


@contextmanager
def workers(directory: Path, count: int) -> Iterator[None]:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory), "PYTHONPATH": str(ROOT)}
    processes = [
        subprocess.Popen(  # noqa: S603 - our own interpreter and code
            [sys.executable, "-c", WORKER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(count)
    ]
    try:
        for process in processes:
            assert process.stdout is not None
            assert process.stdout.readline() == "ready\n"
        yield
    finally:
        for process in processes:
            process.communicate(timeout=30)


@contextmanager
def health_server() -> Iterator[str]:
    class Healthy(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b'{"status":"ok"}'
            self.send_response(200)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Healthy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/healthz"
    finally:
        server.shutdown()
        server.server_close()


def timed(run: Callable[[], object], times: int) -> dict[str, float]:
    samples = []
    for _ in range(times):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {
        "median_ms": round(statistics.median(samples), 3),
        "p99_ms": round(samples[int(len(samples) * 0.99) - 1], 3),
    }


def scrapes(times: int) -> dict[str, object]:
    results: dict[str, object] = {}
    with health_server() as healthy:
        for count in (1, 2, 4, 8):
            with tempfile.TemporaryDirectory() as directory, workers(Path(directory), count):
                files = len(list(Path(directory).glob("*.db")))
                closed = web_registry(Path(directory), health_url="http://127.0.0.1:9/healthz")
                probed = web_registry(Path(directory), health_url=healthy)
                results[f"{count}_workers"] = {
                    "files": files,
                    "files_only_refused_probe": timed(lambda r=closed: generate_latest(r), times),
                    "with_answered_probe": timed(lambda r=probed: generate_latest(r), times),
                }
    return results


class Log:
    """The counters and state `sync_event_log` reads, over a real spool."""

    def __init__(self, spool: Spool) -> None:
        self.spool = spool
        self.state = "closed"
        self.spooled_total = 0
        self.lost_total = 0
        self.redis_failures_total = 0


def syncs(times: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as directory:
        spool = Spool(Path(directory) / "spool")
        metrics = WebMetrics(CollectorRegistry())
        log = Log(spool)
        absent = timed(lambda: metrics.sync_event_log(log), times * 10)
        event = Event(kind="call_started", call_sid="CA1", dedupe_key="k", at=datetime.now(UTC))
        spool.append([event] * 200)
        waiting = timed(lambda: metrics.sync_event_log(log), times * 10)
    return {"spool_absent": absent, "spool_with_200_events": waiting}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scrapes", type=int, default=300)
    args = parser.parse_args()
    results = {"scrape": scrapes(args.scrapes), "sync_event_log": syncs(args.scrapes)}
    out = ROOT / "bench" / "results" / "metrics_port_scrape.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))  # noqa: T201 - a benchmark reports on stdout
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
