"""Staff sign in through the municipality's OpenID provider in a real browser (headless
Chromium): the link on the sign-in page, the provider's login page, and back with a session
whose role comes from the provider's claims."""

from __future__ import annotations

import re

from playwright.sync_api import BrowserContext, Page

from switchboard.audit import entries
from switchboard.db import make_engine
from tests.fixtures.oidc import LEAD, LEAD_DEPARTMENT, MANAGER, NO_ROLE, OidcApp


def sign_in_at_provider(page: Page, app: OidcApp, login: str) -> None:
    page.goto(app.url + "/agent/login/oidc?next=/agent/")
    page.wait_for_url(re.compile(r"/interaction/"))  # the provider's own login page
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", "any password")
    page.click("button[type=submit]")


def audit(app: OidcApp, action: str) -> list[tuple[str, dict[str, object]]]:
    engine = make_engine(app.settings.sqlalchemy_url)
    try:
        return [(entry.actor, entry.detail) for entry in entries(engine, action=action)]
    finally:
        engine.dispose()


def test_a_manager_signs_in_through_the_provider(
    oidc_app: OidcApp, browser_context: BrowserContext
) -> None:
    page = browser_context.new_page()
    sign_in_at_provider(page, oidc_app, MANAGER)
    page.wait_for_url(oidc_app.url + "/agent/")

    assert browser_context.request.get(oidc_app.url + "/api/stats").status == 200
    assert browser_context.request.get(oidc_app.url + "/api/returns").status == 200
    assert audit(oidc_app, "sign_in") == [(MANAGER, {"method": "oidc", "role": "manager"})]
    # The binding cookie has done its work and is gone; the session cookie is HttpOnly.
    cookies = {c["name"]: c for c in browser_context.cookies(oidc_app.url)}
    assert "switchboard_oidc" not in cookies
    assert cookies["switchboard_session"]["httpOnly"] is True


def test_a_department_lead_sees_only_their_department(
    oidc_app: OidcApp, browser_context: BrowserContext
) -> None:
    page = browser_context.new_page()
    sign_in_at_provider(page, oidc_app, LEAD)
    page.wait_for_url(oidc_app.url + "/agent/")

    stats = oidc_app.url + "/api/stats?department="
    assert browser_context.request.get(stats + LEAD_DEPARTMENT).status == 200
    assert browser_context.request.get(stats + "barnehage_skule").status == 403
    assert audit(oidc_app, "sign_in") == [(LEAD, {"method": "oidc", "role": "department_lead"})]


def test_a_person_without_a_role_is_sent_back_to_the_sign_in_page(
    oidc_app: OidcApp, browser_context: BrowserContext
) -> None:
    page = browser_context.new_page()
    sign_in_at_provider(page, oidc_app, NO_ROLE)
    page.wait_for_url(oidc_app.url + "/agent/login?error=oidc_no_role")

    assert browser_context.request.get(oidc_app.url + "/api/stats").status == 401
    assert audit(oidc_app, "sign_in") == []
    assert audit(oidc_app, "sign_in_failed") == [
        (NO_ROLE, {"method": "oidc", "why": "no_mapped_role"})
    ]


def test_a_second_sign_in_in_the_same_browser_starts_a_new_session(
    oidc_app: OidcApp, browser_context: BrowserContext
) -> None:
    page = browser_context.new_page()
    sign_in_at_provider(page, oidc_app, MANAGER)
    page.wait_for_url(oidc_app.url + "/agent/")
    first = {c["name"]: c["value"] for c in browser_context.cookies(oidc_app.url)}

    # The provider remembers the person: no login page the second time.
    page.goto(oidc_app.url + "/agent/login/oidc?next=/api/returns")
    page.wait_for_url(oidc_app.url + "/api/returns")
    second = {c["name"]: c["value"] for c in browser_context.cookies(oidc_app.url)}

    assert second["switchboard_session"] != first["switchboard_session"]
    assert browser_context.request.get(oidc_app.url + "/api/stats").status == 200
    assert len(audit(oidc_app, "sign_in")) == 2
