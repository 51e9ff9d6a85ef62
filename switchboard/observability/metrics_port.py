"""The web workers' metrics on a port of their own: `switchboard serve --metrics-port` (9107).

The app's port is public (Twilio, and whoever else finds it), so the app serves no `/metrics`.
Its web workers write their metrics to files in PROMETHEUS_MULTIPROC_DIR (multiprocess mode,
see `switchboard/observability/web_metrics.py`); at every scrape this reads all of their files
and answers on `--metrics-host` (loopback by default; the compose network in production).

It runs in the `serve` process itself, in the HTTP server's threads, not in a web worker nor
in a supervised child of its own, because that is the most robust place:

- `serve` outlives every child. Scrapes are answered while uvicorn restarts a worker or the
  supervisor restarts uvicorn, and the counters never vanish between two scrapes.
- The port is bound before anything else starts, so a port already taken stops `serve` at once
  with a clear error, instead of leaving a metrics child to crash-loop unnoticed.
- `serve` already owns the directory: it wipes it before its children start. Its process tree
  holds every web worker, so it can tell which have died and forget their live gauges (uvicorn
  has no hook for that); counters and histograms stay, as counts must never go down.
- Nothing here can block the supervisor: it only polls its children a few times a second, and
  a scrape runs on the HTTP server's own thread (2-5 ms median for 1-8 workers' files and the
  health probe, bench/metrics_port_scrape.py).

Since a scrape no longer passes through a web worker, `up` in Prometheus now says that `serve`
answers, not that the app does. So each scrape also asks the app: GET /healthz on its port,
exported as `switchboard_web_up`, which the app-down alert reads along with `up`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import urllib.request
from collections.abc import Iterable, Iterator
from pathlib import Path
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Metric, multiprocess, start_http_server
from prometheus_client.core import GaugeMetricFamily

from switchboard.exposure import local_url
from switchboard.observability.business_metrics import MetricSpec

DEFAULT_PORT = 9107  # next to the exporter (9108), the ingest consumer (9109) and the worker
PORT_ENV = "SWITCHBOARD_METRICS_PORT"
# Well inside Prometheus' scrape timeout (10 s in dashboards/prometheus/prometheus.yml).
PROBE_TIMEOUT_SECONDS = 2.0

SERVE: dict[str, MetricSpec] = {
    spec.name: spec
    for spec in (
        MetricSpec(
            name="switchboard_web_up",
            kind="gauge",
            help="1 when the web app answered GET /healthz on its own port during this scrape, "
            "else 0 (served by `switchboard serve`, which answers while the app is down).",
        ),
    )
}


class MetricsPortError(Exception):
    """The metrics port cannot be listened on."""


def forget_dead_workers(directory: Path) -> list[int]:
    """Delete the live-gauge files of processes that no longer run; returns their pids.

    Only live gauges (`livemax`, `livemostrecent`, ...) go: a dead worker's open breaker must
    not alarm forever. Its counter and histogram files stay, so no count ever goes down. A pid
    the system has reused for another process keeps the dead worker's gauges until that one
    ends too: rare, and never worse than without this.
    """
    dead: set[int] = set()
    for path in directory.glob("gauge_live*_*.db"):
        number = path.stem.rsplit("_", 1)[-1]
        if number.isdigit() and not _running(int(number)):
            dead.add(int(number))
    for pid in sorted(dead):
        multiprocess.mark_process_dead(pid, str(directory))  # type: ignore[no-untyped-call]
    return sorted(dead)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, under another user
        return True
    return True


class WorkerFiles:
    """Every web worker's metrics, merged from their files at each scrape (dead ones' live
    gauges forgotten first). No metric object is registered here, so nothing is counted twice.
    """

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._files = multiprocess.MultiProcessCollector(None, path=str(directory))  # type: ignore[no-untyped-call]

    def collect(self) -> Iterable[Metric]:
        forget_dead_workers(self._directory)
        metrics: Iterable[Metric] = self._files.collect()  # type: ignore[no-untyped-call]
        return metrics


class WebProbe:
    """`switchboard_web_up`: whether the app answers GET `url` (its /healthz) right now."""

    def __init__(self, url: str, *, timeout: float = PROBE_TIMEOUT_SECONDS) -> None:
        self._url = url
        self._timeout = timeout

    def collect(self) -> Iterator[GaugeMetricFamily]:
        spec = SERVE["switchboard_web_up"]
        yield GaugeMetricFamily(spec.name, spec.help, value=1.0 if self._answers() else 0.0)

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(self._url, timeout=self._timeout) as response:  # noqa: S310 - our own http URL
                return int(response.status) == 200
        except (OSError, ValueError):  # refused, timed out, an HTTP error status
            return False


def web_registry(directory: Path, *, health_url: str) -> CollectorRegistry:
    """What the metrics port serves: the workers' files and the app's health."""
    registry = CollectorRegistry()
    registry.register(WorkerFiles(directory))
    registry.register(WebProbe(health_url))
    return registry


def start_web_metrics(*, host: str, port: int, directory: Path, health_url: str) -> WSGIServer:
    """Serve `web_registry` on host:port from daemon threads until the process ends."""
    try:
        server, _thread = start_http_server(
            port, addr=host, registry=web_registry(directory, health_url=health_url)
        )
    except OSError as exc:
        raise MetricsPortError(
            f"cannot serve the web metrics on {host}:{port}: {exc.strerror or exc}; "
            f"choose another --metrics-port (or {PORT_ENV}; 0 turns it off)"
        ) from None
    return server


def open_metrics(args: argparse.Namespace, *, var_dir: Path) -> tuple[Path, str]:
    """For `serve`, before its children start: empty the multiprocess directory (each process
    writes its own files there, and a previous run's files would be summed into this run's
    counters), then serve it on `--metrics-host:--metrics-port` unless the port is 0.

    Returns the directory and the URL to show the operator ("" when off); raises
    MetricsPortError.
    """
    directory = (var_dir / "prometheus").resolve()
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    if not args.metrics_port:
        return directory, ""
    health_url = f"{local_url(args.host, args.port)}/healthz"
    where = {"host": args.metrics_host, "port": args.metrics_port}
    start_web_metrics(**where, directory=directory, health_url=health_url)
    return directory, f"{local_url(**where)}/metrics"
