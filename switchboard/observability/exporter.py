"""`switchboard exporter`: the business KPIs for Prometheus, from SQL, Redis and the calendar.

A single process with a custom collector: every scrape runs the aggregate queries in
`switchboard.stats.kpis` against the database of record (the totals of records more than two
days old are cached for ten minutes, see `History`: a scrape on a year of records takes ~65 ms
instead of ~3 s on SQLite), reads live state and the event stream from Redis, and asks the
opening-hours calendar which services are open. Because one process
computes them from the records, the numbers are right with any number of web workers and
forking RQ workers, survive restarts, and, once traffic stops and the ingest has caught up,
equal the statistics API.

Each source is read on its own: if the database is away, the Redis-backed gauges are still
served, and `switchboard_exporter_up{source="database"}` says 0 (an alert fires on it). The
metric names, types and help texts are declared in
`switchboard.observability.business_metrics.BUSINESS`.

Run it as one process per deployment (`switchboard exporter --port 9108`), never under
`PROMETHEUS_MULTIPROC_DIR`: custom collectors do not work in multiprocess mode.
"""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import redis
from prometheus_client import CollectorRegistry
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString
from rq import Worker
from sqlalchemy import Connection, Engine

from ivr.config import SWITCHBOARD, Config
from ivr.hours import Hours
from ivr.presence import STATUSES
from switchboard.job_queues import DEFAULT_QUEUES, make_queue
from switchboard.livestate import PREFIX, STALE_MEMBER_SECONDS, STATUS_KEY, parse_status
from switchboard.observability.business_metrics import BUSINESS, QUEUE_WAIT_BUCKETS, MetricSpec
from switchboard.stats.kpis import (
    EPOCH,
    FOREVER,
    QUEUES,
    Numbers,
    local_midnight,
    read_current,
    read_totals,
)

if TYPE_CHECKING:
    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]

log = logging.getLogger(__name__)

DEFAULT_PORT = 9108
INGEST_GROUP = "ingest"
# Records whose defining instant is older than this many local days are summed once per
# HISTORY_REFRESH_SECONDS instead of at every scrape (see `History`).
HISTORY_DAYS = 2
HISTORY_REFRESH_SECONDS = 600.0
# Counting undelivered entries by hand (Redis < 7 reports no `lag`) stops here.
LAG_COUNT_LIMIT = 100_000


def utc_now() -> datetime:
    return datetime.now(UTC)


