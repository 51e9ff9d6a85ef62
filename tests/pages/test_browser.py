"""The staff pages end to end in headless Chromium, against a live app."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import BrowserContext, expect
from sqlalchemy.orm import Session

from switchboard.audit import entries, record
from switchboard.pseudonym import caller_pseudonym
from tests.pages.browsing import focused, sign_in_with_browser, tab_to
from tests.pages.site import OTHER_DEPARTMENT, PASSWORD, Site, add_return, live_site
from tests.switchboard.apphost import LEAD_DEPARTMENT

OSLO = ZoneInfo("Europe/Oslo")


@pytest.fixture
def site(tmp_path: Path, redis_url: str) -> Iterator[Site]:
    with live_site(tmp_path, redis_url) as live:
        yield live


def test_signing_in_and_out_with_the_keyboard_alone(
    site: Site, browser_context: BrowserContext
) -> None:
    page = browser_context.new_page()
    page.goto(site.url + "/agent/login")
    page.keyboard.press("Tab")
    assert focused(page) == "Gå til hovudinnhaldet"  # the skip link comes first
    tab_to(page, "username")
    # The focus can be seen: the stylesheet's thick ring, not the browser's thin default.
    ring = page.evaluate("() => getComputedStyle(document.activeElement).outline")
    assert ring == "rgb(255, 191, 71) solid 3px"
    page.keyboard.type("kari")
    page.keyboard.press("Tab")
    assert focused(page) == "password"
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")

    page.wait_for_url(site.url + "/agent/")
    # An agent's home is the console (tests/console): the live queue.
    expect(page.get_by_role("heading", level=1)).to_have_text("Konsollen")
    expect(page.locator("form.sign-out")).to_contain_text("Kari Nordmann")
    expect(page.get_by_role("heading", level=2, name="Køen no")).to_be_visible()
    cookie = next(
        c["value"] for c in browser_context.cookies() if c["name"] == "switchboard_session"
    )

    tab_to(page, "Logg ut")
    page.keyboard.press("Enter")
    page.wait_for_url(site.url + "/agent/login?signed_out=1")
    expect(page.get_by_role("status")).to_have_text("Du er logga ut.")

    # The cookie the browser had, replayed, opens nothing.
    with site.client() as replay:
        replay.cookies.set("switchboard_session", cookie)
        assert replay.get("/agent/").status_code == 303
        replay.cookies.set("switchboard_session", cookie)
        assert replay.get("/api/returns").status_code == 401


def test_an_idle_session_ends_and_the_sign_in_page_says_why(
    site: Site, browser_context: BrowserContext
) -> None:
    page = browser_context.new_page()
    sign_in_with_browser(page, site, "mona")
    idle = timedelta(minutes=site.settings.session_idle_minutes)
    start = datetime.now(UTC)

    # Use keeps the session: 20 minutes on, then 20 more (40 after signing in).
    for later in (timedelta(minutes=20), timedelta(minutes=40)):
        browser_context.set_extra_http_headers({"x-simulated-time": (start + later).isoformat()})
        page.goto(site.url + "/reports/returns")
        expect(page.get_by_role("heading", level=1)).to_have_text("Returnerte samtalar")

    # Then nothing for longer than the idle time.
    moment = start + timedelta(minutes=40) + idle + timedelta(minutes=1)
    browser_context.set_extra_http_headers({"x-simulated-time": moment.isoformat()})
    page.goto(site.url + "/reports/returns")
    assert page.url.startswith(site.url + "/agent/login?expired=1")
    expect(page.get_by_role("status")).to_contain_text("Du vart logga ut fordi")
    # Signing in again leads back to the page asked for.
    page.locator("#username").fill("mona")
    page.locator("#password").fill(PASSWORD)
    page.locator("#password").press("Enter")
    page.wait_for_url(site.url + "/reports/returns")


def test_a_department_lead_sees_only_their_own_department(
    site: Site, browser_context: BrowserContext
) -> None:
    hour_ago = datetime.now(UTC) - timedelta(hours=1)
    add_return(site.engine, "own-1", department=LEAD_DEPARTMENT, at=hour_ago)
    add_return(site.engine, "other-1", department=OTHER_DEPARTMENT, at=hour_ago)
    page = browser_context.new_page()
    sign_in_with_browser(page, site, "lars")
    expect(page.locator("main")).to_contain_text("Avdelingsleiar")
    expect(page.locator("main")).to_contain_text("Returnerte samtalar i dag: 1")

    page.goto(site.url + "/reports/returns")
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("byggesak, plan og oppmåling")
    expect(page.locator("main")).not_to_contain_text("barnehage og skule")
    expect(page.locator("#department option")).to_have_count(1)

    refused = page.goto(site.url + f"/reports/returns?department={OTHER_DEPARTMENT}")
    assert refused is not None
    assert refused.status == 403
    expect(page.locator("main")).to_contain_text("Du kan berre sjå samtalane til di eiga avdeling.")

    # The API, from the same signed-in browser, holds the same line.
    api = page.request.get(site.url + f"/api/returns?department={OTHER_DEPARTMENT}")
    assert api.status == 403
    own = page.request.get(site.url + "/api/returns").json()
    assert [row["department"] for row in own] == [LEAD_DEPARTMENT]


def _seed_audit(site: Site) -> str:
    """Entries over a few days; the number's pseudonym is returned."""
    subject = caller_pseudonym("+4791234567", key=site.settings.caller_key)
    other = caller_pseudonym("+4798765432", key=site.settings.caller_key)
    seeded = [
        ("kari", "sign_in", None, datetime(2026, 12, 1, 9, 0, tzinfo=OSLO)),
        ("kari", "sign_in", None, datetime(2026, 12, 2, 0, 30, tzinfo=OSLO)),  # 1 Dec in UTC
        ("mona", "sign_in", None, datetime(2026, 12, 3, 10, 0, tzinfo=OSLO)),
        ("kari", "sign_out", None, datetime(2026, 12, 3, 11, 0, tzinfo=OSLO)),
        ("kari", "number_read", subject, datetime(2026, 12, 4, 23, 30, tzinfo=OSLO)),  # 22:30 UTC
        ("kari", "number_read", other, datetime(2026, 12, 5, 8, 0, tzinfo=OSLO)),
        ("=HYPERLINK(1)", "sign_in_failed", None, datetime(2026, 12, 3, 12, 0, tzinfo=OSLO)),
    ]
    with Session(site.engine) as session, session.begin():
        for actor, action, about, at in seeded:
            record(session, actor=actor, action=action, subject=about, at=at)
    return subject


