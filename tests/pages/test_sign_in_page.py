"""What the sign-in page says and offers, over HTTP: its messages, the organisation-account
link when OpenID Connect is set up, and the language choice, remembered."""

from __future__ import annotations

import html
from collections.abc import Iterator
from pathlib import Path

import pytest

from ivr.config import LANGUAGES
from switchboard.access import ROLES
from switchboard.audit import ACTIONS
from switchboard.pages.wording import ACTION_LABELS, ROLE_LABELS, WORDING
from tests.pages.site import Site, live_site, sign_in


@pytest.fixture
def site(tmp_path: Path, redis_url: str) -> Iterator[Site]:
    with live_site(tmp_path, redis_url) as live:
        yield live


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("signed_out=1", "Du er logga ut."),
        ("expired=1", "Du vart logga ut fordi du ikkje hadde gjort noko på ei stund."),
        ("error=oidc_failed", "Innlogginga med organisasjonskontoen gjekk ikkje."),
        ("error=oidc_no_role", "Organisasjonskontoen din har ikkje tilgang til sentralbordet."),
        ("error=state_mismatch", "Innlogginga med organisasjonskontoen gjekk ikkje."),
    ],
)
def test_the_sign_in_page_says_why_you_are_there(site: Site, query: str, message: str) -> None:
    with site.client() as client:
        page = client.get(f"/agent/login?{query}")
    assert page.status_code == 200
    assert message in page.text


def test_without_openid_connect_there_is_no_organisation_account_link(site: Site) -> None:
    with site.client() as client:
        page = client.get("/agent/login")
    assert "/agent/login/oidc" not in page.text


def test_with_openid_connect_the_page_links_to_it_and_keeps_the_way_back(
    tmp_path: Path, redis_url: str
) -> None:
    with (
        live_site(tmp_path, redis_url, oidc_issuer="https://login.alver.example") as site,
        site.client() as client,
    ):
        page = client.get("/agent/login", params={"next": "/reports/audit", "lang": "nb"})
    assert 'href="/agent/login/oidc?next=%2Freports%2Faudit"' in page.text
    assert "Logg inn med organisasjonskontoen" in page.text


def test_a_page_asked_for_before_signing_in_comes_back_after(site: Site) -> None:
    with site.client() as client:
        asked = client.get("/reports/returns?days=7")
        assert asked.status_code == 303
        assert asked.headers["location"] == "/agent/login?next=%2Freports%2Freturns%3Fdays%3D7"
        answer = sign_in(client, "kari", next_path="/reports/returns?days=7")
        assert answer.headers["location"] == "/reports/returns?days=7"
        # Never to another site.
        elsewhere = sign_in(client, "kari", next_path="https://evil.example/")
        assert elsewhere.headers["location"] == "/agent/"


def test_the_language_asked_for_is_remembered(site: Site) -> None:
    with site.client() as client:
        english = client.get("/agent/login?lang=en")
        assert '<html lang="en">' in english.text
        assert "Sign in" in english.text
        cookie = english.headers["set-cookie"]
        assert cookie.startswith("switchboard_lang=en;")
        assert "HttpOnly" in cookie
        assert "samesite=lax" in cookie.lower()
        sign_in(client, "mona")
        home = client.get("/agent/")
        assert '<html lang="en">' in home.text
        assert "Switchboard manager" in home.text
        bokmal = client.get("/agent/?lang=nb")
        assert '<html lang="nb">' in bokmal.text
        assert "Leder for sentralbordet" in bokmal.text


def test_the_home_page_offers_what_the_role_may_see(site: Site) -> None:
    offered = {}
    for username in ("kari", "lars", "mona", "otto"):
        with site.client() as client:
            sign_in(client, username)
            page = html.unescape(client.get("/agent/").text)
        offered[username] = ("/reports/returns" in page, "/reports/audit" in page)
        if username == "otto":
            assert "Rolla di gjev ikkje tilgang til samtaledata." in page
    assert offered == {
        "kari": (True, False),
        "lars": (True, False),
        "mona": (True, True),
        "otto": (False, False),
    }


def test_every_text_and_label_is_there_in_every_language() -> None:
    keys = set(WORDING["nn"])
    for language in LANGUAGES:
        assert set(WORDING[language]) == keys, language
        assert set(ROLE_LABELS[language]) == set(ROLES), language
        assert set(ACTION_LABELS[language]) == set(ACTIONS), language
