"""`GET /api/stats` and the glossary its numbers link to, through the real app."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from switchboard.models import QueueVisit, TransferRecord
from switchboard.stats.glossary import TERMS, glossary_markdown
from tests.fixtures.calls import OSLO, oslo
from tests.switchboard.apphost import auth, make_app, make_settings

NOW = "2026-11-25T12:00:00+01:00"
GLOSSARY_DOC = Path(__file__).parents[2] / "docs" / "glossary.md"


@pytest.fixture
def client(tmp_path: Path, redis_url: str) -> Iterator[TestClient]:
    app = make_app(make_settings(tmp_path, redis_url))
    with TestClient(app, headers=auth("manager")) as client:
        yield client


def add(client: TestClient, *rows: Any) -> None:
    engine = client.app.state.services.engine  # type: ignore[attr-defined]
    with Session(engine) as session, session.begin():
        session.add_all(rows)


def buckets(at: datetime) -> dict[str, Any]:
    local = at.astimezone(OSLO)
    return {"day_local": local.date(), "hour_local": local.hour, "weekday_local": local.weekday()}


def answered_visit(n: int, joined: datetime, wait: float) -> QueueVisit:
    return QueueVisit(
        visit_id=f"CA{n}.1",
        call_sid=f"CA{n}",
        queue="main",
        joined_at=joined,
        ended="answered",
        wait_seconds=wait,
        in_opening_hours=True,
        **buckets(joined),
    )


def transfer(n: int, department: str, outcome: str) -> TransferRecord:
    started = oslo("2026-11-25 10:00")
    return TransferRecord(
        transfer_id=f"CA{n}.2",
        call_sid=f"CA{n}",
        department=department,
        initiator="ivr",
        started_at=started,
        outcome=outcome,
        redirected=False,
        bounce=False,
        **buckets(started),
    )


def stats(client: TestClient, **params: str) -> Any:
    response = client.get("/api/stats", params=params, headers={"X-Simulated-Time": NOW})
    assert response.status_code == 200, response.text
    return response.json()


def test_the_default_window_is_the_last_seven_days(client: TestClient) -> None:
    now = datetime.fromisoformat(NOW)
    add(
        client,
        answered_visit(1, now - timedelta(days=1), wait=12),
        answered_visit(2, now - timedelta(days=6, hours=23), wait=30),
        answered_visit(3, now - timedelta(days=7, minutes=1), wait=5),  # a week and a minute
    )
    body = stats(client)
    assert (body["from"], body["to"]) == ("2026-11-18T11:00:00Z", "2026-11-25T11:00:00Z")
    assert body["time_zone"] == "Europe/Oslo"
    queue = body["queue"]["total"]
    assert queue["offered"] == {"value": 2, "definition": "/glossary#offered"}
    assert queue["asa_seconds"] == {"value": 21.0, "definition": "/glossary#asa"}
    assert queue["service_level"]["value"] == 0.5


def test_grouped_by_department_with_names(client: TestClient) -> None:
    add(
        client,
        transfer(1, "helse_omsorg", "connected"),
        transfer(2, "helse_omsorg", "busy"),
        transfer(3, "nav", "connected"),
    )
    body = stats(client, **{"from": "2026-11-25", "to": "2026-11-26", "group_by": "department"})
    # Dates are local midnights; the window comes back in UTC.
    assert (body["from"], body["to"]) == ("2026-11-24T23:00:00Z", "2026-11-25T23:00:00Z")
    transfers = body["transfers"]
    assert transfers["group_by"] == "department"
    assert transfers["total"]["transfers"]["value"] == 3
    groups = {g["key"]: g for g in transfers["groups"]}
    assert groups["helse_omsorg"]["label"] == "helse og omsorg"
    assert groups["helse_omsorg"]["figures"]["busy"]["value"] == 1
    assert groups["nav"]["figures"]["connected"]["value"] == 1
    # Calls have no department: their section says so rather than pretending.
    assert (body["calls"]["group_by"], body["calls"]["groups"]) == (None, [])


def test_hours_are_labelled_in_local_time(client: TestClient) -> None:
    add(client, answered_visit(1, oslo("2026-11-25 09:30"), wait=4))
    body = stats(
        client, **{"from": "2026-11-25T00:00", "to": "2026-11-26T00:00", "group_by": "hour"}
    )
    (group,) = body["queue"]["groups"]
    assert (group["key"], group["label"]) == (9, "09–10")


def metrics(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if set(node) == {"value", "definition"}:
            yield node
        else:
            for value in node.values():
                yield from metrics(value)
    elif isinstance(node, list):
        for value in node:
            yield from metrics(value)


def test_every_number_links_to_a_definition_on_the_glossary_page(client: TestClient) -> None:
    add(client, transfer(1, "helse_omsorg", "connected"))
    body = stats(client, group_by="initiator")
    links = {m["definition"] for m in metrics(body)}
    assert len(list(metrics(body))) > 60
    page = client.get("/glossary")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    anchors = set(re.findall(r'id="([^"]+)"', page.text))
    assert {link.removeprefix("/glossary#") for link in links} <= anchors
    assert all(link.startswith("/glossary#") for link in links)


@pytest.mark.parametrize(
    ("params", "where", "message"),
    [
        ({"from": "last tuesday"}, "from", "valid date or datetime"),
        ({"from": "2026-11-26", "to": "2026-11-25"}, "from", "before `to`"),
        ({"from": "2025-01-01", "to": "2026-11-25"}, "from", "longer than 400 days"),
        ({"group_by": "colour"}, "group_by", "department"),
        ({"threshold": "0"}, "threshold", "greater than 0"),
        ({"department": "sauna"}, "department", "known: byggesak"),
        ({"initiator": "robot"}, "initiator", "ivr"),
    ],
)
def test_bad_parameters_are_refused_with_a_reason(
    client: TestClient, params: dict[str, str], where: str, message: str
) -> None:
    response = client.get("/api/stats", params=params)
    assert response.status_code == 422
    problem = response.json()["detail"]
    assert problem["error"] == "invalid_request"
    assert problem["message"].startswith(f"query parameter {where!r}: ")
    assert message in problem["message"]


def test_openapi_describes_each_number(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    operation = schema["paths"]["/api/stats"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"from", "to", "group_by"}
    figures = schema["components"]["schemas"]["QueueFiguresOut"]["properties"]
    assert "/glossary#service-level" in figures["service_level"]["description"]


def test_the_glossary_api_and_docs_say_the_same(client: TestClient) -> None:
    terms = client.get("/api/glossary").json()
    assert [t["anchor"] for t in terms] == [t.anchor for t in TERMS]
    assert terms[0]["link"] == "/glossary#call"
    # docs/glossary.md is the glossary written out; regenerate it with glossary_markdown().
    assert GLOSSARY_DOC.read_text(encoding="utf-8") == glossary_markdown()
