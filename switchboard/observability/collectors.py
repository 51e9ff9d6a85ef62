"""Metrics of the single-process helpers: the ingest consumer and the RQ worker.

Each serves its own registry (`switchboard ingest|worker --metrics-port`), read by a collector at
every scrape, so no multiprocess files are involved even though `serve` sets
PROMETHEUS_MULTIPROC_DIR for its children.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, Protocol

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily

from switchboard.observability.business_metrics import Kind, MetricSpec


def _spec(name: str, kind: Kind, help: str, *labels: str) -> MetricSpec:
    return MetricSpec(name=name, kind=kind, help=help, labels=labels)


# --- the ingest consumer (`switchboard ingest --metrics-port`) --------------------------------


class IngestCounts(Protocol):
    """What `workers.ingest.Ingestor` counts since it started."""

    ingested_total: int
    duplicates_total: int
    malformed_total: int
    claimed_total: int
    sms_enqueued_total: int
    projection_failures_total: int
    unopened_numbers_total: int


class PurgeCounts(Protocol):
    """What `workers.purge.Purger`, the ingest's scheduled purge, counts since it started."""

    succeeded_total: int
    failed_total: int
    closed_total: int
    abandoned_total: int
    sms_settled_total: int
    sms_expired_total: int
    deleted_total: dict[str, int]  # by table


INGEST: dict[str, MetricSpec] = {
    spec.name: spec
    for spec in (
        _spec(
            "switchboard_ingest_events",
            "counter",
            "Call events the consumer took from the stream, by result: stored (new in SQL), "
            "duplicate (its dedupe key was there already) or malformed (acknowledged, not stored).",
            "result",
        ),
        _spec(
            "switchboard_ingest_claimed",
            "counter",
            "Stream entries taken over from a consumer that died before acknowledging them.",
        ),
        _spec(
            "switchboard_ingest_sms_enqueued",
            "counter",
            "SMS jobs the consumer put on the RQ queue.",
        ),
        _spec(
            "switchboard_ingest_projection_failures",
            "counter",
            "Batches whose call records could not be projected (events are kept; the call is "
            "projected again with its next event).",
        ),
        _spec(
            "switchboard_ingest_unopened_numbers",
            "counter",
            "Sealed caller numbers no configured key opened (their key was dropped before "
            "`switchboard privacy rekey`); the event is stored without the number.",
        ),
        _spec(
            "switchboard_ingest_purges",
            "counter",
            "Runs of the scheduled retention purge (--purge-every), by result: "
            "succeeded or failed. Absent when the purge is off.",
            "result",
        ),
        _spec(
            "switchboard_ingest_purged_numbers",
            "counter",
            "Raw callback numbers the scheduled purge removed, by callback: closed (done or "
            "cancelled longer ago than --keep-days) or abandoned (pending that long; cancelled).",
            "callback",
        ),
        _spec(
            "switchboard_ingest_purged_sms_numbers",
            "counter",
            "Raw SMS recipient numbers the scheduled purge removed, by sms: settled (sent, "
            "failed or rejected, still holding one) or expired (queued longer than --keep-days; "
            "marked failed).",
            "sms",
        ),
        _spec(
            "switchboard_ingest_purged_rows",
            "counter",
            "Rows the scheduled purge deleted, by table: call_events (raw events of ended "
            "calls past SWITCHBOARD_RETAIN_EVENTS_DAYS) and the records past "
            "SWITCHBOARD_RETAIN_RECORDS_DAYS (calls, transfers, queue_visits, returns, "
            "callbacks, sms_messages).",
            "table",
        ),
    )
}


class IngestCollector:
    """Reads an ingest consumer's own counters at each scrape. The consumer is one process, so
    a plain collector on its own registry is right here (no multiprocess files)."""

    def __init__(self, counts: IngestCounts, purge: PurgeCounts | None = None) -> None:
        self._counts = counts
        self._purge = purge

    def collect(self) -> Iterator[CounterMetricFamily]:
        counts = self._counts
        spec = INGEST["switchboard_ingest_events"]
        events = CounterMetricFamily(spec.name, spec.help, labels=spec.labels)
        events.add_metric(["stored"], counts.ingested_total)
        events.add_metric(["duplicate"], counts.duplicates_total)
        events.add_metric(["malformed"], counts.malformed_total)
        yield events
        for name, value in (
            ("switchboard_ingest_claimed", counts.claimed_total),
            ("switchboard_ingest_sms_enqueued", counts.sms_enqueued_total),
            ("switchboard_ingest_projection_failures", counts.projection_failures_total),
            ("switchboard_ingest_unopened_numbers", counts.unopened_numbers_total),
        ):
            yield CounterMetricFamily(name, INGEST[name].help, value=value)
        if self._purge is not None:
            yield from self._purges(self._purge)

    def _purges(self, purge: PurgeCounts) -> Iterator[CounterMetricFamily]:
        for name, values in (
            (
                "switchboard_ingest_purges",
                {"succeeded": purge.succeeded_total, "failed": purge.failed_total},
            ),
            (
                "switchboard_ingest_purged_numbers",
                {"closed": purge.closed_total, "abandoned": purge.abandoned_total},
            ),
            (
                "switchboard_ingest_purged_sms_numbers",
                {"settled": purge.sms_settled_total, "expired": purge.sms_expired_total},
            ),
            ("switchboard_ingest_purged_rows", purge.deleted_total),
        ):
            spec = INGEST[name]
            family = CounterMetricFamily(spec.name, spec.help, labels=spec.labels)
            for label, value in values.items():
                family.add_metric([label], value)
            yield family


def ingest_registry(counts: IngestCounts, purge: PurgeCounts | None = None) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=True)
    registry.register(IngestCollector(counts, purge))
    return registry


# --- the RQ worker (`switchboard worker --metrics-port`) --------------------------------------

WORKER: dict[str, MetricSpec] = {
    spec.name: spec
    for spec in (
        _spec(
            "switchboard_worker_jobs",
            "counter",
            "Jobs this RQ worker finished since it started, by result: succeeded or failed.",
            "result",
        ),
        _spec(
            "switchboard_worker_busy_seconds",
            "counter",
            "Time this RQ worker spent running jobs since it started.",
        ),
    )
}


class WorkerCollector:
    """Reads the counts RQ keeps in the worker's Redis hash. The jobs run in forked processes,
    so in-process counters would die with each job; the hash outlives them."""

    def __init__(self, read_hash: Callable[[], Mapping[Any, Any]]) -> None:
        self._read_hash = read_hash

    def collect(self) -> Iterator[CounterMetricFamily]:
        data = self._read_hash()

        def number(field: bytes) -> float:
            return float(data.get(field) or data.get(field.decode()) or 0)

        spec = WORKER["switchboard_worker_jobs"]
        jobs = CounterMetricFamily(spec.name, spec.help, labels=spec.labels)
        jobs.add_metric(["succeeded"], number(b"successful_job_count"))
        jobs.add_metric(["failed"], number(b"failed_job_count"))
        yield jobs
        busy = WORKER["switchboard_worker_busy_seconds"]
        yield CounterMetricFamily(busy.name, busy.help, value=number(b"total_working_time"))


def worker_registry(read_hash: Callable[[], Mapping[Any, Any]]) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=True)
    registry.register(WorkerCollector(read_hash))
    return registry
