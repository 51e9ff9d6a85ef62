"""A real Prometheus scrapes the real service while the Twilio simulator plays calls over HTTP:
`switchboard serve --workers 2` (two uvicorn workers in multiprocess mode, whose metrics `serve`
serves on a port of their own; the ingest consumer and the RQ worker) and `switchboard
exporter`. Then every dashboard query runs through Prometheus' HTTP API, and the business
numbers in Prometheus equal the statistics."""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy import text

from ivr.config import parse_config
from sim.call_trial import AGENT_LINE, simulator_for
from sim.twilio import Department, hang_up_after, press, talk
from switchboard.db import make_engine
from switchboard.redis_client import connect_redis
from switchboard.settings import Settings
from tests.dashboards.boards import queries, substitute
from tests.dashboards.stack import Stack, running_stack
from tests.fixtures.agents import CLIENT_AGENT
from tests.fixtures.localhost import fetch, poll, status
from tests.fixtures.prometheus import check_metrics

ROUNDS = 3
NO_ANSWER = "+4756375102"  # barnehage_skule, made not to answer
# Each round: a connected transfer, a caller answered from the queue, and a bounce from the
# department that does not answer, taken from the returns queue.
TRUTH = {
    "calls": 3 * ROUNDS,
    "transfers": {"byggesak": ROUNDS, "barnehage_skule": ROUNDS},
    "returns": {"barnehage_skule": ROUNDS},  # none from byggesak: it answers
}
# What the agents tag the three returns with, oldest first; the last one stays untagged.
TAGS = [{"reason": "no_answer"}, {"reason": "other", "note": "Ville snakke med rektor"}]
REASONS = {"no_answer": 1, "other": 1, "untagged": ROUNDS - len(TAGS)}
REASON_PANEL = "Kvifor innringarane kom attende"
# The stack runs in development without tokens configured: the development manager token.
MANAGER = {"Authorization": "Bearer dev-manager-token"}


@pytest.fixture
def stack() -> Iterator[Stack]:
    # Short on purpose: the embedded Redis listens on var/redis.sock (107-byte limit).
    with tempfile.TemporaryDirectory(prefix="sb-live-") as directory:
        with running_stack(Path(directory)) as running:
            yield running


def play_calls(stack: Stack) -> int:
    """ROUNDS rounds of calls from distinct callers; returns how many webhooks were made."""
    settings = Settings(public_url=stack.web, config=stack.config)
    config = parse_config(stack.config.read_text(encoding="utf-8"))
    start = datetime.now(UTC)
    with httpx.Client(timeout=15) as client:
        sim = simulator_for(
            http=client,
            settings=settings,
            config=config,
            start=start,
            departments={NO_ANSWER: Department.no_answer()},
        )
        main = config.municipality.main_number
        for round_ in range(ROUNDS):
            at = start + timedelta(minutes=10 * round_)
            sim.place_call(from_=f"+479100{round_:04d}", to=main, script=[press("1")], at=at)
            sim.place_call(
                from_=f"+479200{round_:04d}", to=main, script=[press("0"), talk(20)], at=at
            )
            sim.place_call(
                from_=f"+479300{round_:04d}", to=main, script=[press("2"), talk(20)], at=at
            )
            sim.place_call(
                from_=CLIENT_AGENT,
                to=AGENT_LINE,
                script=[hang_up_after(300)],
                at=at + timedelta(minutes=1),
            )
        sim.run()
    assert all(record.status == 200 for record in sim.requests)
    return len(sim.requests)


def ingest_caught_up(stack: Stack) -> bool:
    redis = connect_redis(stack.redis_url, timeout=5, connect_timeout=5)
    engine = make_engine(stack.database_url)
    try:
        groups = redis.xinfo_groups(Settings().stream)
        pending = sum(int(group["pending"]) for group in groups)
        with engine.connect() as connection:
            ended = connection.execute(
                text("SELECT count(*) FROM calls WHERE state = 'ended'")
            ).scalar_one()
        return pending == 0 and redis.xlen(Settings().stream) == 0 and ended == TRUTH["calls"]
    finally:
        redis.close()
        engine.dispose()


def statistics(stack: Stack) -> dict[str, object]:
    """Calls, and transfers and returns by department, from the running service's /api/stats."""
    today = datetime.now(UTC).date()
    query = urlencode(
        {
            "from": (today - timedelta(days=2)).isoformat(),
            "to": (today + timedelta(days=2)).isoformat(),
            "group_by": "department",
        }
    )
    answer = json.loads(fetch(f"{stack.web}/api/stats?{query}", headers=MANAGER))

    def value(figures: dict[str, dict[str, int]], name: str) -> int:
        return int(figures[name]["value"])

    groups = answer["transfers"]["groups"]
    return {
        "calls": value(answer["calls"]["total"], "calls"),
        "transfers": {g["key"]: value(g["figures"], "transfers") for g in groups},
        "returns": {
            g["key"]: value(g["figures"], "returned")
            for g in groups
            if value(g["figures"], "returned")
        },
    }


def from_prometheus(stack: Stack) -> dict[str, object]:
    """The same numbers from Prometheus: instant queries of the raw series, no increase()."""
    api = stack.prometheus

    def by_department(expr: str) -> dict[str, int]:
        return {dict(labels)["department"]: int(v) for labels, v in api.value(expr).items() if v}

    (calls,) = api.value("switchboard_calls_total").values()
    return {
        "calls": int(calls),
        "transfers": by_department("sum by (department) (switchboard_transfers_total)"),
        "returns": by_department("sum by (department) (switchboard_returns_total)"),
    }


