"""The web app's operational metrics: what they say after real calls, read back exactly.

The app runs with real Redis and SQLite and an injected registry, so each value is read with
`get_sample_value`; the registry's exposition also passes `promtool check metrics` without a
remark. The app itself serves no `/metrics` (serving them is `switchboard serve`'s job:
tests/switchboard/test_serve.py and test_metrics_port.py).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry, generate_latest

from sim.call_trial import AGENT_LINE, simulator_for
from sim.twilio import Department, hang_up_after, press, talk
from switchboard.app import create_app
from switchboard.eventlog import EventLog
from switchboard.observability.business_metrics import BUSINESS
from switchboard.observability.collectors import INGEST, WORKER
from switchboard.observability.metrics_port import SERVE
from switchboard.observability.web_metrics import WEBHOOK_BUCKETS, WebMetrics
from switchboard.redis_client import connect_redis
from switchboard.settings import Settings
from switchboard.spool import Spool
from tests.fixtures.agents import CLIENT_AGENT
from tests.fixtures.localhost import poll
from tests.fixtures.prometheus import check_metrics
from tests.switchboard.apphost import PUBLIC, inbound_params, make_settings, signed_post

OSLO = ZoneInfo("Europe/Oslo")
OPEN = "2026-11-25T10:00:00+00:00"
MOBILE = "+4791234567"


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def service(tmp_path, redis_url, registry):
    settings = make_settings(tmp_path, redis_url)
    app = create_app(settings, simulated_clock=True, registry=registry)
    with TestClient(app) as client:
        yield client, settings, app.state.services.ctx.config


def value(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, labels)


def exposition(registry: CollectorRegistry) -> str:
    return generate_latest(registry).decode()


def assert_promtool_is_silent(exposition: str) -> None:
    code, output = check_metrics(exposition)
    assert (code, output) == (0, ""), output


def play_a_morning(service) -> list[tuple[str, int | None]]:
    """A transfer, a queued caller answered by an agent, a no-answer bounce; (path, status)."""
    client, settings, config = service
    start = datetime(2026, 11, 25, 10, 0, tzinfo=OSLO)
    sim = simulator_for(
        http=client,
        settings=settings,
        config=config,
        start=start,
        departments={"+4756375102": Department.no_answer()},
    )
    sim.place_call(from_=MOBILE, to=config.municipality.main_number, script=[press("1")])
    sim.place_call(
        from_="+4741234567", to=config.municipality.main_number, script=[press("0"), talk(20)]
    )
    sim.place_call(from_="+4799887766", to=config.municipality.main_number, script=[press("2")])
    sim.place_call(
        from_=CLIENT_AGENT,
        to=AGENT_LINE,
        script=[hang_up_after(300)],
        at=start.replace(minute=1),
    )
    sim.run()
    return [(urlsplit(r.url).path, r.status) for r in sim.requests]


def test_every_webhook_of_real_calls_is_counted_and_timed_by_route(service, registry):
    requests = play_a_morning(service)
    by_route = Counter(path for path, _status in requests)
    assert {status for _path, status in requests} == {200}
    assert len(by_route) >= 5, by_route  # voice, gather, dial actions, queue, status, ...
    for route, count in by_route.items():
        labels = {"route": route}
        assert value(registry, "switchboard_webhook_requests_total", **labels, status="2xx") == (
            count
        ), route
        assert value(registry, "switchboard_webhook_duration_seconds_count", **labels) == count
        # The last finite bucket is Twilio's limit; a test server answers well inside it.
        assert (
            value(registry, "switchboard_webhook_duration_seconds_bucket", **labels, le="15.0")
            == count
        )
    assert (
        value(registry, "switchboard_webhook_signature_failures_total", route="/twilio/voice") == 0
    )
    assert value(registry, "switchboard_events_spooled_total") == 0
    assert value(registry, "switchboard_event_breaker_open") == 0
    assert value(registry, "switchboard_event_spool_bytes") == 0
    assert_promtool_is_silent(exposition(registry))


def test_the_public_app_serves_no_metrics(service):
    client, _settings, _config = service
    response = client.get("/metrics")
    assert response.status_code == 404
    assert "switchboard_" not in response.text
    assert "/metrics" not in client.get("/openapi.json").json()["paths"]


def test_the_metrics_declare_every_route_before_any_call(service, registry):
    text = exposition(registry)
    assert 'switchboard_webhook_requests_total{route="/twilio/voice",status="2xx"} 0.0' in text
    assert (
        'switchboard_webhook_duration_seconds_bucket{le="15.0",route="/twilio/status"} 0.0' in text
    )
    assert max(WEBHOOK_BUCKETS) == 15.0
    assert value(registry, "switchboard_build_info", version="0.1.0") == 1
    assert_promtool_is_silent(text)


def test_a_bad_signature_is_refused_and_counted(service, registry):
    client, _settings, _config = service
    response = signed_post(client, "/twilio/voice", inbound_params(), token="wrong-token", at=OPEN)
    assert response.status_code == 403
    assert (
        value(registry, "switchboard_webhook_signature_failures_total", route="/twilio/voice") == 1
    )
    assert (
        value(registry, "switchboard_webhook_requests_total", route="/twilio/voice", status="4xx")
        == 1
    )
    assert_promtool_is_silent(exposition(registry))


def test_the_fallback_answers_every_request_and_counts_each_one(service, registry):
    # The fallback never reads the body, so it cannot check a signature: every request,
    # signed, forged or unsigned, is served and counted as a request, none as a failure.
    client, _settings, _config = service
    fallback = "/twilio/fallback"
    signed = signed_post(client, fallback, inbound_params(), at=OPEN)
    forged = signed_post(client, fallback, inbound_params(), token="wrong-token", at=OPEN)
    unsigned = client.post(fallback, data=inbound_params())
    for response in (signed, forged, unsigned):
        assert response.status_code == 200
        assert "<Dial" in response.text
    assert value(registry, "switchboard_webhook_signature_failures_total", route=fallback) == 0
    assert value(registry, "switchboard_webhook_requests_total", route=fallback, status="2xx") == 3


def test_a_failing_route_is_counted_on_the_error_path_with_status_200(service, registry):
    client, _settings, _config = service
    route = "/twilio/department/closed"
    response = signed_post(
        client,
        f"{route}?lang=nn&s=2&d=no_such_department",
        inbound_params(Digits="1", CallStatus="in-progress"),
        at=OPEN,
    )
    assert response.status_code == 200
    assert "Orsak, vi har eit teknisk problem." in response.text
    assert value(registry, "switchboard_webhook_error_path_total", route=route) == 1
    assert value(registry, "switchboard_webhook_requests_total", route=route, status="2xx") == 1


def spool_bytes(settings: Settings) -> int:
    return sum(path.stat().st_size for path in settings.effective_spool_dir.glob("*.jsonl"))


def redis_down_app(tmp_path: Path, registry: CollectorRegistry, **create: Any) -> FastAPI:
    """The app with its Redis unreachable, so its events go to the spool."""
    dead = f"unix://{tmp_path}/no-redis.sock"
    settings = make_settings(tmp_path, dead, redis_timeout_seconds=0.2)
    return create_app(
        settings,
        simulated_clock=True,
        registry=registry,
        redis_client=connect_redis(dead, timeout=0.2, connect_timeout=0.2),
        **create,
    )


def test_with_redis_down_the_spooled_events_and_the_open_breaker_show(tmp_path, registry):
    app = redis_down_app(tmp_path, registry)
    with TestClient(app) as client:
        first = signed_post(client, "/twilio/voice", inbound_params(), at=OPEN)
        assert first.status_code == 200
        assert value(registry, "switchboard_event_breaker_open") == 1
        assert value(registry, "switchboard_event_redis_failures_total") == 1
        second = signed_post(
            client,
            "/twilio/menu?lang=nn&s=1&n=0",
            inbound_params(Digits="0", CallStatus="in-progress"),
            at=OPEN,
        )
        assert second.status_code == 200
        text = exposition(registry)
    spooled = sum(
        1
        for path in (tmp_path / "spool").glob("*")
        for line in path.read_text().splitlines()
        if line
    )
    assert spooled >= 2
    assert value(registry, "switchboard_events_spooled_total") == spooled
    assert value(registry, "switchboard_event_redis_failures_total") == 1, "the breaker held"
    assert (
        value(registry, "switchboard_event_spool_bytes")
        == spool_bytes(app.state.services.settings)
        > 0
    )
    assert "switchboard_event_breaker_open 1.0" in text
    assert f"{PUBLIC}" not in text
    assert_promtool_is_silent(text)


def test_an_idle_worker_shows_the_spool_shrink_as_the_ingest_replays_it(
    tmp_path, registry, redis_url
):
    # The web worker's Redis stays away; the ingest consumer (elsewhere) reaches its own and
    # replays the spool. No webhook comes in between: the gauges must follow anyway.
    app = redis_down_app(tmp_path, registry, gauge_sync_seconds=0.05)
    settings = app.state.services.settings
    with TestClient(app) as client:
        assert signed_post(client, "/twilio/voice", inbound_params(), at=OPEN).status_code == 200
        assert value(registry, "switchboard_event_spool_bytes") == spool_bytes(settings) > 0
        ingest = EventLog(
            redis=connect_redis(redis_url, timeout=5, connect_timeout=5),
            stream=settings.stream,
            spool=Spool(settings.effective_spool_dir),
            breaker_open_seconds=30,
        )
        assert ingest.replay_spool() > 0
        poll(
            lambda: value(registry, "switchboard_event_spool_bytes"),
            lambda size: size == 0,
            within=10,
            what="the replayed spool shown as empty",
        )
        assert value(registry, "switchboard_event_breaker_open") == 1, "its own Redis is away"


def test_the_metrics_page_lists_every_metric(registry):
    page = (Path(__file__).resolve().parents[2] / "docs" / "metrics.md").read_text()
    WebMetrics(registry)
    names = {
        family.name + ("_total" if family.type == "counter" else "")
        for family in registry.collect()
    }
    names |= {
        spec.name + ("_total" if spec.kind == "counter" else "")
        for spec in (*BUSINESS.values(), *INGEST.values(), *WORKER.values(), *SERVE.values())
    }
    for name in names:
        assert f"| `{name}` |" in page, name