class History:
    """The counters' totals of old records, cached; the recent ones are summed at each scrape.

    A year of records takes seconds to aggregate on SQLite (bench/exporter_scrape.py), while
    records older than a couple of days rarely change. So the totals are split at a cutoff
    (local midnight HISTORY_DAYS days ago): before it, summed once and kept for
    `refresh_seconds`; after it, summed at every scrape. The sum of the two windows is the
    total, so moving the cutoff at midnight changes no counter. A late change to an old record
    (a callback done days later) shows within `refresh_seconds`.
    """

    def __init__(
        self,
        *,
        zone: ZoneInfo,
        refresh_seconds: float = HISTORY_REFRESH_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._zone = zone
        self._refresh = refresh_seconds
        self._monotonic = monotonic
        self._cutoff: datetime | None = None
        self._read_at = 0.0
        self._totals = Numbers()

    def cutoff(self, now: datetime) -> datetime:
        return local_midnight(now - timedelta(days=HISTORY_DAYS), self._zone)

    def totals(
        self, connection: Connection, *, now: datetime, wait_bounds: Sequence[float]
    ) -> Numbers:
        """The totals over all records: the cached old part plus the recent part."""
        cutoff = self.cutoff(now)
        stale = self._monotonic() - self._read_at >= self._refresh
        if cutoff != self._cutoff or stale:
            self._totals = read_totals(connection, start=EPOCH, end=cutoff, wait_bounds=wait_bounds)
            self._cutoff = cutoff
            self._read_at = self._monotonic()
        totals = Numbers()
        totals.add_all(self._totals)
        totals.add_all(read_totals(connection, start=cutoff, end=FOREVER, wait_bounds=wait_bounds))
        return totals


class BusinessCollector(Collector):
    """Computes every metric in `BUSINESS` on each `collect()`."""

    def __init__(
        self,
        *,
        engine: Engine,
        redis: redis.Redis,
        config: Config,
        stream: str,
        group: str = INGEST_GROUP,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._engine = engine
        self._redis = redis
        self._config = config
        self._hours = Hours(config)
        self._stream = stream
        self._group = group
        self._clock = clock
        self._history = History(zone=config.zone)

    def describe(self) -> list[Metric]:
        return []  # registering must not query the database

    def collect(self) -> Iterator[Metric]:
        yield from families(self.numbers())

    def numbers(self) -> Numbers:
        """One scrape's values; each source on its own, reporting whether it worked."""
        now = self._clock()
        numbers = Numbers()
        sources: tuple[tuple[str, Callable[[Numbers, datetime], None]], ...] = (
            ("database", self._read_database),
            ("redis", self._read_redis),
            ("calendar", self._read_calendar),
        )
        for source, read in sources:
            started = time.perf_counter()
            part = Numbers()
            try:
                read(part, now)
            except Exception:
                log.exception("exporter: could not read the %s", source)
                up = 0
            else:
                numbers.set_all(part)
                up = 1
            numbers.put("switchboard_exporter_up", up, source=source)
            elapsed = time.perf_counter() - started
            numbers.put("switchboard_exporter_scrape_duration_seconds", elapsed, source=source)
        return numbers

    def _read_database(self, numbers: Numbers, now: datetime) -> None:
        with self._engine.connect() as connection:
            current = read_current(
                connection,
                now=now,
                zone=self._config.zone,
                since=self._history.cutoff(now),
                wait_bounds=QUEUE_WAIT_BUCKETS,
                departments=[d.id for d in self._config.departments],
            )
            current.add_all(
                self._history.totals(connection, now=now, wait_bounds=QUEUE_WAIT_BUCKETS)
            )
        numbers.set_all(current)

    def _read_redis(self, numbers: Numbers, now: datetime) -> None:
        client = self._redis
        fresh = now.timestamp() - STALE_MEMBER_SECONDS
        for queue in QUEUES:
            key = f"{PREFIX}:queue:{queue}"
            numbers.put("switchboard_queue_size", client.zcount(key, fresh, "+inf"), queue=queue)
        self._read_agents(numbers)
        lag, pending, consumers = self._stream_state()
        numbers.put("switchboard_stream_lag", lag)
        numbers.put("switchboard_stream_pending", pending)
        numbers.put("switchboard_stream_consumers", consumers)
        for name in DEFAULT_QUEUES:
            jobs = make_queue(name, connection=client)
            registries = {
                "started": jobs.started_job_registry,
                "scheduled": jobs.scheduled_job_registry,
                "failed": jobs.failed_job_registry,
            }
            numbers.put("switchboard_rq_jobs", jobs.count, queue=name, state="queued")
            for state, registry in registries.items():
                count = registry.get_job_count(cleanup=False)
                numbers.put("switchboard_rq_jobs", count, queue=name, state=state)
        numbers.put("switchboard_rq_workers", Worker.count(connection=client))

    def _read_agents(self, numbers: Numbers) -> None:
        """Roster agents by status (ivr.presence); an agent without a status is offline."""
        raw = self._redis.hgetall(STATUS_KEY)
        known = {_text(agent): parse_status(_text(value)).status for agent, value in raw.items()}
        counts = dict.fromkeys(STATUSES, 0)
        for agent in self._config.switchboard.agents.roster:
            status = known.get(agent.id, "offline")
            counts[status if status in counts else "offline"] += 1
        for status, count in counts.items():
            numbers.put("switchboard_agents", count, status=status)
        numbers.put("switchboard_agents_ready", counts["ready"])

    def _stream_state(self) -> tuple[int, int, int]:
        """(undelivered, pending, consumers) of the ingest group; all 0 before the stream."""
        client = self._redis
        try:
            groups: Any = client.xinfo_groups(self._stream)
        except redis.ResponseError:  # no stream yet: nothing was ever appended
            return 0, 0, 0
        group = next((g for g in groups if _text(g["name"]) == self._group), None)
        if group is None:  # no consumer has started yet: everything is undelivered
            return int(client.xlen(self._stream)), 0, 0
        lag = group.get("lag")
        if lag is None:
            after = "(" + _text(group["last-delivered-id"])
            undelivered: Any = client.xrange(
                self._stream, min=after, max="+", count=LAG_COUNT_LIMIT
            )
            lag = len(undelivered)
        return int(lag), int(group["pending"]), int(group["consumers"])

    def _read_calendar(self, numbers: Numbers, now: datetime) -> None:
        services = [SWITCHBOARD, *(d.id for d in self._config.departments)]
        services += [r.id for r in self._config.receptions]
        for service in services:
            is_open = self._hours.is_open(service, now)
            numbers.put("switchboard_service_open", 1 if is_open else 0, service=service)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def families(numbers: Numbers) -> Iterable[Metric]:
    """Metric families in `BUSINESS` order; a family without samples is still declared."""
    for spec in BUSINESS.values():
        yield _family(spec, numbers)


def _family(spec: MetricSpec, numbers: Numbers) -> Metric:
    labels = list(spec.labels)
    if spec.kind == "histogram":
        histogram = HistogramMetricFamily(spec.name, spec.help, labels=labels)
        for key, value in sorted(numbers.histograms.get(spec.name, {}).items()):
            given = dict(key)
            buckets = [(_le(bound), count) for bound, count in value.buckets]
            histogram.add_metric([given[n] for n in labels], buckets, sum_value=value.total)
        return histogram
    family: CounterMetricFamily | GaugeMetricFamily
    if spec.kind == "counter":
        family = CounterMetricFamily(spec.name, spec.help, labels=labels)
    else:
        family = GaugeMetricFamily(spec.name, spec.help, labels=labels)
    for key, sample in sorted(numbers.values.get(spec.name, {}).items()):
        given = dict(key)
        family.add_metric([given[n] for n in labels], sample)
    return family


def _le(bound: float) -> str:
    text: str = floatToGoString(bound)  # type: ignore[no-untyped-call]
    return text


def exporter_registry(collector: BusinessCollector) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    return registry


# --- the command -----------------------------------------------------------------------------
