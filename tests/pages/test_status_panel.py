"""The agent status panel in headless Chromium, against a live app: an agent signs in, pauses
with a reason from the keyboard alone, sees the change, and the API agrees."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, expect

from switchboard.accounts import add_account
from tests.fixtures.browser import accessibility_problems
from tests.pages.browsing import focused, sign_in_with_browser, tab_to
from tests.pages.site import PASSWORD, Site, live_site
from tests.switchboard.apphost import auth


@pytest.fixture
def site(tmp_path: Path, redis_url: str) -> Iterator[Site]:
    with live_site(tmp_path, redis_url) as live:
        add_account(
            live.engine,
            username="siri",
            display_name="Siri Svarar",
            role="agent",
            agent_id="sentralbord-1",
            password=PASSWORD,
        )
        yield live


def statuses(site: Site) -> dict[str, tuple[str, str | None]]:
    with site.client() as client:
        response = client.get("/api/agents", headers=auth("manager"))
    assert response.status_code == 200, response.text
    return {a["id"]: (a["status"], a["reason"]) for a in response.json()["agents"]}


def test_an_agent_pauses_with_a_reason_using_the_keyboard(
    site: Site, browser_context: BrowserContext
) -> None:
    page = browser_context.new_page()
    sign_in_with_browser(page, site, "siri")
    page.goto(site.url + "/agent/status")
    panel = page.locator("[data-status-panel]")
    expect(panel.get_by_role("heading", level=2)).to_have_text("Statusen din")
    # Never on the agent line: off it. The colleagues are listed with their status.
    expect(page.locator("#status-now")).to_have_text("Logga av linja")
    expect(panel.locator("li[data-agent='sentralbord-2']")).to_contain_text(
        "Sentralbordet, telefon 2: Logga av linja, ikkje på linja"
    )
    assert accessibility_problems(page) == []

    tab_to(page, "status-reason")
    page.keyboard.press("ArrowDown")  # lunsj -> møte
    expect(page.locator("#status-reason")).to_have_value("meeting")
    page.keyboard.press("Tab")
    assert focused(page) == "status-pause"
    page.keyboard.press("Enter")

    expect(page.locator("#status-now")).to_have_text("Pause (møte)")
    expect(page.get_by_role("status")).to_have_text("Statusen er endra.")
    assert statuses(site)["sentralbord-1"] == ("paused", "meeting")
    assert accessibility_problems(page) == []

    page.keyboard.press("Shift+Tab")  # back past the reason to "Klar"
    page.keyboard.press("Shift+Tab")
    assert focused(page) == "status-ready"
    page.keyboard.press("Enter")
    expect(page.locator("#status-now")).to_have_text("Klar")
    assert statuses(site)["sentralbord-1"] == ("ready", None)


def test_a_manager_sees_the_panel_without_buttons(
    site: Site, browser_context: BrowserContext
) -> None:
    page = browser_context.new_page()
    sign_in_with_browser(page, site, "mona")
    page.goto(site.url + "/agent/status")
    expect(page.locator("[data-status-panel]")).to_contain_text(
        "Du er ikkje sett opp som agent på sentralbordet"
    )
    expect(page.locator("[data-status-panel] li[data-agent='sentralbord-1']")).to_contain_text(
        "Logga av linja"
    )
    assert page.locator("#status-pause").count() == 0
