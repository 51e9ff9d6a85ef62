"""Tagging why a caller came back, from the console: one click, and the statistics count it."""

from __future__ import annotations

from datetime import timedelta

import httpx
from playwright.sync_api import BrowserContext, expect

from tests.console.conftest import Console, bounced_caller
from tests.switchboard.apphost import auth


def by_reason(console: Console, day: str, next_day: str) -> dict[str, int]:
    response = httpx.get(
        console.url + "/api/stats",
        params={"from": day, "to": next_day, "group_by": "reason"},
        headers=auth("manager"),
    )
    assert response.status_code == 200, response.text
    section = response.json()["transfers"]
    assert section["group_by"] == "reason"
    return {
        str(group["key"]): group["figures"]["returned"]["value"]
        for group in section["groups"]
        if group["figures"]["returned"]["value"]
    }


def test_a_tag_click_shows_in_the_statistics_by_reason(
    console: Console, browser_context: BrowserContext
) -> None:
    sim = console.simulator()
    early = bounced_caller(sim, "+4791234567", after=0, stays=60)
    late = bounced_caller(sim, "+4798765432", after=4000, stays=60)
    sim.run()
    console.ingest()
    page = browser_context.new_page()
    console.open(page, at=sim.now)

    tags = page.locator("#tag-list > li")
    expect(tags).to_have_count(1)  # the last hour's only
    expect(tags.first).to_have_attribute("data-call-sid", late.sid)
    assert early.sid != late.sid
    item = tags.first
    expect(item).to_contain_text("Kom i retur frå barnehage og skule · Avvist · oppteke")
    item.get_by_role("button", name="Feil avdeling").click()
    expect(page.locator("#tag-announce")).to_have_text("Lagra: Feil avdeling.")
    expect(item.locator(".tagged")).to_have_text("Grunn: Feil avdeling")

    local = sim.now.astimezone(console.config.zone).date()
    counted = by_reason(console, local.isoformat(), (local + timedelta(days=1)).isoformat())
    assert counted.get("wrong_department") == 1, counted

    # Other, with a short note: typed, then one click.
    item.get_by_label("Merknad (for «Anna»)").fill("Ville snakke med rådmannen")
    item.get_by_role("button", name="Anna", exact=True).click()
    expect(page.locator("#tag-announce")).to_have_text("Lagra: Anna.")
    counted = by_reason(console, local.isoformat(), (local + timedelta(days=1)).isoformat())
    assert (counted.get("other"), counted.get("wrong_department")) == (1, None), counted
