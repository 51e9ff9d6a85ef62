"""The web app's operational metrics: what a scrape says after real calls, read back exactly.

The app runs with real Redis and SQLite and an injected registry, so each value is read with
`get_sample_value`; every scrape also passes `promtool check metrics` without a remark.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from apphost import PUBLIC, inbound_params, make_settings, signed_post
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from switchboard.app import create_app
from switchboard.calltrial import AGENT_LINE, simulator_for
from switchboard.collectors import INGEST, WORKER
from switchboard.metrics import BUSINESS, WEBHOOK_BUCKETS, WebMetrics
from switchboard.redis_client import connect_redis
from switchboard.simulator import Department, hang_up_after, press, talk
from tests.fixtures.agents import CLIENT_AGENT
from tests.fixtures.prometheus import check_metrics

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


def scrape(client: TestClient) -> str:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return response.text


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
    assert_promtool_is_silent(scrape(service[0]))


def test_a_scrape_declares_every_route_before_any_call(service, registry):
    exposition = scrape(service[0])
    assert 'switchboard_webhook_requests_total{route="/twilio/voice",status="2xx"} 0.0' in (
        exposition
    )
    assert 'switchboard_webhook_duration_seconds_bucket{le="15.0",route="/twilio/status"} 0.0' in (
        exposition
    )
    assert max(WEBHOOK_BUCKETS) == 15.0
    assert value(registry, "switchboard_build_info", version="0.1.0") == 1
    assert_promtool_is_silent(exposition)


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
    assert_promtool_is_silent(scrape(client))


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


def test_with_redis_down_the_spooled_events_and_the_open_breaker_show(tmp_path, registry):
    dead = f"unix://{tmp_path}/no-redis.sock"
    settings = make_settings(tmp_path, dead, redis_timeout_seconds=0.2)
    app = create_app(
        settings,
        simulated_clock=True,
        registry=registry,
        redis_client=connect_redis(dead, timeout=0.2, connect_timeout=0.2),
    )
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
        exposition = scrape(client)
    spooled = sum(
        1
        for path in (tmp_path / "spool").glob("*")
        for line in path.read_text().splitlines()
        if line
    )
    assert spooled >= 2
    assert value(registry, "switchboard_events_spooled_total") == spooled
    assert value(registry, "switchboard_event_redis_failures_total") == 1, "the breaker held"
    assert "switchboard_event_breaker_open 1.0" in exposition
    assert f"{PUBLIC}" not in exposition
    assert_promtool_is_silent(exposition)


def test_the_metrics_page_lists_every_metric(registry):
    page = (Path(__file__).resolve().parents[2] / "docs" / "metrics.md").read_text()
    WebMetrics(registry)
    names = {
        family.name + ("_total" if family.type == "counter" else "")
        for family in registry.collect()
    }
    names |= {
        spec.name + ("_total" if spec.kind == "counter" else "")
        for spec in (*BUSINESS.values(), *INGEST.values(), *WORKER.values())
    }
    for name in names:
        assert f"| `{name}` |" in page, name
