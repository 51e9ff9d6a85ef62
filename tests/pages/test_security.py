"""The sign-in's defences over real HTTP: cookie flags, login CSRF, CSRF on sign-out, the
limits on failed sign-ins, the audit entries, and a password that never lands in logs or
Redis."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from switchboard.audit import entries
from switchboard.sign_in_limits import KEY_PREFIX as LIMITS_PREFIX
from tests.fixtures.localhost import free_port
from tests.pages.site import PASSWORD, Site, form_token, live_site, sign_in
from tests.switchboard.apphost import make_production_app, production_settings


@pytest.fixture
def site(tmp_path: Path, redis_url: str) -> Iterator[Site]:
    with live_site(tmp_path, redis_url) as live:
        yield live


def _cookie(header: str) -> tuple[str, set[str]]:
    """A Set-Cookie header's name and its attributes, lower case."""
    first, *attributes = (part.strip() for part in header.split(";"))
    return first.split("=", 1)[0], {attribute.lower() for attribute in attributes}


def test_the_session_cookie_is_httponly_and_samesite_lax(site: Site) -> None:
    with site.client() as client:
        page = client.get("/agent/login")
        name, flags = _cookie(page.headers["set-cookie"])
        assert name == "switchboard_login"
        assert {"httponly", "samesite=lax", "max-age=3600"} <= flags
        assert "secure" not in flags

        answer = sign_in(client, "kari")
        assert answer.status_code == 303
        assert answer.headers["location"] == "/agent/"
        name, flags = _cookie(answer.headers["set-cookie"])
        assert name == "switchboard_session"
        assert {"httponly", "samesite=lax", "path=/"} <= flags
        assert "secure" not in flags
        home = client.get("/agent/")
        assert home.status_code == 200
        assert "Kari Nordmann" in home.text
        assert home.headers["cache-control"] == "no-store"


def test_production_cookies_are_secure_and_the_session_is_host_only(
    tmp_path: Path, redis_url: str
) -> None:
    settings = production_settings(tmp_path, redis_url)
    with live_site(tmp_path, redis_url, settings=settings, build=make_production_app) as site:
        with site.client() as client:
            page = client.get("/agent/login")
            login_cookie = page.headers["set-cookie"]
            assert "secure" in _cookie(login_cookie)[1]
            value = login_cookie.split(";")[0].split("=", 1)[1]
            # A Secure cookie goes back over https only; this test's plain http sends it itself.
            answer = client.post(
                "/agent/login",
                data={
                    "csrf_token": form_token(page.text),
                    "username": "kari",
                    "password": PASSWORD,
                },
                headers={"cookie": f"switchboard_login={value}"},
            )
            assert answer.status_code == 303
            name, flags = _cookie(answer.headers["set-cookie"])
            assert name == "__Host-switchboard_session"
            assert {"secure", "httponly", "samesite=lax", "path=/"} <= flags
            assert not any(flag.startswith("domain") for flag in flags)
            assert answer.headers["strict-transport-security"].startswith("max-age=")


@pytest.mark.parametrize("token", ["", "forged"])
def test_a_sign_in_form_from_elsewhere_is_refused(site: Site, token: str) -> None:
    with site.client() as client:
        client.get("/agent/login")  # the browser has a pre-session cookie, but not this form
        answer = client.post(
            "/agent/login", data={"csrf_token": token, "username": "kari", "password": PASSWORD}
        )
        assert answer.status_code == 403
        assert "Skjemaet er for gammalt" in answer.text
        assert "switchboard_session" not in answer.headers.get("set-cookie", "")
        assert client.get("/agent/").status_code == 303
    assert not entries(site.engine, action="sign_in")


def test_a_sign_in_form_without_its_cookie_is_refused(site: Site) -> None:
    with site.client() as client:
        token = form_token(client.get("/agent/login").text)
        client.cookies.clear()
        answer = client.post(
            "/agent/login", data={"csrf_token": token, "username": "kari", "password": PASSWORD}
        )
        assert answer.status_code == 403


def test_sign_out_needs_the_session_csrf_token_and_ends_the_session(site: Site) -> None:
    with site.client() as client:
        assert sign_in(client, "kari").status_code == 303
        home = client.get("/agent/")
        cookie = client.cookies["switchboard_session"]

        refused = client.post("/agent/logout")
        assert refused.status_code == 403
        assert "text/html" in refused.headers["content-type"]
        assert client.get("/agent/").status_code == 200  # still signed in

        out = client.post("/agent/logout", data={"csrf_token": form_token(home.text)})
        assert out.status_code == 303
        assert out.headers["location"] == "/agent/login?signed_out=1"
        assert "Du er logga ut." in client.get("/agent/login?signed_out=1").text

    # The old cookie, replayed, opens nothing.
    with site.client() as replay:
        replay.cookies.set("switchboard_session", cookie)
        page = replay.get("/agent/")
        assert page.status_code == 303
        assert page.headers["location"].startswith("/agent/login?expired=1")
        replay.cookies.set("switchboard_session", cookie)
        assert replay.get("/api/returns").status_code == 401
    assert [e.action for e in entries(site.engine, actor="kari")] == ["sign_out", "sign_in"]


