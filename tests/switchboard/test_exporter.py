"""The business exporter: calls played against the real app, ingested into SQL (SQLite and
PostgreSQL), then scraped. Every number is the ground truth of the calls that were played."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry, generate_latest

from sim.call_trial import AGENT_LINE, simulator_for
from sim.twilio import Department, hang_up_after, press, talk
from switchboard.app import create_app
from switchboard.db import make_engine
from switchboard.job_queues import SMS_QUEUE, make_queue
from switchboard.observability.business_metrics import QUEUE_WAIT_BUCKETS
from switchboard.observability.exporter import BusinessCollector, History, exporter_registry
from switchboard.stats.kpis import EPOCH, FOREVER, read_totals
from tests.fixtures.agents import CLIENT_AGENT
from tests.fixtures.prometheus import check_metrics
from tests.switchboard.apphost import make_settings
from workers.ingest import Ingestor

OSLO = ZoneInfo("Europe/Oslo")
MORNING = datetime(2026, 11, 25, 10, 0, tzinfo=OSLO)  # a Wednesday, open
NOON = datetime(2026, 11, 25, 12, 0, tzinfo=OSLO)


@pytest.fixture
def app_service(tmp_path, redis_url):
    settings = make_settings(tmp_path, redis_url)
    app = create_app(settings, simulated_clock=True)
    with TestClient(app) as client:
        yield client, settings, app.state.services.ctx.config


def simulator(app_service, **kwargs):
    client, settings, config = app_service
    return simulator_for(http=client, settings=settings, config=config, start=MORNING, **kwargs)


def a_morning(app_service):
    """A connected transfer; a queued caller; a no-answer bounce taken from the returns queue."""
    _client, _settings, config = app_service
    sim = simulator(app_service, departments={"+4756375102": Department.no_answer()})
    main = config.municipality.main_number
    sim.place_call(from_="+4791234567", to=main, script=[press("1")])
    sim.place_call(from_="+4741234567", to=main, script=[press("0"), talk(20)])
    sim.place_call(from_="+4799887766", to=main, script=[press("2"), talk(20)])
    sim.place_call(
        from_=CLIENT_AGENT,
        to=AGENT_LINE,
        script=[hang_up_after(300)],
        at=MORNING + timedelta(minutes=1),
    )
    return sim


def play_a_morning(app_service) -> None:
    a_morning(app_service).run()


def ingest_everything(redis_client, engine, stream: str) -> None:
    ingestor = Ingestor(
        redis=redis_client, engine=engine, stream=stream, consumer="test", caller_key="key"
    )
    ingestor.ensure_group()
    while ingestor.run_once(None):
        pass


def scrape(collector: BusinessCollector) -> CollectorRegistry:
    """Collect once, as Prometheus would, and check the exposition with promtool."""
    registry = exporter_registry(collector)
    code, output = check_metrics(generate_latest(registry).decode())
    assert (code, output) == (0, ""), output
    return registry


def collector_for(app_service, redis_client, engine, *, at: datetime) -> BusinessCollector:
    _client, settings, config = app_service
    return BusinessCollector(
        engine=engine, redis=redis_client, config=config, stream=settings.stream, clock=lambda: at
    )


def test_the_exporter_counts_the_calls_played(app_service, redis_client, engine):
    play_a_morning(app_service)
    ingest_everything(redis_client, engine, app_service[1].stream)
    registry = scrape(collector_for(app_service, redis_client, engine, at=NOON))

    def value(name: str, **labels: str) -> float | None:
        return registry.get_sample_value(name, labels)

    assert value("switchboard_calls_total") == 3
    assert value("switchboard_calls_in_progress") == 0
    assert value("switchboard_call_outcomes_total", outcome="transferred") == 1
    assert value("switchboard_call_outcomes_total", outcome="answered") == 2
    assert value("switchboard_call_outcomes_total", outcome="abandoned") == 0
    assert (
        value(
            "switchboard_transfers_total",
            department="byggesak",
            initiator="ivr",
            outcome="connected",
        )
        == 1
    )
    assert (
        value(
            "switchboard_transfers_total",
            department="barnehage_skule",
            initiator="ivr",
            outcome="no_answer",
        )
        == 1
    )
    assert (
        value(
            "switchboard_returns_total",
            department="barnehage_skule",
            kind="bounce",
            initiator="ivr",
        )
        == 1
    )
    assert (
        value("switchboard_returns_total", department="byggesak", kind="bounce", initiator="ivr")
        == 0
    )
    assert value("switchboard_callbacks_requested_total") == 0
    assert value("switchboard_queue_offered_total", queue="main") == 1
    # Returned callers go first: answered within 20 s; the first-time caller waited longer.
    assert value("switchboard_queue_answered_in_time_total", queue="returns") == 1
    assert value("switchboard_queue_answered_in_time_total", queue="main") == 0
    assert value("switchboard_queue_service_level_base_total", queue="main") == 1
    assert value("switchboard_queue_wait_seconds_count", queue="returns") == 1
    assert value("switchboard_queue_visits_total", queue="main", result="answered") == 1
    assert value("switchboard_queue_visits_total", queue="returns", result="answered") == 1
    assert value("switchboard_queue_wait_seconds_bucket", queue="returns", le="20.0") == 1
    assert value("switchboard_queue_wait_seconds_bucket", queue="main", le="20.0") == 0
    assert value("switchboard_queue_wait_seconds_count", queue="main") == 1
    assert value("switchboard_today_calls", outcome="answered") == 2
    assert value("switchboard_today_calls", outcome="in_progress") == 0
    assert value("switchboard_today_transfers", department="byggesak") == 1
    assert value("switchboard_today_transfers", department="nav") == 0
    assert value("switchboard_today_returns", department="barnehage_skule") == 1
    assert value("switchboard_week_calls_by_hour", weekday="wed", hour="10") == 3
    assert value("switchboard_week_calls_by_hour", weekday="wed", hour="11") == 0
    assert value("switchboard_service_open", service="switchboard") == 1
    assert value("switchboard_stream_lag") == 0
    assert value("switchboard_stream_pending") == 0
    assert value("switchboard_stream_consumers") == 1
    for source in ("database", "redis", "calendar"):
        assert value("switchboard_exporter_up", source=source) == 1


def test_today_starts_at_oslo_midnight_and_the_line_closes_in_the_evening(
    app_service, redis_client, engine
):
    play_a_morning(app_service)
    ingest_everything(redis_client, engine, app_service[1].stream)
    evening = collector_for(app_service, redis_client, engine, at=NOON.replace(hour=23, minute=59))
    registry = scrape(evening)
    assert registry.get_sample_value("switchboard_today_calls", {"outcome": "answered"}) == 2
    assert registry.get_sample_value("switchboard_service_open", {"service": "switchboard"}) == 0
    tomorrow = collector_for(app_service, redis_client, engine, at=NOON + timedelta(hours=12))
    registry = scrape(tomorrow)
    assert registry.get_sample_value("switchboard_today_calls", {"outcome": "answered"}) == 0
    assert (
        registry.get_sample_value("switchboard_call_outcomes_total", {"outcome": "answered"}) == 2
    )


def test_a_waiting_caller_and_unread_events_show_as_queue_size_wait_and_stream_lag(
    app_service, redis_client, engine
):
    _client, settings, config = app_service
    sim = simulator(app_service)
    sim.place_call(from_="+4791234567", to=config.municipality.main_number, script=[press("0")])
    sim.run_until(MORNING + timedelta(seconds=90))
    written = redis_client.xlen(settings.stream)
    assert written > 0
    registry = scrape(collector_for(app_service, redis_client, engine, at=sim.now))
    assert registry.get_sample_value("switchboard_queue_size", {"queue": "main"}) == 1
    assert registry.get_sample_value("switchboard_queue_size", {"queue": "returns"}) == 0
    assert registry.get_sample_value("switchboard_stream_lag") == written
    assert registry.get_sample_value("switchboard_stream_consumers") == 0
    ingest_everything(redis_client, engine, settings.stream)
    registry = scrape(collector_for(app_service, redis_client, engine, at=sim.now))
    assert registry.get_sample_value("switchboard_stream_lag") == 0
    assert registry.get_sample_value("switchboard_today_calls", {"outcome": "in_progress"}) == 1
    assert registry.get_sample_value("switchboard_calls_in_progress") == 1
    oldest = registry.get_sample_value("switchboard_queue_oldest_wait_seconds", {"queue": "main"})
    assert oldest is not None
    assert 60 < oldest < 90  # joined after the greeting and the menu choice
    empty = registry.get_sample_value("switchboard_queue_oldest_wait_seconds", {"queue": "returns"})
    assert empty == 0


def test_rq_jobs_are_counted_by_queue_and_state(app_service, redis_client, engine):
    queue = make_queue(SMS_QUEUE, connection=redis_client)
    queue.enqueue("workers.sms.send_sms", sms_id=1)
    registry = scrape(collector_for(app_service, redis_client, engine, at=NOON))
    labels = {"queue": SMS_QUEUE}
    assert registry.get_sample_value("switchboard_rq_jobs", {**labels, "state": "queued"}) == 1
    assert registry.get_sample_value("switchboard_rq_jobs", {**labels, "state": "failed"}) == 0
    assert registry.get_sample_value("switchboard_rq_workers") == 0


def test_with_the_database_down_the_redis_and_calendar_gauges_are_still_served(
    app_service, redis_client
):
    dead = make_engine("postgresql+psycopg://nobody@127.0.0.1:9/none?connect_timeout=1")
    try:
        registry = scrape(collector_for(app_service, redis_client, dead, at=NOON))
    finally:
        dead.dispose()
    assert registry.get_sample_value("switchboard_exporter_up", {"source": "database"}) == 0
    assert registry.get_sample_value("switchboard_exporter_up", {"source": "redis"}) == 1
    assert registry.get_sample_value("switchboard_queue_size", {"queue": "main"}) == 0
    assert registry.get_sample_value("switchboard_calls_total") is None


def test_old_totals_are_cached_and_refreshed_and_always_add_up(app_service, redis_client, engine):
    _client, settings, config = app_service
    sim = a_morning(app_service)
    afternoon = MORNING.replace(hour=14)
    sim.place_call(
        from_="+4790000001", to=config.municipality.main_number, script=[press("1")], at=afternoon
    )
    sim.run_until(MORNING + timedelta(hours=1))
    ingest_everything(redis_client, engine, settings.stream)
    ticks = [0.0]
    history = History(zone=OSLO, refresh_seconds=600, monotonic=lambda: ticks[0])
    later = NOON + timedelta(days=3)  # the day's records are before the cutoff: cached
    assert history.cutoff(later) > afternoon

    def totals() -> dict:
        with engine.connect() as connection:
            return history.totals(connection, now=later, wait_bounds=QUEUE_WAIT_BUCKETS).values

    def everything() -> dict:
        with engine.connect() as connection:
            return read_totals(
                connection, start=EPOCH, end=FOREVER, wait_bounds=QUEUE_WAIT_BUCKETS
            ).values

    first = totals()
    assert first == everything()
    assert first["switchboard_calls"] == {(): 3}
    # The afternoon's call, ingested after the history was summed: seen at the refresh.
    sim.run()
    ingest_everything(redis_client, engine, settings.stream)
    assert totals()["switchboard_calls"] == {(): 3}
    ticks[0] = 600.0
    assert totals()["switchboard_calls"] == {(): 4}
    assert totals() == everything()
