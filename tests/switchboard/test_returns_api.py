"""An agent tags why a returned caller came back; the tag survives late events."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from ivr.events import Event
from sim.call_trial import simulator_for
from sim.twilio import Department, hang_up_after, press
from switchboard.db import make_engine
from tests.switchboard.apphost import auth, make_app, make_settings
from workers.ingest import Ingestor


@pytest.fixture
def service(tmp_path, redis_url, redis_client):
    settings = make_settings(tmp_path, redis_url)
    app = make_app(settings)
    engine = make_engine(settings.sqlalchemy_url)
    ingestor = Ingestor.from_settings(settings, redis=redis_client, engine=engine)
    ingestor.ensure_group()
    with TestClient(app, headers=auth("agent")) as client:
        yield client, settings, app.state.services.ctx.config, ingestor
    engine.dispose()


def _drain(ingestor: Ingestor) -> None:
    while ingestor.run_once(block_ms=None):
        pass


def test_an_agent_tags_a_bounce_and_the_tag_survives_late_events(service):
    client, settings, config, ingestor = service
    sim = simulator_for(
        http=client,
        settings=settings,
        config=config,
        start=datetime(2026, 11, 25, 11, tzinfo=ZoneInfo("Europe/Oslo")),
        departments={"+4756375102": Department.busy()},
    )
    call = sim.place_call(
        from_="+4791234567", to="+4756375000", script=[press("2"), hang_up_after(60)]
    )
    sim.run()
    _drain(ingestor)

    untagged = client.get("/api/returns", params={"hours": 24 * 31, "untagged": True}).json()
    assert [(r["call_sid"], r["kind"], r["cause"]) for r in untagged] == [
        (call.sid, "bounce", "busy")
    ]
    transfer_id = untagged[0]["transfer_id"]
    note = "Avdelinga har telefontid berre før lunsj"
    tagged = client.post(f"/api/returns/{transfer_id}", json={"reason": "other", "note": note})
    assert tagged.status_code == 200
    assert (tagged.json()["reason"], tagged.json()["note"]) == ("other", note)

    # A late event for the call (as the sweep would append) re-projects it; the tag stays.
    late = Event(
        kind="call_ended",
        call_sid=call.sid,
        dedupe_key=f"{call.sid}:rest:completed",
        at=sim.now.astimezone(UTC),
        data={"status": "completed", "final": True, "source": "rest"},
    )
    client.app.state.services.events.append([late])
    _drain(ingestor)
    rows = client.get("/api/returns", params={"hours": 24 * 31}).json()
    assert [(r["reason"], r["note"]) for r in rows] == [("other", note)]
    assert client.get("/api/returns", params={"hours": 24 * 31, "untagged": True}).json() == []


def test_unknown_return_and_unknown_reason_are_clear_errors(service):
    client = service[0]
    assert client.post("/api/returns/nope", json={"reason": "other"}).status_code == 404
    assert client.post("/api/returns/nope", json={"reason": "bad luck"}).status_code == 422
