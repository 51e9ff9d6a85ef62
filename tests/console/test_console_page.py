"""The console page itself: axe-core finds no serious or critical problem with a returned
caller shown, every action works from the keyboard, and the screenshot in docs/."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
from playwright.sync_api import BrowserContext, expect

from tests.console.conftest import (
    Console,
    bounced_caller,
    run_until_queued,
    switchboard_caller,
)
from tests.fixtures.browser import accessibility_problems
from tests.pages.browsing import focused, sign_in_with_browser
from tests.pages.site import sign_in

SCREENSHOT = Path(__file__).parents[2] / "docs" / "console-queue.png"
PNG = b"\x89PNG\r\n\x1a\n"


def test_the_console_with_a_returned_caller_passes_axe_and_works_by_keyboard(
    console: Console, browser_context: BrowserContext
) -> None:
    page = browser_context.new_page()
    console.open(page)
    sim = console.simulator()
    waiting = switchboard_caller(sim, "+4798765432", after=0)
    caller = bounced_caller(sim, "+4791234567", after=1)
    run_until_queued(sim, caller, "sentralbord-retur", within=90)
    expect(page.locator(f'li[data-call-sid="{waiting.sid}"]')).to_be_visible()
    item = page.locator(f'li[data-call-sid="{caller.sid}"]')
    expect(item.locator(".flag")).to_contain_text("Kom i retur frå barnehage og skule")

    assert accessibility_problems(page) == []

    # Tab to "Ta denne": the focus ring shows; Enter takes; the answer is read out politely.
    console.keep_time(browser_context, sim.now)
    button = item.get_by_role("button", name="Ta innringar")
    for _ in range(20):
        page.keyboard.press("Tab")
        if button.evaluate("b => b === document.activeElement"):
            break
    else:
        raise AssertionError(f"'Ta denne' never got the focus; last: {focused(page)!r}")
    ring = page.evaluate("() => getComputedStyle(document.activeElement).outline")
    assert ring == "rgb(255, 191, 71) solid 3px"
    page.keyboard.press("Enter")
    announce = page.locator("#queue-announce")
    expect(announce).to_have_text("Du er ikkje kopla til agentlinja. Ring inn først.")
    assert announce.get_attribute("aria-live") == "polite"
    expect(button).to_be_enabled()  # nothing happened: it can be tried again

    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        page.locator("#live-queue").screenshot(path=str(SCREENSHOT))
    image = page.locator("#live-queue").screenshot()
    assert image.startswith(PNG)
    assert SCREENSHOT.read_bytes().startswith(PNG)


def test_a_manager_reads_the_console_and_takes_nobody(
    console: Console, browser_context: BrowserContext
) -> None:
    page = browser_context.new_page()
    sign_in_with_browser(page, console.site, "mona", path="/agent/login?next=/agent/console")
    expect(page.get_by_role("heading", level=1)).to_have_text("Konsollen")
    expect(page.locator("#live-queue")).to_contain_text("Du ser køen, men tek ikkje innringarar.")
    expect(page.locator("#return-tags")).to_have_count(0)
    # Other roles keep their home page; the console is for agents and managers only.
    with httpx.Client(base_url=console.url) as client:
        assert sign_in(client, "otto").status_code == 303
        assert client.get("/agent/console").status_code == 403
        assert "Framsida" in client.get("/agent/").text
