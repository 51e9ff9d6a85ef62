"""Staff sessions on the real app over HTTP: every protected route refuses a visitor without a
session or token, a change on a session needs its CSRF token, a disabled account's session
stops, and the Twilio webhooks are never caught by the sign-in limits.

Sessions are made the way sign-in makes them (`services.sessions.start`) and sent as cookies.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from switchboard.access import Principal
from switchboard.accounts import add_account, set_disabled
from switchboard.deps import Services
from switchboard.models import Callback, ReturnRecord
from switchboard.settings import Settings
from switchboard.staff_sessions import COOKIE, PRODUCTION_COOKIE, Method
from tests.switchboard.apphost import (
    auth,
    inbound_params,
    make_app,
    make_production_app,
    make_settings,
    production_settings,
    signed_post,
)
from tests.switchboard.test_access import add_rows, untouched

OPEN = "2026-11-25T10:00:00+00:00"  # a Wednesday, 11:00 in Oslo: the switchboard is open
KARI = Principal(name="kari", role="agent", agent_id="sentralbord", display_name="Kari")
PASSWORD = "fjord-and-mountain-42"
PROTECTED = ("/api/", "/agent/", "/reports/")
# Routes under those prefixes that anyone may open, on purpose. A route added to this list is
# a decision to make it public; every other route is checked below, whoever adds it.
# Open to anyone: the glossary, and the ways to sign in (the OpenID Connect start and the
# provider's way back, which proves who the person is itself).
PUBLIC = {"/api/glossary", "/agent/login", "/agent/login/oidc", "/agent/login/oidc/callback"}
SIGN_IN = "/agent/login"


@pytest.fixture
def settings(tmp_path, redis_url) -> Settings:
    return make_settings(tmp_path, redis_url)


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return make_app(settings)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False, client=("127.0.0.1", 50000)) as test_client:
        yield test_client


def services_of(app: FastAPI) -> Services:
    services: Services = app.state.services
    return services


def sign_in(
    client: TestClient, app: FastAPI, who: Principal = KARI, *, method: Method = "oidc"
) -> str:
    """A session as sign-in makes one, its cookie in the client; returns its CSRF token."""
    cookie, session = services_of(app).sessions.start(who, method=method)
    client.cookies.set(COOKIE, cookie)
    return session.csrf


def protected_routes(app: FastAPI) -> list[tuple[str, str, str]]:
    """Every (method, path, template) under /api/, /agent/ and /reports/: the path with its
    parameters filled in, and the route's own path."""
    found: list[tuple[str, str, str]] = []
    # FastAPI keeps included routers as such; iter_route_contexts gives their routes, flat.
    for route in iter_route_contexts(app.routes):
        path = route.path or ""
        methods = route.methods or set()
        if not path.startswith(PROTECTED) or path in PUBLIC:
            continue
        filled = re.sub(r"\{call_sid[^}]*\}", "CA" + "0" * 32, path)
        filled = re.sub(r"\{[^}]+\}", "1", filled)
        found.extend((m, filled, path) for m in sorted(methods - {"HEAD", "OPTIONS"}))
    return found


def test_every_protected_route_refuses_a_visitor_without_credentials(
    app: FastAPI, client: TestClient
) -> None:
    routes = protected_routes(app)
    # The enumeration finds the routes:
    assert ("POST", "/api/returns/1", "/api/returns/{transfer_id}") in routes
    for method, path, _template in routes:
        response = client.request(method, path, json={})
        if path.startswith("/api/"):
            assert response.status_code == 401, (method, path, response.text)
            assert response.json()["detail"]["error"] == "unauthenticated"
        else:
            assert response.status_code == 303, (method, path, response.text)
            assert response.headers["location"].startswith(SIGN_IN)
    # A cookie naming no session is no credential either.
    client.cookies.set(COOKIE, "made-up")
    for method, path, _template in routes:
        assert client.request(method, path, json={}).status_code in {401, 303}, (method, path)


def test_the_refusal_names_both_ways_in_and_openapi_still_declares_bearer(
    app: FastAPI, client: TestClient
) -> None:
    refused = client.get("/api/callbacks")
    assert refused.headers["www-authenticate"] == "Bearer"
    message = refused.json()["detail"]["message"]
    assert "sign in" in message
    assert "Authorization: Bearer" in message
    spec = client.get("/openapi.json").json()
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    for method, path, template in protected_routes(app):
        if path.startswith("/api/"):
            operation = spec["paths"][template][method.lower()]
            assert operation["security"] == [{"HTTPBearer": []}], (method, path)
            assert "signed-in" in operation["responses"]["401"]["description"]


def test_a_session_reads_without_a_csrf_token(app: FastAPI, client: TestClient) -> None:
    sign_in(client, app)
    assert client.get("/api/callbacks").status_code == 200
    assert client.get("/api/returns").status_code == 200


