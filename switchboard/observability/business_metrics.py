"""The business KPIs the exporter serves, declared in one place: names, kinds, help texts, labels.

Computed from the SQL database of record on every scrape by the single-process exporter
(`switchboard/observability/exporter.py`, `switchboard exporter`, queries in
`switchboard/stats/kpis.py`). Only that process runs the collector, so the numbers are the same
with any number of web workers and forking RQ workers, and they survive restarts. The naming
rules are those of the operational metrics (`switchboard/observability/web_metrics.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# Service level is "answered within 20 s", so 20 is a bucket boundary and the share is exact.
QUEUE_WAIT_BUCKETS = (5.0, 10.0, 15.0, 20.0, 30.0, 45.0, 60.0, 90.0, 120.0, 180.0, 300.0, 600.0)

Kind = Literal["counter", "gauge", "histogram"]


@dataclass(frozen=True)
class MetricSpec:
    """A metric the exporter builds on every scrape. `name` is without `_total`."""

    name: str
    kind: Kind
    help: str
    labels: tuple[str, ...] = ()


def _spec(name: str, kind: Kind, help: str, *labels: str) -> MetricSpec:
    return MetricSpec(name=name, kind=kind, help=help, labels=labels)


BUSINESS: dict[str, MetricSpec] = {
    spec.name: spec
    for spec in (
        # Totals over every record, from the statistics (switchboard/stats/kpis.py). Counters: they
        # only grow (figures that can shrink are gauges), so rate() and increase() work, and
        # once the ingest has caught up they equal /api/stats over all time.
        _spec("switchboard_calls", "counter", "Inbound calls to the main number."),
        _spec(
            "switchboard_call_outcomes",
            "counter",
            "Ended calls by their outcome column (as in /api/stats), the first that applies: "
            "transferred (a transfer connected), answered (in a queue), callback, sms, abandoned "
            "(hung up in a queue), ivr (ended in the menus), unresolved.",
            "outcome",
        ),
        _spec("switchboard_calls_in_progress", "gauge", "Calls that have not ended yet."),
        _spec(
            "switchboard_calls_closed",
            "counter",
            "Calls while the switchboard was closed, by what they got: department, on_call, "
            "callback, sms, queue (it opened meanwhile), hung_up.",
            "result",
        ),
        _spec(
            "switchboard_queue_offered",
            "counter",
            "Queue visits started (each entry into a queue is a visit).",
            "queue",
        ),
        _spec(
            "switchboard_queue_visits",
            "counter",
            "Ended queue visits by result: answered, abandoned (5 s or more), short_abandon "
            "(under 5 s), callback, closing, redirected, error.",
            "queue",
            "result",
        ),
        _spec(
            "switchboard_queue_answered_in_time",
            "counter",
            "Visits that started in opening hours and were answered within 20 s: the service "
            "level's numerator.",
            "queue",
        ),
        _spec(
            "switchboard_queue_service_level_base",
            "counter",
            "Ended visits that started in opening hours, without short abandons, callbacks and "
            "redirects: the service level's denominator.",
            "queue",
        ),
        _spec(
            "switchboard_queue_wait_seconds",
            "histogram",
            "Wait from joining a queue to being answered, for answered visits.",
            "queue",
        ),
        _spec(
            "switchboard_transfers",
            "counter",
            "Transfers to departments with a result, by department, initiator (ivr, agent) "
            "and outcome.",
            "department",
            "initiator",
            "outcome",
        ),
        _spec(
            "switchboard_returns",
            "counter",
            "Returned transfers (retur), by the transfer's department and initiator and the "
            "kind of return (bounce, hand_back, recall).",
            "department",
            "kind",
            "initiator",
        ),
        # A gauge: a return moves from untagged to a reason when an agent tags it, and from one
        # reason to another when tagged again, so a count by reason can shrink.
        _spec(
            "switchboard_returns_by_reason",
            "gauge",
            "Returned transfers by the transfer's department and the reason an agent tagged "
            "(wrong_department, no_answer, department_closed, wanted_switchboard, other; "
            "untagged: none yet), over all records, as /api/stats?group_by=reason counts them.",
            "department",
            "reason",
        ),
        _spec("switchboard_callbacks_requested", "counter", "Callbacks callers asked for."),
        _spec(
            "switchboard_callbacks_completed",
            "counter",
            "Callbacks no longer owed, by status (done, cancelled).",
            "status",
        ),
        _spec("switchboard_callbacks_pending", "gauge", "Callbacks still owed now."),
        _spec("switchboard_sms_requested", "counter", "Self-service SMS callers asked for."),
        _spec(
            "switchboard_sms_deflections",
            "counter",
            "Calls served by the self-service SMS instead of a person (not sent is not counted).",
        ),
        # Oslo-day and Oslo-hour views: PromQL's hour() and day_of_week() are UTC.
        _spec(
            "switchboard_today_calls",
            "gauge",
            "Calls since midnight, Oslo time, by outcome (in_progress: not ended yet).",
            "outcome",
        ),
        _spec(
            "switchboard_today_queue_visits",
            "gauge",
            "Queue visits started since midnight, Oslo time, by queue and result (waiting: "
            "not ended yet).",
            "queue",
            "result",
        ),
        _spec(
            "switchboard_today_transfers",
            "gauge",
            "Transfers started since midnight, Oslo time, by department.",
            "department",
        ),
        _spec(
            "switchboard_today_returns",
            "gauge",
            "Transfers started since midnight, Oslo time, that returned, by department.",
            "department",
        ),
        _spec(
            "switchboard_week_calls_by_hour",
            "gauge",
            "Calls in the last 7 Oslo days (today included), by Oslo weekday (mon-sun) and "
            "hour (00-23).",
            "weekday",
            "hour",
        ),
        # Now.
        _spec(
            "switchboard_service_open",
            "gauge",
            "1 when the service is open now by its opening hours, holidays and closures, else 0.",
            "service",
        ),
        _spec(
            "switchboard_queue_size",
            "gauge",
            "Callers waiting in the queue now (live state in Redis).",
            "queue",
        ),
        _spec(
            "switchboard_agents",
            "gauge",
            "Roster agents by status now (ready, paused, offline; no status yet counts as "
            "offline), from live state in Redis.",
            "status",
        ),
        _spec(
            "switchboard_agents_ready",
            "gauge",
            "Roster agents ready to take callers now (live state in Redis).",
        ),
        _spec(
            "switchboard_queue_oldest_wait_seconds",
            "gauge",
            "How long the longest-waiting caller in the queue has waited now (0 when empty), "
            "from the ingested records.",
            "queue",
        ),
        _spec(
            "switchboard_stream_lag",
            "gauge",
            "Call events in the Redis Stream not yet delivered to the ingest consumers.",
        ),
        _spec(
            "switchboard_stream_pending",
            "gauge",
            "Call events delivered to an ingest consumer but not yet acknowledged.",
        ),
        _spec(
            "switchboard_stream_consumers",
            "gauge",
            "Ingest consumers registered in the stream's consumer group.",
        ),
        _spec(
            "switchboard_rq_jobs",
            "gauge",
            "RQ jobs by queue and state (queued, started, scheduled, failed).",
            "queue",
            "state",
        ),
        _spec("switchboard_rq_workers", "gauge", "RQ workers registered in Redis."),
        _spec(
            "switchboard_exporter_up",
            "gauge",
            "1 when the exporter could read this source (database, redis, calendar) in the last "
            "scrape, else 0.",
            "source",
        ),
        _spec(
            "switchboard_exporter_scrape_duration_seconds",
            "gauge",
            "Time the exporter spent reading each source in the last scrape.",
            "source",
        ),
    )
}
