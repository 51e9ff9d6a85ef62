"""Sign-ins the app must refuse, driven with an HTTP client against the live app and the real
provider: each test runs the real flow and alters one thing."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from dataclasses import replace
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest
import redis
from fastapi.testclient import TestClient

from switchboard.audit import entries
from switchboard.db import make_engine
from switchboard.identity_provider import PROVIDER_TIMEOUT_SECONDS
from switchboard.oidc import BINDING_COOKIE, keep_flow, take_flow
from switchboard.staff_sessions import COOKIE
from tests.fixtures.localhost import free_port, serving
from tests.fixtures.oidc import (
    AGENT,
    LEAD,
    LEAD_OF_NO_DEPARTMENT,
    MANAGER,
    NO_ROLE,
    OidcApp,
    RunningProvider,
    oidc_settings,
    provider_sign_in,
    serving_app,
)
from tests.switchboard.apphost import make_app, make_settings

FAILED = "/agent/login?error=oidc_failed"


@pytest.fixture
def browser_like() -> Iterator[httpx2.Client]:
    with httpx2.Client(follow_redirects=False, timeout=15) as client:
        yield client


def _stats(client: httpx2.Client, app: OidcApp) -> int:
    return client.get(app.url + "/api/stats").status_code


def _refusals(app: OidcApp) -> list[tuple[str, str]]:
    engine = make_engine(app.settings.sqlalchemy_url)
    try:
        found = entries(engine, action="sign_in_failed")
    finally:
        engine.dispose()
    return [(entry.actor, str(entry.detail.get("why"))) for entry in found]


def test_the_real_flow_signs_in_once_and_a_replayed_callback_is_refused(
    oidc_app: OidcApp, browser_like: httpx2.Client
) -> None:
    callback = provider_sign_in(browser_like, oidc_app.url, MANAGER, next_path="/api/stats")
    first = browser_like.get(callback)
    assert first.status_code == 303
    assert first.headers["location"] == "/api/stats"
    assert browser_like.cookies.get(COOKIE)
    assert _stats(browser_like, oidc_app) == 200

    with httpx2.Client(follow_redirects=False) as replaying:
        replaying.cookies.set(BINDING_COOKIE, browser_like.cookies.get(BINDING_COOKIE) or "")
        again = replaying.get(callback)
        assert again.status_code == 303
        assert again.headers["location"] == FAILED
        assert not replaying.cookies.get(COOKIE)
        assert _stats(replaying, oidc_app) == 401


def test_after_signing_in_the_browser_stays_on_this_site(
    oidc_app: OidcApp, browser_like: httpx2.Client
) -> None:
    # A phishing link with a real sign-in and a `next` elsewhere: no open redirect.
    for elsewhere in ("https://evil.example/", "//evil.example/agent/"):
        callback = provider_sign_in(browser_like, oidc_app.url, MANAGER, next_path=elsewhere)
        assert browser_like.get(callback).headers["location"] == "/agent/"


def test_a_forged_state_is_refused(oidc_app: OidcApp, browser_like: httpx2.Client) -> None:
    callback = provider_sign_in(browser_like, oidc_app.url, MANAGER)
    forged = callback.replace("state=", "state=forged", 1)
    response = browser_like.get(forged)
    assert response.headers["location"] == FAILED
    assert not browser_like.cookies.get(COOKIE)
    assert _stats(browser_like, oidc_app) == 401


def test_a_callback_opened_in_another_browser_is_refused(
    oidc_app: OidcApp, browser_like: httpx2.Client
) -> None:
    # A login CSRF: the attacker signs in, and makes the victim's browser open the callback.
    callback = provider_sign_in(browser_like, oidc_app.url, MANAGER)
    with httpx2.Client(follow_redirects=False) as victim:
        response = victim.get(callback)
        assert response.headers["location"] == FAILED
        assert not victim.cookies.get(COOKIE)
    assert (MANAGER, "other_browser") not in _refusals(oidc_app)  # the name is not known yet
    assert ("oidc:unknown", "other_browser") in _refusals(oidc_app)
    # The state was spent: the attacker's own browser cannot finish either.
    assert browser_like.get(callback).headers["location"] == FAILED


def test_an_altered_code_is_refused_by_the_provider(
    oidc_app: OidcApp, browser_like: httpx2.Client
) -> None:
    callback = provider_sign_in(browser_like, oidc_app.url, MANAGER)
    response = browser_like.get(callback.replace("code=", "code=x", 1))
    assert response.headers["location"] == FAILED
    assert not browser_like.cookies.get(COOKIE)
    assert ("oidc:unknown", "token_refused: invalid_grant") in _refusals(oidc_app)


def test_an_id_token_with_another_nonce_is_refused(
    oidc_app: OidcApp, browser_like: httpx2.Client
) -> None:
    callback = provider_sign_in(browser_like, oidc_app.url, MANAGER)
    state = parse_qs(urlsplit(callback).query)["state"][0]
    client = redis.Redis.from_url(oidc_app.settings.effective_redis_url)
    try:
        flow = take_flow(client, state)
        assert flow is not None
        keep_flow(client, state, replace(flow, nonce="another-nonce"))
    finally:
        client.close()
    response = browser_like.get(callback)
    assert response.headers["location"] == FAILED
    assert not browser_like.cookies.get(COOKIE)
    [(actor, why)] = _refusals(oidc_app)
    assert actor == "oidc:unknown"
    assert why.startswith("id_token_claims: invalid_claim")
    assert "nonce" in why


@pytest.mark.parametrize(
    ("login", "why"),
    [(NO_ROLE, "no_mapped_role"), (LEAD_OF_NO_DEPARTMENT, "department_unknown")],
)
def test_a_person_without_a_usable_role_is_told_so_and_gets_no_session(
    oidc_app: OidcApp, browser_like: httpx2.Client, login: str, why: str
) -> None:
    response = browser_like.get(provider_sign_in(browser_like, oidc_app.url, login))
    assert response.headers["location"] == "/agent/login?error=oidc_no_role"
    assert not browser_like.cookies.get(COOKIE)
    assert _stats(browser_like, oidc_app) == 401
    assert _refusals(oidc_app) == [(login, why)]


def test_an_agent_is_linked_to_the_roster(oidc_app: OidcApp, browser_like: httpx2.Client) -> None:
    response = browser_like.get(provider_sign_in(browser_like, oidc_app.url, AGENT))
    assert response.status_code == 303
    assert response.headers["location"] == "/agent/"
    assert _stats(browser_like, oidc_app) == 200  # agents read the statistics


def test_an_unreachable_provider_sends_the_browser_back_with_an_error(
    tmp_path, redis_url: str, oidc_provider: RunningProvider, browser_like: httpx2.Client
) -> None:
    port = free_port()
    nothing_there = RunningProvider(free_port())
    settings = oidc_settings(tmp_path, redis_url, nothing_there, port)
    with serving(make_app(settings), port):
        response = browser_like.get(f"http://127.0.0.1:{port}/agent/login/oidc")
    assert response.status_code == 303
    assert response.headers["location"] == FAILED


def test_a_provider_that_does_not_answer_is_given_up_on_after_a_few_seconds(
    tmp_path, redis_url: str, browser_like: httpx2.Client
) -> None:
    with socket.socket() as silent:  # accepts connections, never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = free_port()
        settings = oidc_settings(
            tmp_path, redis_url, RunningProvider(silent.getsockname()[1]), port
        )
        with serving(make_app(settings), port):
            started = time.monotonic()
            response = browser_like.get(f"http://127.0.0.1:{port}/agent/login/oidc")
            waited = time.monotonic() - started
    assert response.headers["location"] == FAILED
    assert PROVIDER_TIMEOUT_SECONDS <= waited < PROVIDER_TIMEOUT_SECONDS + 3


def test_a_cancelled_sign_in_at_the_provider_is_refused(
    oidc_app: OidcApp, browser_like: httpx2.Client
) -> None:
    start = browser_like.get(oidc_app.url + "/agent/login/oidc")
    state = parse_qs(urlsplit(start.headers["location"]).query)["state"][0]
    response = browser_like.get(
        oidc_app.url + "/agent/login/oidc/callback",
        params={"error": "access_denied\nforged log line", "state": state},
    )
    assert response.headers["location"] == FAILED
    assert not browser_like.cookies.get(COOKIE)
    assert _refusals(oidc_app) == [("oidc:unknown", "provider_error: access_deniedforgedlogline")]


def test_without_redis_the_browser_is_sent_back_with_an_error(
    tmp_path, oidc_provider: RunningProvider, browser_like: httpx2.Client
) -> None:
    port = free_port()
    nowhere = f"redis://127.0.0.1:{free_port()}/0"
    settings = oidc_settings(tmp_path, nowhere, oidc_provider, port)
    with serving(make_app(settings), port):
        response = browser_like.get(f"http://127.0.0.1:{port}/agent/login/oidc")
    assert response.status_code == 303
    assert response.headers["location"] == FAILED


def test_without_an_issuer_there_is_no_oidc_sign_in(tmp_path, redis_url: str) -> None:
    with TestClient(make_app(make_settings(tmp_path, redis_url))) as client:
        assert client.get("/agent/login/oidc", follow_redirects=False).status_code == 404
        assert client.get("/agent/login/oidc/callback?code=a&state=b").status_code == 404


def test_claims_missing_from_the_id_token_are_taken_from_userinfo(
    tmp_path, redis_url: str, userinfo_provider: RunningProvider, browser_like: httpx2.Client
) -> None:
    with serving_app(tmp_path, redis_url, userinfo_provider) as app:
        response = browser_like.get(provider_sign_in(browser_like, app.url, LEAD))
        assert response.headers["location"] == "/agent/"
        assert browser_like.get(app.url + "/api/stats?department=byggesak").status_code == 200
        assert (
            browser_like.get(app.url + "/api/stats?department=barnehage_skule").status_code == 403
        )
        engine = make_engine(app.settings.sqlalchemy_url)
        try:
            [signed_in] = entries(engine, action="sign_in")
        finally:
            engine.dispose()
    assert (signed_in.actor, signed_in.detail["role"]) == (LEAD, "department_lead")
