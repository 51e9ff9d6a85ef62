"""Business KPIs read from the SQL database of record, for the exporter
(switchboard/observability/exporter.py).

The counts come from the statistics module (`switchboard.stats.aggregates`, the same functions
behind `/api/stats`) over the call records (`calls`, `transfers`, `queue_visits`, `returns`), so a
number in Prometheus and the same number in the statistics API cannot disagree. What the
statistics do not group the way a metric needs (calls by outcome, waits as a histogram, the
longest wait now, weekday x hour) is a plain aggregate query here, on the same tables. A call's
outcome is the projection's column `calls.outcome` (workers/projection.py), which `/api/stats`
counts too; its values are `ivr.vocabulary.CALL_OUTCOMES`. Returns by department and reason
are such a query too: `/api/stats` groups by one of the two at a time.

`read_totals` gives the counters for the records of a window; windows add up, so the exporter
sums old records once in a while and recent ones at every scrape. Over all windows the totals
only grow, as counters must: every figure that can shrink (a transfer still pending, a visit
still waiting, a callback still owed) is a gauge in `read_current`, or left out of the counter.
Definitions: docs/glossary.md and `switchboard.stats.glossary`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, case, func, select

from ivr.vocabulary import (
    AFTER_HOURS_RESULTS,
    ENDED_CALL_OUTCOMES,
    INITIATORS,
    RETURN_KINDS,
    RETURN_REASONS,
    TRANSFER_OUTCOMES,
    UNTAGGED,
)
from switchboard.models import Callback, CallRecord, QueueVisit, ReturnRecord, TransferRecord
from switchboard.stats.aggregates import (
    after_hours_stats,
    call_stats,
    callback_stats,
    queue_stats,
    sms_stats,
    transfer_stats,
)
from switchboard.stats.figures import QueueFigures, TransferFigures

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
QUEUES = ("main", "returns")
# QueueFigures field -> `result` label; `waiting` is left out (it shrinks).
VISIT_RESULTS = {
    "answered": "answered",
    "abandoned": "abandoned",
    "short_abandons": "short_abandon",
    "callbacks": "callback",
    "closing": "closing",
    "redirected": "redirected",
    "errors": "error",
}
# TransferFigures field -> `kind` label
RETURN_KIND_FIGURES = {f"{kind}s": kind for kind in RETURN_KINDS}
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FOREVER = datetime(2200, 1, 1, tzinfo=UTC)  # records of a simulated future are still counted
Labels = tuple[tuple[str, str], ...]


@dataclass
class Histogram:
    """Cumulative bucket counts (`le` ascending, +Inf last), with the sum of observations."""

    buckets: list[tuple[float, int]]
    total: float


@dataclass
class Numbers:
    """Metric name (without `_total`) -> {labels: value}; histograms apart."""

    values: dict[str, dict[Labels, float]] = field(default_factory=dict)
    histograms: dict[str, dict[Labels, Histogram]] = field(default_factory=dict)

    def put(self, name: str, value: float, **labels: str) -> None:
        self.values.setdefault(name, {})[tuple(sorted(labels.items()))] = value

    def add(self, name: str, value: float, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        samples = self.values.setdefault(name, {})
        samples[key] = samples.get(key, 0) + value

    def add_histogram(self, name: str, histogram: Histogram, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        histograms = self.histograms.setdefault(name, {})
        if key in histograms:
            old = histograms[key]
            buckets = [
                (bound, a + b)
                for (bound, a), (_, b) in zip(old.buckets, histogram.buckets, strict=True)
            ]
            histogram = Histogram(buckets=buckets, total=old.total + histogram.total)
        histograms[key] = histogram

    def add_all(self, other: Numbers) -> None:
        """Sum `other` into this (counters and histograms of adjacent windows)."""
        for name, samples in other.values.items():
            for key, value in samples.items():
                self.add(name, value, **dict(key))
        for name, histograms in other.histograms.items():
            for key, histogram in histograms.items():
                self.add_histogram(name, histogram, **dict(key))

    def set_all(self, other: Numbers) -> None:
        """Take `other`'s values over this one's (gauges)."""
        for name, samples in other.values.items():
            self.values.setdefault(name, {}).update(samples)
        for name, histograms in other.histograms.items():
            self.histograms.setdefault(name, {}).update(histograms)


def local_midnight(now: datetime, zone: ZoneInfo) -> datetime:
    local = now.astimezone(zone)
    return datetime(local.year, local.month, local.day, tzinfo=zone)


# --- what the statistics do not group this way ------------------------------------------------


def calls_by_outcome(connection: Connection, *, start: datetime, end: datetime) -> dict[str, int]:
    """Calls started in `[start, end)` by their outcome (the projection's `calls.outcome`)."""
    outcome = CallRecord.outcome
    query = (
        select(outcome, func.count())
        .where(CallRecord.started_at >= start, CallRecord.started_at < end)
        .group_by(outcome)
    )
    return {str(name): int(count) for name, count in connection.execute(query)}


def queue_wait(
    connection: Connection, *, start: datetime, end: datetime, bounds: Sequence[float]
) -> dict[str, Histogram]:
    """Waits of answered visits that joined in `[start, end)`, per queue, as cumulative buckets."""
    v = QueueVisit
    waited = v.wait_seconds
    columns = [func.sum(case((waited <= bound, 1), else_=0)) for bound in bounds]
    query = (
        select(v.queue, func.count(), func.coalesce(func.sum(waited), 0.0), *columns)
        .where(v.ended == "answered", waited.is_not(None), v.joined_at >= start, v.joined_at < end)
        .group_by(v.queue)
    )
    histograms = {}
    for name, count, total, *cumulative in connection.execute(query):
        buckets = [(bound, int(n or 0)) for bound, n in zip(bounds, cumulative, strict=True)]
        buckets.append((float("inf"), int(count)))
        histograms[str(name)] = Histogram(buckets=buckets, total=float(total))
    return histograms


def oldest_waiting(connection: Connection, *, now: datetime, within: timedelta) -> dict[str, float]:
    """Per queue, how long the longest-waiting caller has waited: the earliest join (in the last
    `within`, so a visit whose end was never reported does not count for ever) of a visit that
    has not ended."""
    v = QueueVisit
    query = (
        select(v.queue, func.min(v.joined_at))
        .where(v.ended.is_(None), v.joined_at >= now - within, v.joined_at <= now)
        .group_by(v.queue)
    )
    waits: dict[str, float] = {}
    for name, first in connection.execute(query):
        if first is not None:
            joined = first if first.tzinfo else first.replace(tzinfo=UTC)  # SQLite: naive UTC
            waits[str(name)] = max(0.0, (now - joined).total_seconds())
    return waits


def returns_by_reason(connection: Connection) -> dict[tuple[str, str], int]:
    """Returned transfers over all records by the transfer's department and the agent's tag
    (`untagged`: none yet), counted as `/api/stats?group_by=reason` counts them: by the
    transfer's department, on the transfers joined to their returns."""
    t, r = TransferRecord, ReturnRecord
    query = (
        select(t.department, r.reason, func.count())
        .select_from(r)
        .join(t, t.transfer_id == r.transfer_id)
        .group_by(t.department, r.reason)
    )
    return {
        (str(department), UNTAGGED if reason is None else str(reason)): int(n)
        for department, reason, n in connection.execute(query)
    }


def calls_by_weekday_hour(connection: Connection, *, since_day: Any) -> dict[tuple[str, str], int]:
    """Calls by local weekday and hour since a local day (the records carry local buckets)."""
    c = CallRecord
    query = (
        select(c.weekday_local, c.hour_local, func.count())
        .where(c.day_local >= since_day)
        .group_by(c.weekday_local, c.hour_local)
    )
    return {
        (WEEKDAYS[int(weekday)], f"{int(hour):02d}"): int(n)
        for weekday, hour, n in connection.execute(query)
    }


# --- all of it, named as in switchboard.observability.business_metrics.BUSINESS ------------


def _zeros(numbers: Numbers, *, departments: Sequence[str], wait_bounds: Sequence[float]) -> None:
    """Every known label set starts at 0, so that rate() and the dashboards see a series (and
    a wallboard shows 0, not "no data") before the first call of its kind."""
    for ending in ENDED_CALL_OUTCOMES:
        numbers.put("switchboard_call_outcomes", 0, outcome=ending)
    for ending in (*ENDED_CALL_OUTCOMES, "in_progress"):
        numbers.put("switchboard_today_calls", 0, outcome=ending)
    for got in AFTER_HOURS_RESULTS:
        numbers.put("switchboard_calls_closed", 0, result=got)
    empty = Histogram(buckets=[(bound, 0) for bound in (*wait_bounds, float("inf"))], total=0.0)
    for queue in QUEUES:
        numbers.put("switchboard_queue_oldest_wait_seconds", 0.0, queue=queue)
        numbers.histograms.setdefault("switchboard_queue_wait_seconds", {})[(("queue", queue),)] = (
            empty
        )
        for result in VISIT_RESULTS.values():
            numbers.put("switchboard_queue_visits", 0, queue=queue, result=result)
            numbers.put("switchboard_today_queue_visits", 0, queue=queue, result=result)
        numbers.put("switchboard_today_queue_visits", 0, queue=queue, result="waiting")
    for department in departments:
        numbers.put("switchboard_today_transfers", 0, department=department)
        numbers.put("switchboard_today_returns", 0, department=department)
        for initiator in INITIATORS:
            for outcome in TRANSFER_OUTCOMES:
                numbers.put(
                    "switchboard_transfers",
                    0,
                    department=department,
                    initiator=initiator,
                    outcome=outcome,
                )
            for kind in RETURN_KINDS:
                numbers.put(
                    "switchboard_returns", 0, department=department, kind=kind, initiator=initiator
                )
        for reason in (*RETURN_REASONS, UNTAGGED):
            numbers.put("switchboard_returns_by_reason", 0, department=department, reason=reason)
    for weekday in WEEKDAYS:
        for hour in range(24):
            numbers.put("switchboard_week_calls_by_hour", 0, weekday=weekday, hour=f"{hour:02d}")


def read_totals(
    connection: Connection, *, start: datetime, end: datetime, wait_bounds: Sequence[float]
) -> Numbers:
    """The counters' values for the records whose defining instant (a call's start, a visit's
    join, a transfer's start) is in `[start, end)`. Additive: the totals of two adjacent
    windows are the totals of both, which lets the exporter keep the old part cached."""
    numbers = Numbers()
    numbers.add("switchboard_calls", call_stats(connection, start=start, end=end).total.calls)
    for outcome, n in calls_by_outcome(connection, start=start, end=end).items():
        if outcome != "in_progress":  # it shrinks: a gauge (read_current)
            numbers.add("switchboard_call_outcomes", n, outcome=outcome)
    closed = after_hours_stats(connection, start=start, end=end).total
    for got in AFTER_HOURS_RESULTS:
        numbers.add("switchboard_calls_closed", getattr(closed, got), result=got)
    for queue in QUEUES:
        visits: QueueFigures = queue_stats(connection, start=start, end=end, queue=queue).total
        for name, result in VISIT_RESULTS.items():
            numbers.add(
                "switchboard_queue_visits", getattr(visits, name), queue=queue, result=result
            )
        numbers.add("switchboard_queue_offered", visits.offered, queue=queue)
        numbers.add("switchboard_queue_answered_in_time", visits.answered_within, queue=queue)
        numbers.add("switchboard_queue_service_level_base", visits.service_level_base, queue=queue)
    for queue, histogram in queue_wait(
        connection, start=start, end=end, bounds=wait_bounds
    ).items():
        numbers.add_histogram("switchboard_queue_wait_seconds", histogram, queue=queue)
    for initiator in INITIATORS:
        section = transfer_stats(
            connection, start=start, end=end, group_by="department", initiator=initiator
        )
        for group in section.groups:
            labels = {"department": str(group.key), "initiator": initiator}
            figures: TransferFigures = group.figures
            for outcome in TRANSFER_OUTCOMES:  # not `pending`: it shrinks
                numbers.add(
                    "switchboard_transfers", getattr(figures, outcome), outcome=outcome, **labels
                )
            for name, kind in RETURN_KIND_FIGURES.items():
                numbers.add("switchboard_returns", getattr(figures, name), kind=kind, **labels)
    callbacks = callback_stats(connection, start=start, end=end).total
    numbers.add("switchboard_callbacks_requested", callbacks.requested)
    numbers.add("switchboard_callbacks_completed", callbacks.done, status="done")
    numbers.add("switchboard_callbacks_completed", callbacks.cancelled, status="cancelled")
    sms = sms_stats(connection, start=start, end=end).total
    numbers.add("switchboard_sms_requested", sms.requested)
    numbers.add("switchboard_sms_deflections", sms.deflections)
    return numbers


def read_current(
    connection: Connection,
    *,
    now: datetime,
    zone: ZoneInfo,
    since: datetime,
    wait_bounds: Sequence[float],
    departments: Sequence[str] = (),
) -> Numbers:
    """The gauges (today's counts, what is open or owed now) and a zero for every known label
    set. Calls still in progress are looked for among those started after `since`: older ones
    have been ended or marked unresolved by the reconciliation sweep."""
    numbers = Numbers()
    _zeros(numbers, departments=departments, wait_bounds=wait_bounds)
    today = local_midnight(now, zone)
    in_progress = call_stats(connection, start=since, end=FOREVER).total.in_progress
    numbers.put("switchboard_calls_in_progress", in_progress)
    for outcome, n in calls_by_outcome(connection, start=today, end=FOREVER).items():
        numbers.put("switchboard_today_calls", n, outcome=outcome)
    for queue in QUEUES:
        visits: QueueFigures = queue_stats(connection, start=today, end=FOREVER, queue=queue).total
        for name, result in (*VISIT_RESULTS.items(), ("waiting", "waiting")):
            value = getattr(visits, name)
            numbers.put("switchboard_today_queue_visits", value, queue=queue, result=result)
    for initiator in INITIATORS:
        section = transfer_stats(
            connection, start=today, end=FOREVER, group_by="department", initiator=initiator
        )
        for group in section.groups:
            department = str(group.key)
            numbers.add(
                "switchboard_today_transfers", group.figures.transfers, department=department
            )
            numbers.add("switchboard_today_returns", group.figures.returned, department=department)
    for (department, reason), n in returns_by_reason(connection).items():
        numbers.put("switchboard_returns_by_reason", n, department=department, reason=reason)
    for queue, waited in oldest_waiting(connection, now=now, within=timedelta(hours=6)).items():
        numbers.put("switchboard_queue_oldest_wait_seconds", waited, queue=queue)
    pending = select(func.count()).select_from(Callback).where(Callback.status == "pending")
    numbers.put("switchboard_callbacks_pending", connection.execute(pending).scalar_one())
    week = (today - timedelta(days=6)).date()
    for (weekday, hour), n in calls_by_weekday_hour(connection, since_day=week).items():
        numbers.put("switchboard_week_calls_by_hour", n, weekday=weekday, hour=hour)
    return numbers