def test_signing_out_without_a_session_just_leads_to_the_sign_in_page(site: Site) -> None:
    with site.client() as client:
        answer = client.post("/agent/logout")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/agent/login"


def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(site: Site) -> None:
    with site.client() as client:
        wrong = sign_in(client, "kari", "not-the-password")
        unknown = sign_in(client, "=cmd|' /C calc'!A0", "not-the-password")
    for answer in (wrong, unknown):
        assert answer.status_code == 401
        assert "Brukarnamnet eller passordet er feil." in answer.text
        assert "not-the-password" not in answer.text
    failed = entries(site.engine, action="sign_in_failed")
    assert [e.actor for e in failed] == ["=cmd|' /c calc'!a0", "kari"]


def test_after_too_many_failures_even_the_right_password_waits(
    site: Site, redis_client: redis.Redis
) -> None:
    limit = site.settings.sign_in_failures_per_account
    with site.client() as client:
        for _ in range(limit):
            assert sign_in(client, "kari", "wrong-password-again").status_code == 401
        refused = sign_in(client, "kari")
        assert refused.status_code == 429
        wait = int(refused.headers["retry-after"])
        assert 0 < wait <= site.settings.sign_in_window_minutes * 60
        assert "For mange forsøk" in refused.text
        assert "switchboard_session" not in refused.headers.get("set-cookie", "")
        # Per account: another account from the same address is not held up.
        assert sign_in(client, "mona").status_code == 303
    # The window passing is Redis forgetting the count.
    for key in redis_client.scan_iter(LIMITS_PREFIX + "account:*"):
        redis_client.delete(key)
    with site.client() as client:
        assert sign_in(client, "kari").status_code == 303


def test_one_address_guessing_at_many_accounts_is_held_up(tmp_path: Path, redis_url: str) -> None:
    with live_site(tmp_path, redis_url, sign_in_failures_per_address=3) as site:
        with site.client() as client:
            for name in ("anne", "bjorn", "cato"):
                assert sign_in(client, name, "guess-guess-guess").status_code == 401
            assert sign_in(client, "kari").status_code == 429


def _redis_text(client: redis.Redis) -> str:
    """Every key and value in Redis, as one text."""
    parts: list[str] = []
    for key in client.scan_iter():
        kind = client.type(key)
        kind = kind.decode() if isinstance(kind, bytes) else kind
        value: object
        if kind == "string":
            value = client.get(key)
        elif kind == "hash":
            value = client.hgetall(key)
        elif kind == "list":
            value = client.lrange(key, 0, -1)
        elif kind == "set":
            value = client.smembers(key)
        elif kind == "zset":
            value = client.zrange(key, 0, -1)
        elif kind == "stream":
            value = client.xrange(key)
        else:
            value = kind
        parts.append(f"{key!r} {value!r}")
    return "\n".join(parts)


def test_the_password_is_never_logged_nor_kept_in_redis(
    site: Site, redis_client: redis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "wrong-" + PASSWORD
    access = logging.getLogger("uvicorn.access")
    access.addHandler(caplog.handler)
    previous = access.level
    access.setLevel(logging.DEBUG)
    try:
        with caplog.at_level(logging.DEBUG), site.client() as client:
            assert sign_in(client, "kari", wrong).status_code == 401
            assert sign_in(client, "kari").status_code == 303
    finally:
        access.removeHandler(caplog.handler)
        access.setLevel(previous)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "/agent/login" in logged  # the access log was captured
    assert PASSWORD not in logged
    stored = _redis_text(redis_client)
    assert "switchboard:session:" in stored  # the session is there
    assert PASSWORD not in stored


def test_a_role_that_may_not_see_a_page_gets_a_page_that_says_so(site: Site) -> None:
    with site.client() as client:
        sign_in(client, "kari")
        audit = client.get("/reports/audit")
        assert audit.status_code == 403
        assert "text/html" in audit.headers["content-type"]
        assert "Rolla di gjev ikkje tilgang til denne sida." in audit.text
        # The API keeps its JSON.
        api = client.get("/api/stats")
        assert api.headers["content-type"].startswith("application/json")


def test_without_redis_sign_in_says_so_in_norwegian(tmp_path: Path) -> None:
    nowhere = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    with live_site(tmp_path, nowhere) as site, site.client() as client:
        answer = sign_in(client, "kari")
        assert answer.status_code == 503
        assert "Innlogginga er ikkje tilgjengeleg" in answer.text
        assert "switchboard_session" not in answer.headers.get("set-cookie", "")
        client.cookies.set("switchboard_session", "a-session-from-before-redis-went-away")
        page = client.get("/agent/")
        assert page.status_code == 503
        assert "text/html" in page.headers["content-type"]
        assert "sesjonslageret" in page.text
