"""Credentials on the API in every mode: who may do what, and what a refusal leaves untouched.

The app is the real one on real Redis and SQLite; tokens are the test tokens of `apphost`, one
per role, the department lead heading byggesak.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from switchboard.access import DEVELOPMENT_TOKENS, ROLES, ApiToken, token_digest
from switchboard.models import Callback, ReturnRecord
from switchboard.settings import DEV_TWILIO_TOKEN, Settings
from tests.fixtures.cli import run_cli
from tests.switchboard.apphost import (
    API_TOKENS,
    LEAD_DEPARTMENT,
    auth,
    make_app,
    make_production_app,
    make_settings,
    production_settings,
)

CALL = "CA" + "1" * 32

# (method, path, JSON body, the roles that may)
ROUTES: list[tuple[str, str, dict[str, Any] | None, set[str]]] = [
    ("GET", "/api/callbacks", None, {"agent"}),
    ("POST", "/api/callbacks/1", {"status": "done"}, {"agent"}),
    ("POST", f"/api/calls/{CALL}/transfer", {"department": "nav"}, {"agent"}),
    ("GET", "/api/returns", None, {"agent", "manager", "department_lead"}),
    ("POST", "/api/returns/t1", {"reason": "other"}, {"agent", "manager", "department_lead"}),
    ("GET", "/api/stats", None, {"agent", "manager", "department_lead"}),
]


@pytest.fixture
def settings(tmp_path, redis_url) -> Settings:
    return make_settings(tmp_path, redis_url)


@pytest.fixture
def client(settings):
    with TestClient(make_app(settings)) as test_client:
        yield test_client


def add_rows(settings: Settings) -> None:
    """A pending callback (id 1) and two returns: t1 to byggesak, t2 to nav."""
    from switchboard.db import make_engine

    engine = make_engine(settings.sqlalchemy_url)
    now = datetime.now(UTC)
    with Session(engine) as session, session.begin():
        session.add(
            Callback(
                id=1,
                event_id="1-0",
                call_sid=CALL,
                number="+4791234567",
                language="nn",
                requested_at=now,
                status="pending",
            )
        )
        for transfer_id, department in (("t1", LEAD_DEPARTMENT), ("t2", "nav")):
            session.add(
                ReturnRecord(
                    transfer_id=transfer_id,
                    call_sid=CALL,
                    transfer_call_sid=CALL,
                    kind="bounce",
                    cause="busy",
                    detected_at=now,
                    department=department,
                    initiator="ivr",
                    day_local=now.date(),
                    hour_local=now.hour,
                    weekday_local=now.weekday(),
                )
            )
    engine.dispose()


def untouched(settings: Settings) -> bool:
    from switchboard.db import make_engine

    engine = make_engine(settings.sqlalchemy_url)
    with Session(engine) as session:
        callback = session.get(Callback, 1)
        reasons = list(session.scalars(select(ReturnRecord.reason)))
    engine.dispose()
    return callback is not None and callback.status == "pending" and reasons == [None, None]


def call(client: TestClient, method: str, path: str, body: Any, headers: dict[str, str]) -> Any:
    return client.request(method, path, json=body, headers=headers)


@pytest.mark.parametrize(("method", "path", "body", "_allowed"), ROUTES)
def test_without_a_valid_token_nothing_happens(client, settings, method, path, body, _allowed):
    add_rows(settings)
    for headers in (
        {},
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": "Basic " + base64.b64encode(b"x:not-a-token").decode()},
        {"Authorization": API_TOKENS["agent"]},  # no scheme
    ):
        response = call(client, method, path, body, headers)
        assert response.status_code == 401, (headers, response.text)
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["detail"]["error"] == "unauthenticated"
    assert untouched(settings)


@pytest.mark.parametrize(("method", "path", "body", "allowed"), ROUTES)
def test_each_role_gets_exactly_what_it_may(client, settings, method, path, body, allowed):
    add_rows(settings)
    for role in sorted(set(ROLES) - allowed):
        response = call(client, method, path, body, auth(role))
        assert response.status_code == 403, (role, response.text)
        assert response.json()["detail"]["error"] == "forbidden"
    assert untouched(settings)
    for role in sorted(allowed):
        response = call(client, method, path, body, auth(role))
        assert response.status_code not in {401, 403}, (role, response.text)


def test_a_department_lead_sees_and_tags_only_their_department(client, settings):
    add_rows(settings)
    lead, manager = auth("department_lead"), auth("manager")
    seen = client.get("/api/returns", headers=lead).json()
    assert [row["transfer_id"] for row in seen] == ["t1"]
    assert {row["transfer_id"] for row in client.get("/api/returns", headers=manager).json()} == {
        "t1",
        "t2",
    }
    # Another department's return does not exist for the lead, and stays untagged.
    refused = client.post("/api/returns/t2", json={"reason": "other"}, headers=lead)
    assert refused.status_code == 404
    assert untouched(settings)
    assert client.post("/api/returns/t1", json={"reason": "other"}, headers=lead).status_code == 200


def test_a_department_lead_reads_the_statistics_of_their_department_only(client):
    lead = auth("department_lead")
    own = client.get("/api/stats", headers=lead)
    as_manager = client.get(
        "/api/stats", params={"department": LEAD_DEPARTMENT}, headers=auth("manager")
    )
    assert own.status_code == 200
    assert own.json()["transfers"] == as_manager.json()["transfers"]
    other = client.get("/api/stats", params={"department": "nav"}, headers=lead)
    assert other.status_code == 403
    assert LEAD_DEPARTMENT in other.json()["detail"]["message"]


def test_the_glossary_is_public(client):
    assert client.get("/glossary").status_code == 200
    assert client.get("/api/glossary").status_code == 200


# --- development and production -------------------------------------------------------------


def test_development_without_configured_tokens_takes_the_printed_development_tokens(
    tmp_path, redis_url
):
    settings = make_settings(tmp_path, redis_url, api_tokens=[])
    with TestClient(make_app(settings)) as client:
        for token, role in DEVELOPMENT_TOKENS.items():
            response = client.get("/api/returns", headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == (403 if role == "operator" else 200), role
        assert client.get("/api/returns").status_code == 401


def test_production_never_takes_a_development_token(tmp_path, redis_url):
    settings = production_settings(tmp_path, redis_url, api_tokens=[])
    with TestClient(make_production_app(settings)) as client:
        for token in DEVELOPMENT_TOKENS:
            response = client.get("/api/stats", headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 401


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"twilio_auth_token": f"real-token,{DEV_TWILIO_TOKEN}"}, "public development token"),
        ({"secret_key": "short-but-not-default"}, "SWITCHBOARD_SECRET_KEY is shorter than 32"),
        ({"caller_key": "c" * 31}, "SWITCHBOARD_CALLER_KEY is shorter than 32"),
        ({"caller_key": "s" * 32}, "must differ from SWITCHBOARD_SECRET_KEY"),
        ({"twilio_account_sid": "AC" + "0" * 32}, "placeholder"),
        ({"public_url": "http://ivr.alver.example"}, "https://"),
        (
            {
                "api_tokens": [
                    ApiToken(
                        name="leaked", role="manager", sha256=token_digest("dev-manager-token")
                    )
                ]
            },
            "SWITCHBOARD_API_TOKENS holds a public development token: leaked",
        ),
    ],
)
def test_production_refuses_to_start_with_an_unsafe_setting(
    tmp_path, redis_url, overrides, problem
):
    with pytest.raises(ValueError, match="production refuses to start") as refused:
        production_settings(tmp_path, redis_url, **overrides)
    assert problem in str(refused.value)


def test_the_same_settings_in_development_start(tmp_path, redis_url):
    settings = make_settings(
        tmp_path, redis_url, twilio_auth_token=f"real-token,{DEV_TWILIO_TOKEN}", secret_key="x"
    )
    assert settings.auth_tokens == ["real-token", DEV_TWILIO_TOKEN]


# --- the API docs ---------------------------------------------------------------------------


def test_production_docs_need_a_token_and_a_browser_is_asked_for_it(tmp_path, redis_url):
    with TestClient(make_production_app(production_settings(tmp_path, redis_url))) as client:
        for path in ("/docs", "/openapi.json"):
            refused = client.get(path)
            assert refused.status_code == 401
            assert refused.headers["www-authenticate"].startswith("Basic ")
        basic = base64.b64encode(f"ops:{API_TOKENS['operator']}".encode()).decode()
        page = client.get("/docs", headers={"Authorization": f"Basic {basic}"})
        spec = client.get("/openapi.json", headers=auth("operator"))
        assert page.status_code == 200
        assert spec.json()["paths"]["/api/stats"]
        assert client.get("/glossary").status_code == 200
        assert client.get("/redoc").status_code == 404


def test_the_docs_page_loads_nothing_from_outside(client):
    page = client.get("/docs").text
    sources = [part.split('"')[1] for part in page.split("src=")[1:]]
    sources += [part.split('"')[1] for part in page.split("href=")[1:]]
    assert sources
    for source in sources:
        assert source.startswith("/"), source
        assert client.get(source).status_code == 200, source
    assert "<script>" not in page  # no inline script: the CSP allows only the service's own


def test_openapi_declares_the_bearer_scheme_on_the_api(client):
    spec = client.get("/openapi.json").json()
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert spec["paths"]["/api/callbacks"]["get"]["security"] == [{"HTTPBearer": []}]
    assert "security" not in spec["paths"]["/api/glossary"]["get"]


# --- switchboard token new ------------------------------------------------------------------


def test_token_new_prints_a_token_once_and_the_entry_that_accepts_it(tmp_path, redis_url):
    result = run_cli(
        "token", "new", "--name", "byggesak lead", "--role", "department_lead",
        "--department", "byggesak", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    token = lines[0].rsplit(" ", 1)[1]
    entry = json.loads(lines[-1])
    assert token not in lines[-1]
    settings = make_settings(tmp_path, redis_url, api_tokens=[entry])
    with TestClient(make_app(settings)) as client:
        response = client.get("/api/returns", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


def test_token_new_refuses_a_lead_without_a_department(tmp_path):
    result = run_cli("token", "new", "--name", "x", "--role", "department_lead", cwd=tmp_path)
    assert result.returncode == 2
    assert "needs a department" in result.stderr
    assert "Traceback" not in result.stderr
