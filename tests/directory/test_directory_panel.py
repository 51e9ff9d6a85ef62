"""The directory panel in Chromium, keyboard only: an agent talking with a caller at 13:57
sees the departments, and "Set over" to byggesak (closes at 14:00) opens the transfer guard,
which axe-core finds no serious problem in; Escape cancels and gives the focus back.
The guard's picture in docs/ is the dialog as it is (UPDATE_SCREENSHOTS=1 renews it).
With the simulator playing a caller bridged to the agent, the guard's SMS reaches the caller
and "Set over likevel" puts the caller through to the department."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from playwright.sync_api import BrowserContext, Page, expect

from ivr.call import AgentTalking, AgentWaiting
from sim.call_trial import AGENT_LINE, simulator_for
from sim.twilio import Department, SimulatedRest, TwilioSimulator, press, talk
from switchboard.accounts import add_account
from switchboard.app import create_app
from switchboard.livestate import LiveState
from switchboard.twilio_rest import twilio_client
from tests.fixtures.agents import CLIENT_AGENT
from tests.fixtures.browser import accessibility_problems
from tests.fixtures.calls import OSLO
from tests.pages.browsing import sign_in_with_browser
from tests.pages.site import PASSWORD, Site, live_site
from tests.switchboard.apphost import make_settings

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "transfer-guard.png"
NOW = datetime(2026, 11, 25, 13, 57, tzinfo=OSLO)  # a Wednesday; byggesak closes at 14:00
AGENT_LEG = "CA" + "a" * 32
CALLER = "CA" + "c" * 32
BYGGESAK_BUTTON = "Set over til byggesak, plan og oppmåling"


MOBILE = "+4791234567"
MAIN = "+4756375000"
BYGGESAK = "+4756375101"


def add_agent(site: Site) -> None:
    add_account(
        site.engine,
        username="siri",
        display_name="Siri Sentralbord",
        role="agent",
        agent_id="sentralbord",
        password=PASSWORD,
    )


@pytest.fixture
def site(tmp_path: Path, redis_url: str) -> Iterator[Site]:
    with live_site(tmp_path, redis_url) as live:
        add_agent(live)
        yield live


@pytest.fixture
def bridged(tmp_path: Path, redis_url: str) -> Iterator[tuple[Site, TwilioSimulator, Any]]:
    """The site with Twilio simulated: at 13:57 a caller who pressed 0 talks with the agent."""
    settings = make_settings(tmp_path, redis_url)
    rest = SimulatedRest(
        account_sid=settings.twilio_account_sid, auth_token=settings.auth_tokens[0]
    )
    app = create_app(
        settings, twilio=twilio_client(settings, http_client=rest), simulated_clock=True
    )
    with live_site(tmp_path, redis_url, build=lambda _settings: app, settings=settings) as live:
        add_agent(live)
        sim = simulator_for(
            http=TestClient(app),
            settings=settings,
            config=app.state.services.ctx.config,
            start=NOW - timedelta(minutes=7),
            departments={BYGGESAK: Department.accepts("1")},
        )
        rest.attach(sim)
        sim.place_call(
            from_=CLIENT_AGENT, to=AGENT_LINE, script=[], at=sim.now + timedelta(seconds=1)
        )
        call = sim.place_call(from_=MOBILE, to=MAIN, script=[press("0"), talk(900), talk(30)])
        sim.run_until(NOW)
        assert f"CONNECTED with {CLIENT_AGENT}" in call.transcript_text()
        yield live, sim, call


def talking_with_a_caller(redis_url: str) -> None:
    """The agent's leg is on the agent line and a caller was bridged to it, as the webhooks
    leave it in live state."""
    live = LiveState(redis.Redis.from_url(redis_url))
    live.apply(
        [
            AgentWaiting(agent_id="sentralbord", call_sid=AGENT_LEG, seconds=20),
            AgentTalking(call_sid=AGENT_LEG, caller_sid=CALLER),
        ],
        at=NOW,
    )


def focus_label(page: Page) -> str:
    return str(
        page.evaluate(
            "() => document.activeElement.getAttribute('aria-label') "
            "|| document.activeElement.id || document.activeElement.textContent.trim()"
        )
    )


def tab_to(page: Page, target: str, *, most: int = 40) -> None:
    for _ in range(most):
        page.keyboard.press("Tab")
        if focus_label(page) == target:
            return
    raise AssertionError(f"{target!r} never got the focus; last: {focus_label(page)!r}")


def test_set_over_to_a_department_closing_in_three_minutes_shows_the_guard(
    site: Site, browser_context: BrowserContext, redis_url: str
) -> None:
    talking_with_a_caller(redis_url)
    page = browser_context.new_page()
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in_with_browser(page, site, "siri")
    browser_context.set_extra_http_headers({"x-simulated-time": NOW.isoformat()})
    page.goto(site.url + "/agent/directory")

    rows = page.locator("#directory-rows tr")
    expect(rows).to_have_count(6)
    byggesak = rows.filter(has_text="byggesak, plan og oppmåling")
    expect(byggesak).to_contain_text("+4756375101")
    expect(byggesak).to_contain_text("Ope til 14:00")
    expect(byggesak).to_contain_text("Stengjer snart")
    expect(rows.filter(has_text="barnehage og skule")).to_contain_text("Ingen")
    assert accessibility_problems(page) == []

    tab_to(page, BYGGESAK_BUTTON)
    page.keyboard.press("Enter")
    guard = page.get_by_role("dialog", name="Vent før du set over til byggesak, plan og oppmåling")
    expect(guard).to_be_visible()
    expect(guard).to_contain_text("Avdelinga stengjer om 3 minutt (14:00).")
    expect(guard.get_by_role("button", name="Tilbakeringing frå avdelinga")).to_be_focused()
    expect(guard.get_by_role("button", name="SMS med lenkje til sjølvbetening")).to_be_visible()
    expect(guard.get_by_role("button", name="Set over likevel")).to_be_visible()
    assert accessibility_problems(page) == []

    picture = page.screenshot(type="png")
    assert len(picture) > 10_000
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        SCREENSHOT.write_bytes(picture)
    assert SCREENSHOT.exists(), "make it once: UPDATE_SCREENSHOTS=1 pytest tests/directory"

    page.keyboard.press("Tab")
    expect(guard.get_by_role("button", name="SMS med lenkje til sjølvbetening")).to_be_focused()
    page.keyboard.press("Escape")
    expect(guard).to_be_hidden()
    assert focus_label(page) == BYGGESAK_BUTTON
    expect(page.get_by_role("status")).to_have_text("Du sette ikkje over.")


def test_an_agent_with_no_caller_is_told_there_is_no_one_to_transfer(
    site: Site, browser_context: BrowserContext
) -> None:
    page = browser_context.new_page()
    sign_in_with_browser(page, site, "siri")
    browser_context.set_extra_http_headers({"x-simulated-time": NOW.isoformat()})
    page.goto(site.url + "/agent/directory?lang=en")
    button = page.get_by_role("button", name="Transfer to NAV Alver")
    expect(button).to_be_visible()
    expect(page.locator("#directory-rows tr").first).to_contain_text("Open until 14:00")
    assert accessibility_problems(page) == []
    button.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text(
        "You are not talking with a caller now, so there is no one to transfer."
    )
    expect(page.get_by_role("dialog")).to_have_count(0)


def test_the_guard_sends_the_sms_or_goes_ahead_for_the_caller_on_the_line(
    bridged: tuple[Site, TwilioSimulator, Any], browser_context: BrowserContext
) -> None:
    site, sim, call = bridged
    page = browser_context.new_page()
    sign_in_with_browser(page, site, "siri")
    browser_context.set_extra_http_headers({"x-simulated-time": NOW.isoformat()})
    page.goto(site.url + "/agent/directory")
    guard = page.get_by_role("dialog")

    tab_to(page, BYGGESAK_BUTTON)
    page.keyboard.press("Enter")
    expect(guard).to_be_visible()
    page.keyboard.press("Tab")  # from the callback to the SMS
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text("SMS med lenkje er send til +47 ••• •• 567.")
    expect(guard).to_be_hidden()
    assert focus_label(page) == BYGGESAK_BUTTON

    page.keyboard.press("Enter")
    expect(guard).to_be_visible()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # to "Set over likevel"
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text(
        "Innringaren er sett over til byggesak, plan og oppmåling."
    )
    sim.run()
    assert f"CONNECTED with {BYGGESAK}" in call.transcript_text()