def tag_returns(stack: Stack) -> None:
    """The agents tag the returns through the API, oldest first, as in TAGS."""
    with httpx.Client(base_url=stack.web, headers=MANAGER, timeout=15) as client:
        returns = client.get("/api/returns", params={"untagged": True}).json()
        oldest = sorted(returns, key=lambda row: row["detected_at"])
        assert len(oldest) == ROUNDS
        for row, body in zip(oldest, TAGS, strict=False):
            response = client.post(f"/api/returns/{row['transfer_id']}", json=body)
            assert response.status_code == 200, response.text


def reasons_from_statistics(stack: Stack) -> dict[str, int]:
    today = datetime.now(UTC).date()
    query = urlencode(
        {
            "from": (today - timedelta(days=2)).isoformat(),
            "to": (today + timedelta(days=2)).isoformat(),
            "group_by": "reason",
        }
    )
    answer = json.loads(fetch(f"{stack.web}/api/stats?{query}", headers=MANAGER))
    return {
        group["key"] or "untagged": int(group["figures"]["returned"]["value"])
        for group in answer["transfers"]["groups"]
    }


def reasons_on_the_dashboard(stack: Stack, *, range_: str) -> dict[str, int]:
    """The reason panel's queries, as Grafana sends them, each reason's bar."""
    bars: dict[str, int] = {}
    for query in queries():
        if query.panel == REASON_PANEL:
            expr = substitute(query.expr, rate_interval="15s", range_=range_)
            for labels, value in stack.prometheus.value(expr).items():
                if value:
                    bars[dict(labels)["reason"]] = int(value)
    return bars


def test_prometheus_scrapes_the_service_and_agrees_with_the_statistics(stack: Stack):
    stack.start_service(web_workers=2)
    stack.start_prometheus()
    traffic_started = time.time()
    webhooks = play_calls(stack)

    # Two web workers answered; the metrics port sums both (multiprocess mode), and the public
    # port has no metrics at all.
    api = stack.prometheus
    poll(
        lambda: api.value('sum(switchboard_webhook_requests_total{job="switchboard"})'),
        lambda v: list(v.values()) == [webhooks],
        within=20,
        what="every webhook counted once",
    )
    assert list(api.value('switchboard_web_up{job="switchboard"}').values()) == [1]
    assert status(f"{stack.web}/metrics") == 404
    for url in (stack.web_metrics, f"{stack.exporter}/metrics"):
        assert check_metrics(fetch(url)) == (0, ""), url

    poll(lambda: ingest_caught_up(stack), bool, within=30, what="ingest caught up")
    # The consumer, started by `serve`, is scraped too, and counts what it stored.
    poll(
        lambda: api.value('switchboard_ingest_events_total{result="stored"}'),
        lambda v: bool(v) and min(v.values()) > 0,
        within=20,
        what="the ingest consumer scraped",
    )
    for port in (stack.ingest_port, stack.worker_port):
        assert check_metrics(fetch(f"http://127.0.0.1:{port}/metrics")) == (0, "")
    caught_up = time.time()
    poll(
        lambda: api.value('timestamp(switchboard_exporter_up{source="database"})'),
        lambda v: bool(v) and min(v.values()) > caught_up + 1,
        within=20,
        what="an exporter scrape after the ingest caught up",
    )
    expected = TRUTH
    recorded = statistics(stack)
    scraped = from_prometheus(stack)
    # Shown with `pytest -s`: the comparison the closing note asks for.
    rows = [
        f"  {n:<10} prometheus={scraped[n]} stats={recorded[n]} truth={expected[n]}"
        for n in expected
    ]
    sys.stdout.write("\nPrometheus vs statistics vs ground truth:\n" + "\n".join(rows) + "\n")
    assert scraped == recorded == expected

    # The agents tag why the callers came back; the dashboard's reason panel shows what the
    # statistics count, after the exporter's next scrape.
    tag_returns(stack)
    tagged = time.time()
    poll(
        lambda: api.value('timestamp(switchboard_exporter_up{source="database"})'),
        lambda v: bool(v) and min(v.values()) > tagged + 1,
        within=20,
        what="an exporter scrape after the tagging",
    )
    range_ = f"{int(time.time() - traffic_started) + 5}s"
    on_the_dashboard = reasons_on_the_dashboard(stack, range_=range_)
    sys.stdout.write(f"Reasons: dashboard={on_the_dashboard} truth={REASONS}\n")
    assert on_the_dashboard == reasons_from_statistics(stack) == REASONS

    # Every dashboard query, as Grafana would send it.
    now = time.time()
    range_ = f"{int(now - traffic_started) + 5}s"
    failures = []
    for query in queries():
        expr = substitute(query.expr, rate_interval="15s", range_=range_)
        if query.instant:
            answer = api.query(expr, time=str(now))
        else:
            answer = api.query_range(expr, start=traffic_started - 5, end=now, step="1s")
        if answer.get("status") != "success":
            failures.append(f"{query.board} / {query.panel}: {answer.get('error')}: {expr}")
        elif not answer["data"]["result"]:
            failures.append(f"{query.board} / {query.panel}: no data: {expr}")
    assert not failures, "\n".join(failures)
