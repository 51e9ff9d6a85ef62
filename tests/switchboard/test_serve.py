"""`switchboard serve` for real: embedded Redis, migrations, uvicorn and an RQ worker, the web
workers' metrics on their own port, then a clean stop on SIGTERM, as `make run` and a
container's `docker stop` do it."""

from __future__ import annotations

import os
import signal
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from prometheus_client.parser import text_string_to_metric_families
from redis import Redis
from redis.exceptions import ResponseError
from rq import Worker
from sqlalchemy import Engine, create_engine, text

from ivr.config import parse_config
from sim.call_trial import simulator_for
from sim.twilio import Call, hang_up
from switchboard.redis_client import connect_redis
from switchboard.settings import Settings
from tests.fixtures.localhost import fetch, free_port, status, wait_for
from tests.fixtures.prometheus import check_metrics
from tests.fixtures.serve import running_serve, start_serve


def ingest_consumers(redis: Redis) -> int:
    """How many consumers the ingest group on the event stream has (0 before it exists)."""
    try:
        groups = redis.xinfo_groups(Settings().stream)
    except ResponseError:  # no stream yet
        return 0
    return sum(int(g["consumers"]) for g in groups if g["name"] == b"ingest")


def play_a_call(public_url: str) -> tuple[Call, Counter[str]]:
    """One call from the simulator over real HTTP: the greeting, then the caller hangs up.
    Also returns how many webhooks it made, by route."""
    settings = Settings(public_url=public_url)
    with httpx.Client(timeout=15) as client:
        sim = simulator_for(
            http=client,
            settings=settings,
            config=parse_config(settings.config.read_text(encoding="utf-8")),
            start=datetime.now(UTC),
        )
        call = sim.place_call(from_="+4791234567", to="+4756375000", script=[hang_up()])
        sim.run()
    assert {record.status for record in sim.requests} == {200}
    return call, Counter(urlsplit(record.url).path for record in sim.requests)


def webhook_counts(exposition: str) -> Counter[str]:
    """`switchboard_webhook_requests_total` by route, from a scrape."""
    counts: Counter[str] = Counter()
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            if sample.name == "switchboard_webhook_requests_total" and sample.value:
                counts[sample.labels["route"]] += int(sample.value)
    return counts


def sample(exposition: str, name: str) -> float:
    (value,) = [
        s.value
        for family in text_string_to_metric_families(exposition)
        for s in family.samples
        if s.name == name
    ]
    return value


def recorded_kinds(engine: Engine, call_sid: str) -> set[str]:
    """The event kinds the ingest consumer has written to SQL for a call."""
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT kind FROM call_events WHERE call_sid = :sid"), {"sid": call_sid}
        )
        return {row[0] for row in rows}


def test_serve_runs_the_service_and_stops_everything_on_sigterm(workdir: Path) -> None:
    var = workdir / "var"
    stale = var / "prometheus" / "counter_999999.db"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"left by an earlier run")
    port, metrics_port = free_port(), free_port()
    app, metrics = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{metrics_port}/metrics"
    with running_serve(
        workdir, port, "--workers", "2", "--metrics-port", str(metrics_port)
    ) as serve:
        wait_for(lambda: status(f"http://127.0.0.1:{port}/readyz") == 200, within=60)
        assert not stale.exists(), "metrics files of an earlier run must not be summed in"
        redis = connect_redis(f"unix://{var / 'redis.sock'}", timeout=5, connect_timeout=5)
        try:
            wait_for(lambda: len(Worker.all(connection=redis)) == 1, within=30)
            wait_for(lambda: ingest_consumers(redis) == 1, within=30)
        finally:
            redis.close()
        call, webhooks = play_a_call(app)
        assert "Velkomen til Alver kommune." in call.transcript_text()
        # The API wants a token even in development; the banner's development token works.
        stats = f"http://127.0.0.1:{port}/api/stats"
        assert status(stats) == 401
        assert status(stats, {"Authorization": "Bearer dev-manager-token"}) == 200
        # The metrics port answers for both web workers; the public port has no metrics and
        # does not name its server software.
        scraped = fetch(metrics)
        assert webhook_counts(scraped) == webhooks
        assert webhooks["/twilio/voice"] == 1
        assert sample(scraped, "switchboard_web_up") == 1
        assert sample(scraped, "switchboard_event_spool_bytes") == 0
        assert check_metrics(scraped) == (0, "")
        assert status(f"{app}/metrics") == 404
        answer = httpx.get(f"{app}/healthz")
        assert answer.status_code == 200
        assert "server" not in answer.headers, answer.headers
        database = create_engine(f"sqlite:///{var / 'switchboard.db'}")
        try:
            wait_for(
                lambda: recorded_kinds(database, call.sid) >= {"call_started", "call_ended"},
                within=30,
            )
        finally:
            database.dispose()
        serve.send_signal(signal.SIGTERM)
        assert serve.wait(timeout=60) == 0
    stdout = (workdir / "stdout.txt").read_text()
    assert f"http://127.0.0.1:{port}/twilio/voice" in stdout
    assert f"http://127.0.0.1:{port}/healthz" in stdout
    assert f"  Metrics           {metrics} (Prometheus; not on the public port)" in stdout
    assert f"{app}/metrics" not in stdout
    warnings = [
        line for line in (workdir / "stderr.txt").read_text().splitlines() if "warning:" in line
    ]
    # Loopback: nothing is exposed. The one warning is the shipped file's phone agents
    # without PINs, which development allows.
    assert len(warnings) == 1, warnings
    assert "agents let in by caller ID alone" in warnings[0]
    assert "switchboard try-call --press 1" in stdout
    assert "dev-manager-token" in stdout
    # No Twilio account in development: the banner says where SMS go instead.
    outbox = (var / "outbox.jsonl").resolve()
    assert f"  SMS outbox        {outbox} (no Twilio account: nothing is sent)" in stdout
    assert (var / "switchboard.db").exists(), "serve applies the migrations"
    assert status(f"http://127.0.0.1:{port}/healthz") is None, "the web server stopped"
    assert status(metrics) is None, "the metrics port closed with serve"
    assert not (var / "redis.sock").exists(), "the embedded Redis stopped with the service"


def test_development_on_another_port_checks_signatures_against_that_port(workdir: Path) -> None:
    # make run PORT=8010 without SWITCHBOARD_PUBLIC_URL: the service answers on that port, so
    # that is the URL requests are signed for (the default would be :8000, and every webhook
    # a 403).
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    out, err = (workdir / "stdout.txt").open("w"), (workdir / "stderr.txt").open("w")
    serve = start_serve(
        workdir,
        *("--port", str(port), "--no-embedded-workers", "--metrics-port", "0"),
        env=env,
        stdout=out,
        stderr=err,
    )
    try:
        wait_for(lambda: status(f"http://127.0.0.1:{port}/readyz") == 200, within=60)
        call, _webhooks = play_a_call(f"http://127.0.0.1:{port}")
        assert "Velkomen til Alver kommune." in call.transcript_text()
        serve.send_signal(signal.SIGTERM)
        assert serve.wait(timeout=60) == 0
    finally:
        if serve.poll() is None:
            serve.kill()
            serve.wait()
        out.close()
        err.close()
    banner = (workdir / "stdout.txt").read_text()
    assert f"signatures are checked against http://127.0.0.1:{port}" in banner