@pytest.mark.parametrize(
    ("path", "body"),
    [("/api/returns/t1", {"reason": "other"}), ("/api/callbacks/1", {"status": "done"})],
)
def test_a_change_on_a_session_needs_its_csrf_token(
    app: FastAPI, client: TestClient, settings: Settings, path: str, body: dict[str, str]
) -> None:
    add_rows(settings)
    csrf = sign_in(client, app)
    _cookie, other = services_of(app).sessions.start(
        Principal(name="ola", role="agent"), method="oidc"
    )
    other_csrf = other.csrf
    for headers in ({}, {"X-CSRF-Token": ""}, {"X-CSRF-Token": other_csrf}):
        refused = client.post(path, json=body, headers=headers)
        assert refused.status_code == 403, (headers, refused.text)
        assert refused.json()["detail"]["error"] == "csrf"
    assert untouched(settings)
    done = client.post(path, json=body, headers={"X-CSRF-Token": csrf})
    assert done.status_code == 200, done.text
    assert not untouched(settings)


def test_a_change_with_an_api_token_needs_no_csrf_token(
    client: TestClient, settings: Settings
) -> None:
    add_rows(settings)
    tagged = client.post("/api/returns/t1", json={"reason": "other"}, headers=auth("agent"))
    assert tagged.status_code == 200, tagged.text
    marked = client.post("/api/callbacks/1", json={"status": "done"}, headers=auth("agent"))
    assert marked.status_code == 200, marked.text
    engine = services_of(client.app).engine  # type: ignore[arg-type]
    with Session(engine) as session:
        assert session.scalar(select(Callback.status).where(Callback.id == 1)) == "done"
        reason = select(ReturnRecord.reason).where(ReturnRecord.transfer_id == "t1")
        assert session.scalar(reason) == "other"


def test_a_session_has_the_role_of_its_person(app: FastAPI, client: TestClient) -> None:
    sign_in(client, app, Principal(name="mona", role="manager"))
    assert client.get("/api/returns").status_code == 200
    refused = client.get("/api/callbacks")
    assert refused.status_code == 403
    assert refused.json()["detail"]["error"] == "forbidden"


def _account(engine: Engine) -> Principal:
    return add_account(
        engine, username="kari", display_name="Kari", role="agent", password=PASSWORD
    ).principal()


def test_a_disabled_accounts_session_stops_working(app: FastAPI, client: TestClient) -> None:
    services = services_of(app)
    who = _account(services.engine)
    sign_in(client, app, who, method="password")
    assert client.get("/api/callbacks").status_code == 200
    set_disabled(services.engine, "kari")
    assert client.get("/api/callbacks").status_code == 401
    set_disabled(services.engine, "kari", False)
    assert client.get("/api/callbacks").status_code == 401  # ended, not paused
    assert services.redis.keys("switchboard:session:*") == []


def test_twilio_webhooks_are_never_caught_by_the_sign_in_limits(
    app: FastAPI, client: TestClient
) -> None:
    limits = services_of(app).sign_in_limits
    for attempt in range(limits.limits.per_address):
        limits.failed(f"guess-{attempt}", "127.0.0.1")
    assert limits.retry_after("anyone", "127.0.0.1") > 0
    for _ in range(3):
        answer = signed_post(client, "/twilio/voice", inbound_params(), at=OPEN)
        assert answer.status_code == 200, answer.text
        assert "<Response>" in answer.text


def test_a_session_idle_too_long_by_the_requests_clock_is_refused(
    app: FastAPI, client: TestClient
) -> None:
    started = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    cookie, _ = services_of(app).sessions.start(KARI, method="oidc", at=started)
    client.cookies.set(COOKIE, cookie)

    def at(minutes: int) -> dict[str, str]:
        return {"X-Simulated-Time": (started + timedelta(minutes=minutes)).isoformat()}

    assert client.get("/api/callbacks", headers=at(29)).status_code == 200
    assert client.get("/api/callbacks", headers=at(58)).status_code == 200  # used: kept
    assert client.get("/api/callbacks", headers=at(89)).status_code == 401  # idle 31 min
    assert client.get("/api/callbacks", headers=at(90)).status_code == 401  # and ended


def test_production_takes_the_session_only_under_its_host_prefixed_cookie(
    tmp_path: Path, redis_url: str
) -> None:
    app = make_production_app(production_settings(tmp_path, redis_url))
    with TestClient(app, base_url="https://testserver") as client:
        cookie, _ = services_of(app).sessions.start(KARI, method="oidc")
        plain = client.get("/api/callbacks", headers={"Cookie": f"{COOKIE}={cookie}"})
        assert plain.status_code == 401
        prefixed = client.get("/api/callbacks", headers={"Cookie": f"{PRODUCTION_COOKIE}={cookie}"})
        assert prefixed.status_code == 200, prefixed.text
