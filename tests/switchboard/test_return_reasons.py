"""Why callers came back: agents tag returns through the API, `/api/stats?group_by=reason`
counts them (untagged ones apart, a department lead only their own), and the exporter's
`switchboard_returns_by_reason` says the same, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import redis
from fastapi.testclient import TestClient
from prometheus_client import generate_latest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from ivr.config import Config
from sim.call_trial import simulator_for
from sim.twilio import Department, hang_up_after, press, talk
from switchboard.access import Role
from switchboard.db import make_engine
from switchboard.observability.exporter import BusinessCollector, exporter_registry
from switchboard.settings import Settings
from switchboard.subject_data import Subject, erase
from tests.fixtures.prometheus import check_metrics
from tests.switchboard.apphost import auth, make_app, make_settings
from workers.ingest import Ingestor

OSLO = ZoneInfo("Europe/Oslo")
MORNING = datetime(2026, 11, 25, 9, 0, tzinfo=OSLO)  # a Wednesday, open
WINDOW = {"from": "2026-11-25", "to": "2026-11-26"}
BYGGESAK, BARNEHAGE, HELSE = "+4756375101", "+4756375102", "+4756375103"
NOTE = "Ville ha svar på eit spørsmål om bustøtte"


@dataclass
class Service:
    client: TestClient
    settings: Settings
    config: Config
    engine: Engine
    redis: redis.Redis


@pytest.fixture
def service(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis, db_url: str
) -> Iterator[Service]:
    settings = make_settings(tmp_path, redis_url, database_url=db_url)
    app = make_app(settings)
    engine = make_engine(db_url)
    with TestClient(app) as client:
        yield Service(client, settings, app.state.services.ctx.config, engine, redis_client)
    engine.dispose()


def a_morning_of_returns(service: Service) -> dict[str, list[str]]:
    """Three bounces from byggesak (busy) and two from barnehage_skule (no answer), and one
    transfer to helse_omsorg that connects. Returns each department's returned transfer ids,
    oldest first, as the agents see them in `/api/returns`."""
    sim = simulator_for(
        http=service.client,
        settings=service.settings,
        config=service.config,
        start=MORNING,
        departments={BYGGESAK: Department.busy(), BARNEHAGE: Department.no_answer()},
    )
    main = service.config.municipality.main_number
    plan = [("1", "byggesak")] * 3 + [("2", "barnehage_skule")] * 2
    calls = {}
    for n, (key, department) in enumerate(plan):
        at = MORNING + timedelta(minutes=10 * n)
        call = sim.place_call(
            from_=f"+479100{n:04d}", to=main, script=[press(key), hang_up_after(60)], at=at
        )
        calls[call.sid] = department
    sim.place_call(from_="+4792000000", to=main, script=[press("3"), talk(30)])
    sim.run()
    ingestor = Ingestor.from_settings(service.settings, redis=service.redis, engine=service.engine)
    ingestor.ensure_group()
    while ingestor.run_once(block_ms=None):
        pass
    returns = service.client.get(
        "/api/returns", params={"hours": 24 * 31, "untagged": True}, headers=auth("agent")
    ).json()
    by_department: dict[str, list[str]] = {}
    for row in sorted(returns, key=lambda row: row["detected_at"]):
        assert row["department"] == calls[row["call_sid"]]
        by_department.setdefault(row["department"], []).append(row["transfer_id"])
    return by_department


def tag(service: Service, transfer_id: str, reason: str, note: str | None = None) -> Any:
    body = {"reason": reason} | ({"note": note} if note is not None else {})
    response = service.client.post(f"/api/returns/{transfer_id}", json=body, headers=auth("agent"))
    assert response.status_code == 200, response.text
    return response.json()


def tag_the_morning(service: Service) -> None:
    returns = a_morning_of_returns(service)
    byggesak, barnehage = returns["byggesak"], returns["barnehage_skule"]
    assert (len(byggesak), len(barnehage)) == (3, 2)
    # An agent first thought byggesak just did not answer, then learnt it was the wrong place.
    tag(service, byggesak[0], "no_answer")
    tag(service, byggesak[0], "wrong_department")
    tag(service, byggesak[1], "other", NOTE)
    # byggesak[2] is left untagged.
    tag(service, barnehage[0], "wrong_department")
    tag(service, barnehage[1], "no_answer")


def by_reason(service: Service, role: Role = "manager", **params: str) -> Any:
    response = service.client.get(
        "/api/stats", params=WINDOW | {"group_by": "reason"} | params, headers=auth(role)
    )
    assert response.status_code == 200, response.text
    return response.json()["transfers"]


def rows(section: Any) -> list[tuple[Any, ...]]:
    return [
        (
            group["key"],
            group["label"],
            group["figures"]["returned"]["value"],
            group["figures"]["return_rate"]["value"],
        )
        for group in section["groups"]
    ]


def test_tagged_reasons_are_counted_and_untagged_returns_stand_apart(service: Service) -> None:
    tag_the_morning(service)

    section = by_reason(service)
    assert section["group_by"] == "reason"
    assert section["total"]["transfers"]["value"] == 6
    assert section["total"]["returned"]["value"] == 5
    # Every reason's rate is out of all six transfers, so the rates add up to the return rate.
    assert rows(section) == [
        ("wrong_department", "Feil avdeling", 2, pytest.approx(2 / 6)),
        ("no_answer", "Ikkje svar", 1, pytest.approx(1 / 6)),
        ("other", "Anna", 1, pytest.approx(1 / 6)),
        (None, "Ikkje merkt", 1, pytest.approx(1 / 6)),
    ]
    definition = section["groups"][0]["figures"]["returned"]["definition"]
    assert definition == "/glossary#returned-transfer"


def test_a_department_lead_sees_the_reasons_of_their_own_department_only(
    service: Service,
) -> None:
    tag_the_morning(service)

    section = by_reason(service, "department_lead")  # the test lead heads byggesak
    assert section["total"]["transfers"]["value"] == 3
    assert rows(section) == [
        ("wrong_department", "Feil avdeling", 1, pytest.approx(1 / 3)),
        ("other", "Anna", 1, pytest.approx(1 / 3)),
        (None, "Ikkje merkt", 1, pytest.approx(1 / 3)),
    ]
    other = service.client.get(
        "/api/stats",
        params=WINDOW | {"group_by": "reason", "department": "barnehage_skule"},
        headers=auth("department_lead"),
    )
    assert other.status_code == 403


def test_the_exporter_counts_the_same_reasons_as_the_statistics(service: Service) -> None:
    tag_the_morning(service)

    collector = BusinessCollector(
        engine=service.engine,
        redis=service.redis,
        config=service.config,
        stream=service.settings.stream,
        clock=lambda: MORNING + timedelta(hours=3),
    )
    registry = exporter_registry(collector)
    assert check_metrics(generate_latest(registry).decode()) == (0, "")
    exported = {
        (sample.labels["department"], sample.labels["reason"]): sample.value
        for family in registry.collect()
        if family.name == "switchboard_returns_by_reason"
        for sample in family.samples
    }
    # Every department has every reason and `untagged`, from 0: a bounded set.
    departments = [d.id for d in service.config.departments]
    reasons = ["wrong_department", "no_answer", "department_closed", "wanted_switchboard"]
    assert set(exported) == {(d, r) for d in departments for r in (*reasons, "other", "untagged")}
    counted = {
        (department, group["key"] or "untagged"): group["figures"]["returned"]["value"]
        for department in departments
        for group in by_reason(service, department=department)["groups"]
    }
    assert (
        {labels: n for labels, n in exported.items() if n}
        == counted
        == {
            ("byggesak", "wrong_department"): 1,
            ("byggesak", "other"): 1,
            ("byggesak", "untagged"): 1,
            ("barnehage_skule", "wrong_department"): 1,
            ("barnehage_skule", "no_answer"): 1,
        }
    )


def test_other_takes_a_short_note_and_no_other_reason_does(service: Service) -> None:
    returns = a_morning_of_returns(service)
    transfer_id = returns["byggesak"][0]
    tagged = tag(service, transfer_id, "other", NOTE)
    assert (tagged["reason"], tagged["note"]) == ("other", NOTE)
    listed = service.client.get(
        "/api/returns", params={"hours": 24 * 31}, headers=auth("manager")
    ).json()
    assert {row["transfer_id"]: row["note"] for row in listed}[transfer_id] == NOTE

    def refused(body: dict[str, str]) -> str:
        response = service.client.post(
            f"/api/returns/{transfer_id}", json=body, headers=auth("agent")
        )
        assert response.status_code == 422, response.text
        return str(response.json())

    assert "other" in refused({"reason": "wrong_department", "note": "Feil nummer"})
    assert "200" in refused({"reason": "other", "note": "x" * 201})
    refused({"reason": "other", "note": "   "})
    # Tagged again, the new reason replaces the old one and its note.
    retagged = tag(service, transfer_id, "wanted_switchboard")
    assert (retagged["reason"], retagged["note"]) == ("wanted_switchboard", None)


def test_erasing_a_caller_clears_the_note_on_their_return_and_keeps_the_reason(
    service: Service,
) -> None:
    tag_the_morning(service)  # the first caller's return is tagged wrong_department, the
    # second's other with a note
    before = by_reason(service)
    with Session(service.engine) as session, session.begin():
        erase(session, Subject.of("+4791000001", key=service.settings.caller_key))
    rows_after = service.client.get(
        "/api/returns", params={"hours": 24 * 31}, headers=auth("manager")
    ).json()
    assert [row["note"] for row in rows_after if row["reason"] == "other"] == [None]
    assert by_reason(service) == before
