"""`GET /api/directory` through the real app, on SQLite and PostgreSQL: each department's number,
hours now, today's figures (the same as `/api/stats` for the day) and the transfer guard."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from switchboard.models import ReturnRecord, TransferRecord
from tests.fixtures.calls import OSLO, oslo
from tests.switchboard.apphost import auth, make_app, make_settings

DAY = "2026-11-25"  # a Wednesday


@pytest.fixture
def client(tmp_path: Path, redis_url: str, db_url: str) -> Iterator[TestClient]:
    app = make_app(make_settings(tmp_path, redis_url, database_url=db_url))
    with TestClient(app, headers=auth("agent")) as client:
        yield client


def buckets(at: datetime) -> dict[str, Any]:
    local = at.astimezone(OSLO)
    return {"day_local": local.date(), "hour_local": local.hour, "weekday_local": local.weekday()}


def transfer(n: int, department: str, outcome: str | None, at: str) -> TransferRecord:
    started = oslo(at)
    return TransferRecord(
        transfer_id=f"CA{n}.2",
        call_sid=f"CA{n}",
        department=department,
        initiator="agent",
        started_at=started,
        outcome=outcome,
        redirected=False,
        bounce=outcome not in ("connected", None),
        **buckets(started),
    )


def returned(n: int, department: str, at: str) -> ReturnRecord:
    detected = oslo(at)
    return ReturnRecord(
        transfer_id=f"CA{n}.2",
        call_sid=f"CA{n}",
        transfer_call_sid=f"CA{n}",
        kind="bounce",
        cause="no_answer",
        detected_at=detected,
        department=department,
        initiator="agent",
        **buckets(detected),
    )


def add(client: TestClient, *rows: Any) -> None:
    engine = client.app.state.services.engine  # type: ignore[attr-defined]
    with Session(engine) as session, session.begin():
        session.add_all(rows)


def directory(client: TestClient, at: str, **headers: str) -> dict[str, dict[str, Any]]:
    response = client.get(
        "/api/directory", headers={"X-Simulated-Time": oslo(at).isoformat(), **headers}
    )
    assert response.status_code == 200, response.text
    return {d["id"]: d for d in response.json()["departments"]}


def test_todays_figures_are_what_the_statistics_give_for_the_day(client: TestClient) -> None:
    add(
        client,
        transfer(1, "byggesak", "connected", f"{DAY} 09:10"),
        transfer(2, "byggesak", "declined", f"{DAY} 09:20"),
        transfer(3, "byggesak", "no_answer", f"{DAY} 10:05"),
        transfer(4, "byggesak", "busy", f"{DAY} 10:30"),
        transfer(5, "byggesak", "connected", f"{DAY} 11:00"),
        transfer(6, "byggesak", "connected", "2026-11-24 11:00"),  # yesterday: not today
        transfer(7, "nav", "connected", f"{DAY} 09:30"),
        returned(2, "byggesak", f"{DAY} 09:21"),
        returned(3, "byggesak", f"{DAY} 10:06"),
    )
    found = directory(client, f"{DAY} 12:00")
    stats = client.get(
        "/api/stats",
        params={"from": DAY, "to": "2026-11-26", "department": "byggesak"},
        headers={"X-Simulated-Time": oslo(f"{DAY} 12:00").isoformat()},
    ).json()["transfers"]["total"]

    today = found["byggesak"]["today"]
    assert today["transfers"] == stats["transfers"]["value"] == 5
    assert today["connected"] == stats["connected"]["value"] == 2
    assert today["returned"] == stats["returned"]["value"] == 2
    assert today["return_rate"] == stats["return_rate"]["value"] == pytest.approx(0.4)
    whispers = sum(stats[k]["value"] for k in ("connected", "declined", "no_answer"))
    assert today["whispers"] == whispers == 4
    assert today["accepted_share"] == pytest.approx(0.5)
    assert found["nav"]["today"]["transfers"] == 1
    assert found["skatt_gebyr"]["today"] == {
        "transfers": 0,
        "connected": 0,
        "whispers": 0,
        "unanswered": 0,
        "accepted_share": None,
        "returned": 0,
        "return_rate": None,
    }
    assert found["byggesak"]["number"] == "+4756375101"
    assert found["byggesak"]["name"] == "byggesak, plan og oppmåling"


def test_a_department_closing_at_three_warns_from_five_minutes_before(client: TestClient) -> None:
    # barnehage_skule is open 09:00-15:00 on weekdays.
    early = directory(client, f"{DAY} 14:54")["barnehage_skule"]
    assert (early["open"], early["guard"], early["verdict"]) == (True, [], "ok")
    assert datetime.fromisoformat(early["closes_at"]) == oslo(f"{DAY} 15:00")

    soon = directory(client, f"{DAY} 14:57")["barnehage_skule"]
    assert (soon["open"], soon["guard"], soon["verdict"]) == (True, ["closes_soon"], "warn")

    closed = directory(client, f"{DAY} 15:00")["barnehage_skule"]
    assert (closed["open"], closed["guard"], closed["closes_at"]) == (False, ["closed"], None)
    assert datetime.fromisoformat(closed["next_opening"]) == oslo("2026-11-26 09:00")


def test_on_a_public_holiday_every_department_is_closed_until_the_next_working_day(
    client: TestClient,
) -> None:
    found = directory(client, "2026-05-14 10:00")  # Ascension Day, a Thursday
    for department in found.values():
        assert department["guard"] == ["closed"]
        assert datetime.fromisoformat(department["next_opening"]).date().isoformat() == (
            "2026-05-15"
        )
    assert datetime.fromisoformat(found["skatt_gebyr"]["next_opening"]) == oslo("2026-05-15 10:00")


def test_a_department_that_left_most_whispers_unanswered_is_flagged(client: TestClient) -> None:
    add(
        client,
        transfer(1, "nav", "declined", f"{DAY} 09:10"),
        transfer(2, "nav", "no_answer", f"{DAY} 09:20"),
        transfer(3, "nav", "declined", f"{DAY} 09:30"),
    )
    # Three whispers, all unanswered: too few to judge a department by.
    assert directory(client, f"{DAY} 10:00")["nav"]["guard"] == []

    add(client, transfer(4, "nav", "connected", f"{DAY} 10:10"))
    nav = directory(client, f"{DAY} 10:30")["nav"]
    assert nav["guard"] == ["often_unanswered"]
    assert nav["today"]["accepted_share"] == pytest.approx(0.25)

    add(client, transfer(5, "nav", "connected", f"{DAY} 10:40"))
    add(client, transfer(6, "nav", "connected", f"{DAY} 10:50"))
    # Three of six unanswered: not more than half.
    assert directory(client, f"{DAY} 11:00")["nav"]["guard"] == []


def test_a_department_lead_sees_only_their_department(client: TestClient) -> None:
    add(client, transfer(1, "nav", "connected", f"{DAY} 09:10"))
    found = directory(client, f"{DAY} 10:00", **auth("department_lead"))
    assert list(found) == ["byggesak"]
    assert directory(client, f"{DAY} 10:00", **auth("manager")).keys() >= {"byggesak", "nav"}


def test_nobody_without_a_role_for_it_reads_the_directory(client: TestClient) -> None:
    response = client.get("/api/directory", headers=auth("operator"))
    assert response.status_code == 403
    client.headers.pop("Authorization")
    assert client.get("/api/directory").status_code == 401
