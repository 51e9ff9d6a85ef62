"""Every Prometheus metric of the service, declared in one place.

Two families, served by two kinds of process:

- **Operational metrics** (`WebMetrics`), in the web workers: webhook latency by route
  template, requests by status class, error-path answers, signature failures, wrong agent
  PINs, the event log's
  spool and circuit breaker, build info. Under `switchboard serve` they run in multiprocess mode
  (`PROMETHEUS_MULTIPROC_DIR`, wiped by `serve` before its children start), so they use only
  what that mode supports: counters, histograms and gauges with a `multiprocess_mode`, no custom
  collectors, no Info or Enum. No web worker answers scrapes: `serve` reads every worker's
  files and serves them on a port of its own (`switchboard/observability/metrics_port.py`), so
  each worker keeps its gauges current itself (`follow_event_log`).
- **Business KPIs**, declared in `switchboard/observability/business_metrics.py` and computed
  on every scrape by the single-process exporter (`switchboard exporter`).

Rules (docs/metrics.md): the `switchboard_` prefix, base units
(`_seconds`), `_total` on counters only, and labels from bounded sets only: route template,
status class, department id, outcome, kind, initiator, queue, service, the transfer
guard's choice and warning. Never a phone number, a CallSid or a pid.

A note on RQ: its default worker forks a work horse per job, and every process that touches a
multiprocess metric leaves a `.db` file in the directory until the next wipe (scrapes slow down
as they pile up: 4 files 0.8 ms, 1,000 files 33 ms). So jobs declare no metrics of their own;
what the operators need about jobs and the stream (queue sizes, failed jobs, stream lag,
pending entries) the exporter reads from Redis.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from ivr.events import Event
from switchboard.spool import Backlog

log = logging.getLogger(__name__)

# Twilio waits at most 15 s for a webhook's answer (error 11205); 2 s is the p99 alert.
WEBHOOK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 2.5, 5.0, 10.0, 15.0)


def build_version() -> str:
    try:
        return metadata.version("switchboard")
    except metadata.PackageNotFoundError:  # running from a source tree without an install
        return "unknown"


def status_class(code: int) -> str:
    """`2xx`, `4xx`, ...: a bounded label instead of the status number."""
    return f"{code // 100}xx"


class SpoolBacklog(Protocol):
    """What the spool gauges read; `switchboard.spool.Spool` has it."""

    def backlog(self) -> Backlog: ...


class EventLogCounters(Protocol):
    """What `WebMetrics.sync_event_log` reads; `switchboard.eventlog.EventLog` has it."""

    @property
    def state(self) -> str: ...

    @property
    def spool(self) -> SpoolBacklog: ...

    spooled_total: int
    lost_total: int
    redis_failures_total: int


@dataclass
class WebhookObservation:
    """Filled in by the route while it runs; recorded when the `timing` block ends."""

    status: int = 500
    error_path: bool = False


class WebMetrics:
    """The web process's metrics, registered on `registry` (one per app; tests inject theirs)."""

    def __init__(
        self, registry: CollectorRegistry, *, routes: Iterable[str] = (), version: str = ""
    ) -> None:
        self.registry = registry
        self.webhook_duration = Histogram(
            "switchboard_webhook_duration_seconds",
            "Time from receiving a Twilio webhook to having its answer, by route template. "
            "Twilio gives up after 15 s.",
            ["route"],
            buckets=WEBHOOK_BUCKETS,
            registry=registry,
        )
        self.webhook_requests = Counter(
            "switchboard_webhook_requests",
            "Twilio webhook requests answered, by route template and HTTP status class.",
            ["route", "status"],
            registry=registry,
        )
        self.webhook_error_path = Counter(
            "switchboard_webhook_error_path",
            "Webhooks whose handler failed, so the caller heard the spoken error path "
            "(still HTTP 200), by route template.",
            ["route"],
            registry=registry,
        )
        self.signature_failures = Counter(
            "switchboard_webhook_signature_failures",
            "Webhooks refused with 403 because they were not verified: a missing or wrong "
            "X-Twilio-Signature, a content type Twilio never sends, or a verification that "
            "failed. By route template. The fallback URL never refuses and is not counted.",
            ["route"],
            registry=registry,
        )
        self.bodies_too_large = Counter(
            "switchboard_http_body_too_large",
            "Requests refused with 413 because their body was over the limit (64 KiB), by area: "
            "twilio (the webhooks) or api.",
            ["area"],
            registry=registry,
        )
        self.agent_pin_failures = Counter(
            "switchboard_agent_pin_failures",
            "Wrong PINs keyed in on the agent line. A burst means an agent has forgotten their "
            "PIN, or someone who forged an agent's caller ID is guessing.",
            registry=registry,
        )
        self.transfer_guard_choices = Counter(
            "switchboard_transfer_guard_choices",
            "What agents chose when the transfer guard warned (docs/directory.md): choice "
            "went_ahead, callback, sms or cancelled; warning closed, closes_soon or "
            "often_unanswered (the first that applied).",
            ["choice", "warning"],
            registry=registry,
        )
        self.agent_status_changes = Counter(
            "switchboard_agent_status_changes",
            "Agent status changes by the new status (ready, paused, offline), from the console "
            "or the agent line.",
            ["status"],
            registry=registry,
        )
        self.overflow_offered = Counter(
            "switchboard_overflow_offered",
            "New callers offered a callback or an SMS before joining the queue, by why "
            "(no_agent_ready, long_wait).",
            ["why"],
            registry=registry,
        )
        self.events_spooled = Counter(
            "switchboard_events_spooled",
            "Call events written to the local spool instead of the Redis Stream.",
            registry=registry,
        )
        self.events_lost = Counter(
            "switchboard_events_lost",
            "Call events that reached neither Redis nor the spool.",
            registry=registry,
        )
        self.event_redis_failures = Counter(
            "switchboard_event_redis_failures",
            "Failed appends to the Redis Stream; each one opens the event log's circuit breaker.",
            registry=registry,
        )
        # The live modes drop a worker's value once it has died (the metrics port,
        # switchboard/observability/metrics_port.py, forgets dead workers at each scrape):
        # a dead worker's open breaker is no alarm.
        self.event_breaker_open = Gauge(
            "switchboard_event_breaker_open",
            "1 while the event log's circuit breaker is open or half-open in any web worker "
            "(events go to the spool), else 0.",
            registry=registry,
            multiprocess_mode="livemax",
        )
        # Every worker of a host measures the same spool directory: the freshest reading wins.
        self.event_spool_bytes = Gauge(
            "switchboard_event_spool_bytes",
            "Bytes of call events waiting in the web workers' local spool until they are "
            "replayed to the Redis Stream (0 when empty).",
            registry=registry,
            multiprocess_mode="livemostrecent",
        )
        self.event_spool_events = Gauge(
            "switchboard_event_spool_events",
            "Call events waiting in the web workers' local spool (0 when empty).",
            registry=registry,
            multiprocess_mode="livemostrecent",
        )
        self.event_spool_oldest_age = Gauge(
            "switchboard_event_spool_oldest_age_seconds",
            "How long the oldest call event in the local spool has waited (0 when empty). The "
            "web workers replay their spool every few seconds once Redis answers, so a growing "
            "age means a stranded spool: statistics, SMS and callbacks in it wait too.",
            registry=registry,
            multiprocess_mode="livemostrecent",
        )
        self.build_info = Gauge(
            "switchboard_build_info",
            "Always 1; the labels say which version runs.",
            ["version"],
            registry=registry,
            multiprocess_mode="max",
        )
        self.build_info.labels(version=version or build_version()).set(1)
        for route in routes:
            # Zero series from the start, so rate() and the dashboards see every route.
            self.webhook_duration.labels(route=route)
            self.webhook_requests.labels(route=route, status="2xx")
            self.webhook_error_path.labels(route=route)
            self.signature_failures.labels(route=route)
        self._lock = threading.Lock()
        self._seen: dict[str, int] = {"spooled": 0, "lost": 0, "redis_failures": 0}

    @contextmanager
    def timing(self, route: str) -> Iterator[WebhookObservation]:
        """Time a webhook; the block sets `status` (and `error_path`) on what it yields."""
        seen = WebhookObservation()
        started = time.perf_counter()
        try:
            yield seen
        finally:
            self.webhook_duration.labels(route=route).observe(time.perf_counter() - started)
            self.webhook_requests.labels(route=route, status=status_class(seen.status)).inc()
            if seen.status == 403:
                self.signature_failures.labels(route=route).inc()
            if seen.error_path:
                self.webhook_error_path.labels(route=route).inc()

    def count_events(self, events: Iterable[Event]) -> None:
        """Count the business events the web process sees first: status changes and offers."""
        for event in events:
            if event.kind == "agent_status_changed":
                self.agent_status_changes.labels(str(event.data.get("status"))).inc()
            elif event.kind == "overflow_offered":
                self.overflow_offered.labels(str(event.data.get("why"))).inc()

    def body_too_large(self, path: str) -> None:
        """A request refused with 413 by the edge's body limit (`switchboard/edge.py`)."""
        self.bodies_too_large.labels(area="twilio" if path.startswith("/twilio/") else "api").inc()

    def sync_event_log(self, events: EventLogCounters) -> None:
        """Copy the event log's counters, breaker state (this process's) and spool size into
        the metrics. Never raises: it runs at the end of every webhook.

        The event log keeps plain counters of its own; this adds what they grew by since the
        last sync. Called after every webhook and every few seconds (`follow_event_log`).
        """
        now = {
            "spooled": events.spooled_total,
            "lost": events.lost_total,
            "redis_failures": events.redis_failures_total,
        }
        with self._lock:
            grown = {key: max(0, value - self._seen[key]) for key, value in now.items()}
            self._seen = now
        if grown["spooled"]:
            self.events_spooled.inc(grown["spooled"])
        if grown["lost"]:
            self.events_lost.inc(grown["lost"])
        if grown["redis_failures"]:
            self.event_redis_failures.inc(grown["redis_failures"])
        self.event_breaker_open.set(0 if events.state == "closed" else 1)
        try:
            backlog = events.spool.backlog()
        except OSError:  # an unreadable spool directory must not fail the webhook
            log.exception("could not measure the spool")
            return
        self.event_spool_bytes.set(backlog.bytes)
        self.event_spool_events.set(backlog.events)
        self.event_spool_oldest_age.set(backlog.oldest_age_seconds)

    def follow_event_log(
        self, events: EventLogCounters, *, every: float, stop: threading.Event
    ) -> threading.Thread:
        """Sync now and then every `every` seconds until `stop` is set (the app's lifespan).

        Without it the gauges would move only with webhooks: an idle worker would go on
        showing an open breaker or a full spool that the ingest consumer has long replayed.
        """

        def run() -> None:
            while True:
                try:
                    self.sync_event_log(events)
                except Exception:  # the next round tries again
                    log.exception("could not sync the event log's metrics")
                if stop.wait(every):
                    return

        thread = threading.Thread(target=run, name="event-log-metrics", daemon=True)
        thread.start()
        return thread
