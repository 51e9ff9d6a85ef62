"""Driving the staff pages in Chromium: signing in through the form, and reading the page."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.pages.site import PASSWORD, Site


def sign_in_with_browser(
    page: Page, site: Site, username: str, *, path: str = "/agent/login"
) -> None:
    """Sign in through the form and wait for the page it leads to."""
    page.goto(site.url + path)
    page.locator("#username").fill(username)
    page.locator("#password").fill(PASSWORD)
    page.locator("#password").press("Enter")
    expect(page.locator("form.sign-out")).to_be_visible()


def focused(page: Page) -> str:
    """What has the keyboard focus: its id, else its text."""
    return str(
        page.evaluate(
            "() => document.activeElement.id || document.activeElement.textContent.trim()"
        )
    )


def tab_to(page: Page, target: str, *, most: int = 15) -> None:
    """Press Tab until `target` (an id or a text) has the focus."""
    for _ in range(most):
        page.keyboard.press("Tab")
        if focused(page) == target:
            return
    raise AssertionError(f"{target!r} never got the focus; last: {focused(page)!r}")
