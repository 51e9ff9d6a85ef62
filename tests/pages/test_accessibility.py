"""axe-core finds no serious or critical problem on any staff page, in Nynorsk or English; and
the sign-in page's picture in the docs is the page as it is (UPDATE_SCREENSHOTS=1 renews it)."""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.fixtures.browser import accessibility_problems
from tests.pages.site import PASSWORD, Site, add_return, live_site
from tests.switchboard.apphost import LEAD_DEPARTMENT

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "sign-in.png"
HEADINGS = {
    "nn": ("Logg inn", "Framsida", "Revisjonslogg", "Returnerte samtalar"),
    "en": ("Sign in", "Home", "Audit log", "Returned calls"),
}


@pytest.fixture
def site(tmp_path: Path, redis_url: str) -> Iterator[Site]:
    with live_site(tmp_path, redis_url) as live:
        yield live


def _check(page: Page, language: str, heading: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    assert page.locator("html").get_attribute("lang") == language
    assert accessibility_problems(page) == [], page.url


@pytest.mark.parametrize("language", ["nn", "en"])
def test_every_page_passes_axe(site: Site, browser_context: BrowserContext, language: str) -> None:
    add_return(
        site.engine, "t-1", department=LEAD_DEPARTMENT, at=datetime.now(UTC) - timedelta(hours=1)
    )
    sign_in, home, audit, returns = HEADINGS[language]
    page = browser_context.new_page()
    page.goto(site.url + f"/agent/login?lang={language}")
    _check(page, language, sign_in)

    page.locator("#username").fill("mona")
    page.locator("#password").fill("not the password")
    page.locator("#password").press("Enter")
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.locator("#username")).to_have_attribute("aria-describedby", "sign-in-error")
    _check(page, language, sign_in)

    page.locator("#password").fill(PASSWORD)
    page.locator("#password").press("Enter")
    page.wait_for_url(site.url + "/agent/")
    _check(page, language, home)  # the language stayed: the cookie remembers it

    page.goto(site.url + "/reports/audit?actor=mona")
    expect(page.locator("tbody tr")).not_to_have_count(0)
    _check(page, language, audit)

    page.goto(site.url + "/reports/returns")
    expect(page.locator("tbody tr")).to_have_count(1)
    _check(page, language, returns)


def _distinct_bytes(png: bytes) -> int:
    """How many different byte values the decompressed image data holds: a blank picture has
    a handful, a page with text and colours has many."""
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    at, data = 8, b""
    while at < len(png):
        (length,) = struct.unpack(">I", png[at : at + 4])
        kind = png[at + 4 : at + 8]
        if kind == b"IDAT":
            data += png[at + 8 : at + 8 + length]
        at += 12 + length
    return len(set(zlib.decompress(data)))


def test_the_sign_in_page_picture(site: Site, browser_context: BrowserContext) -> None:
    page = browser_context.new_page()
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(site.url + "/agent/login")
    expect(page.get_by_role("button", name="Logg inn")).to_be_visible()
    picture = page.screenshot(type="png")
    assert _distinct_bytes(picture) > 32
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        SCREENSHOT.write_bytes(picture)
    assert SCREENSHOT.exists(), "make it once: UPDATE_SCREENSHOTS=1 pytest tests/pages -k picture"