def test_the_audit_page_filters_and_exports_what_it_shows(
    site: Site, browser_context: BrowserContext
) -> None:
    subject = _seed_audit(site)
    page = browser_context.new_page()
    sign_in_with_browser(page, site, "mona")
    page.get_by_role("link", name="Revisjonslogg").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Revisjonslogg")

    # Kari, 2 to 4 December, local days: 00:30 on the 2nd and 23:30 on the 4th are in.
    page.get_by_label("Person").fill("kari")
    page.get_by_label("Frå dato").fill("2026-12-02")
    page.get_by_label("Til og med dato").fill("2026-12-04")
    page.get_by_role("button", name="Søk").click()
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("04.12.2026 23:30")
    expect(rows.nth(0)).to_contain_text("Lesing av telefonnummer")
    expect(rows.nth(2)).to_contain_text("02.12.2026 00:30")

    page.get_by_label("Handling").select_option("sign_out")
    page.get_by_role("button", name="Søk").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Utlogging")

    page.get_by_label("Handling").select_option("")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Last ned som CSV").click()
    download = download_info.value
    assert download.suggested_filename.startswith("audit-")
    assert download.suggested_filename.endswith(".csv")
    table = list(csv.reader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    assert table[0] == ["at", "actor", "action", "subject", "detail"]
    assert [(row[0], row[1], row[2]) for row in table[1:]] == [
        ("2026-12-04T23:30:00+01:00", "kari", "number_read"),
        ("2026-12-03T11:00:00+01:00", "kari", "sign_out"),
        ("2026-12-02T00:30:00+01:00", "kari", "sign_in"),
    ]

    # A citizen's number: matched through its pseudonym, never written back into the page
    # (but for the field), and the lookup is itself recorded.
    page.get_by_label("Person").fill("")
    page.get_by_label("Frå dato").fill("")
    page.get_by_label("Til og med dato").fill("")
    page.get_by_label("Telefonnummeret til ein innbyggjar").fill("912 34 567")
    page.get_by_role("button", name="Søk").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(subject[:12])
    assert "4791234567" not in page.content()
    lookups = entries(site.engine, action="privacy_find")
    assert [(e.actor, e.subject, e.detail["via"]) for e in lookups] == [
        ("mona", subject, "audit page")
    ]


def test_the_audit_csv_cannot_carry_a_formula(site: Site, browser_context: BrowserContext) -> None:
    _seed_audit(site)
    page = browser_context.new_page()
    sign_in_with_browser(page, site, "mona")
    page.goto(site.url + "/reports/audit?action=sign_in_failed")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Last ned som CSV").click()
    text = Path(download_info.value.path()).read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    assert [row[1] for row in rows[1:]] == ["'=HYPERLINK(1)"]


def test_a_bad_date_is_pointed_out_next_to_its_field(
    site: Site, browser_context: BrowserContext
) -> None:
    page = browser_context.new_page()
    sign_in_with_browser(page, site, "mona")
    answer = page.goto(site.url + "/reports/audit?from=2026-13-40&number=abc")
    assert answer is not None
    assert answer.status == 400
    expect(page.get_by_role("alert")).to_have_text("Rett opp filteret og søk på nytt.")
    expect(page.locator("#from")).to_have_attribute("aria-describedby", "from-error")
    expect(page.locator("#from-error")).to_have_text("Skriv datoen som ÅÅÅÅ-MM-DD.")
    expect(page.locator("#number")).to_have_attribute(
        "aria-describedby", "number-hint number-error"
    )
    expect(page.locator("#number-error")).to_have_text("Dette er ikkje eit telefonnummer.")
