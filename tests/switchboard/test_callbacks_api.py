"""Agents work through the callbacks they owe: a callback asked for on the phone appears in the
list with its number, and marking it done records when (the statistics' time until done)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from sim.call_trial import simulator_for
from sim.twilio import press
from switchboard.audit import entries
from switchboard.db import make_engine
from switchboard.pseudonym import caller_pseudonym
from switchboard.stats.aggregates import callback_stats
from tests.switchboard.apphost import auth, make_app, make_settings
from workers.ingest import Ingestor


@pytest.fixture
def service(tmp_path, redis_url, redis_client):
    settings = make_settings(tmp_path, redis_url)
    app = make_app(settings)
    with TestClient(app, headers=auth("agent")) as client:
        yield client, settings, app.state.services.ctx.config, redis_client


def _ask_for_callbacks(service, *callers: str) -> None:
    client, settings, config, redis_client = service
    start = datetime(2026, 11, 28, 11, tzinfo=ZoneInfo("Europe/Oslo"))  # Saturday: closed
    sim = simulator_for(http=client, settings=settings, config=config, start=start)
    for caller in callers:
        sim.place_call(from_=caller, to="+4756375000", script=[press("8")])
    sim.run()
    engine = make_engine(settings.sqlalchemy_url)
    ingestor = Ingestor.from_settings(settings, redis=redis_client, engine=engine)
    ingestor.ensure_group()
    while ingestor.run_once(block_ms=None):
        pass
    engine.dispose()


def test_a_callback_asked_for_on_the_phone_is_listed_and_marked_done(service):
    client, settings, _config, _redis = service
    _ask_for_callbacks(service, "+4791234567", "+4741234567")
    pending = client.get("/api/callbacks").json()
    assert sorted(row["number"] for row in pending) == ["+4741234567", "+4791234567"]
    assert all(row["due_at"].startswith("2026-11-30T08:00:00") for row in pending)  # Mon 09:00
    first = pending[0]["id"]
    done = client.post(f"/api/callbacks/{first}", json={"status": "done"})
    assert done.status_code == 200
    assert done.json()["done_at"] is not None
    assert [row["id"] for row in client.get("/api/callbacks").json()] == [pending[1]["id"]]
    again = client.post(f"/api/callbacks/{first}", json={"status": "cancelled"})
    assert again.status_code == 409
    engine = make_engine(settings.sqlalchemy_url)
    with engine.connect() as connection:
        figures = callback_stats(
            connection,
            start=datetime(2026, 11, 1, tzinfo=UTC),
            end=datetime(2027, 1, 1, tzinfo=UTC),
        ).total
    engine.dispose()
    assert figures.requested == 2
    assert figures.done == 1


def test_unknown_callback_and_bad_status_are_clear_errors(service):
    client = service[0]
    assert client.post("/api/callbacks/999", json={"status": "done"}).status_code == 404
    assert client.post("/api/callbacks/1", json={"status": "maybe"}).status_code == 422


def test_every_number_shown_is_audited_with_the_token_name(service):
    client, settings, _config, _redis = service
    _ask_for_callbacks(service, "+4791234567", "+4741234567")
    engine = make_engine(settings.sqlalchemy_url)
    assert entries(engine, action="number_read") == []
    pending = client.get("/api/callbacks").json()
    reads = entries(engine, action="number_read")
    assert {(e.actor, e.subject, e.detail["callback_id"]) for e in reads} == {
        ("test agent", caller_pseudonym(row["number"], key=settings.caller_key), row["id"])
        for row in pending
    }
    client.post(f"/api/callbacks/{pending[0]['id']}", json={"status": "done"})
    latest = entries(engine, action="number_read")[0]
    assert latest.detail == {"callback_id": pending[0]["id"]}
    assert len(entries(engine, action="number_read")) == 3
    # A refused change shows no number and writes nothing; an empty list reads none.
    refused = client.post(f"/api/callbacks/{pending[0]['id']}", json={"status": "done"})
    assert refused.status_code == 409
    assert client.get("/api/callbacks?status=cancelled").json() == []
    assert len(entries(engine, action="number_read")) == 3
    engine.dispose()
