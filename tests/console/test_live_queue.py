"""The console's live queue in Chromium, with the simulator playing the calls against the
live app: callers appear within a second, returned callers are flagged, and "Ta denne" takes
the chosen one ahead of the queue."""

from __future__ import annotations

import time
from datetime import timedelta

from playwright.sync_api import BrowserContext, Locator, expect

from sim.call_trial import place_agent
from sim.twilio import press, talk
from switchboard.access import Principal
from switchboard.staff_sessions import cookie_name
from tests.console.conftest import (
    MAIN,
    Console,
    at,
    bounced_caller,
    client_agent,
    run_until_queued,
    switchboard_caller,
)
from tests.fixtures.agents import AGENT_NUMBER, CLIENT_AGENT, PIN

FIRST, SECOND = "+4791234567", "+4798765432"


def test_a_caller_appears_within_a_second_of_the_webhook(
    console: Console, browser_context: BrowserContext
) -> None:
    page = browser_context.new_page()
    console.open(page)
    expect(page.locator("#queue-empty")).to_have_text("Ingen ventar.")
    sim = console.simulator()
    caller = switchboard_caller(sim, FIRST, after=5)

    run_until_queued(sim, caller, "sentralbord", within=60)
    enqueued = time.monotonic()
    item = page.locator(f'li[data-call-sid="{caller.sid}"]')
    expect(item).to_be_visible(timeout=1000)
    assert time.monotonic() - enqueued < 1.0

    expect(item.locator(".place")).to_have_text("Nr. 1")
    expect(item.locator(".queue-name")).to_have_text("Sentralbordet")
    expect(item.locator(".flag")).to_be_hidden()
    expect(item.locator(".path")).to_have_text("Tasta 0: sentralbordet")
    # The caller's pseudonym's short form, never the number.
    expect(page.locator("#live-queue")).not_to_contain_text("91234567")
    expect(page.locator("#queue-announce")).to_contain_text("Ny innringar i køen")
    # The wait ticks on the page's own clock.
    waited = item.locator(".waited")
    expect(waited).to_contain_text("min")
    first = waited.inner_text()
    expect(waited).not_to_have_text(first, timeout=3000)


def test_a_returned_caller_is_flagged_and_taken_ahead_of_the_queue(
    console: Console, browser_context: BrowserContext
) -> None:
    page = browser_context.new_page()
    console.open(page)
    sim = console.simulator()
    agent = client_agent(sim, after=0)  # idle on the main queue before anyone returns
    first = bounced_caller(sim, FIRST, after=1)
    second = bounced_caller(sim, SECOND, after=10)
    run_until_queued(sim, second, "sentralbord-retur", within=90)

    first_item = page.locator(f'li[data-call-sid="{first.sid}"]')
    second_item = page.locator(f'li[data-call-sid="{second.sid}"]')
    expect(second_item).to_be_visible(timeout=1000)
    expect(first_item.locator(".place")).to_have_text("Nr. 1")
    expect(second_item.locator(".place")).to_have_text("Nr. 2")
    expect(second_item.locator(".queue-name")).to_have_text("I retur")
    expect(second_item.locator(".path")).to_have_text("Tasta 2: barnehage og skule")
    expect(second_item.locator(".flag")).to_have_text(
        "Kom i retur frå barnehage og skule · Avvist · oppteke · Sett over av telefonmenyen"
    )

    console.keep_time(browser_context, sim.now)
    second_item.get_by_role("button", name="Ta innringar").click()
    expect(page.locator("#queue-announce")).to_contain_text("kjem til deg no")
    sim.run_until(sim.now + timedelta(seconds=30))

    # The chosen caller, not the one ahead of them, is with the agent.
    assert f"CONNECTED with {CLIENT_AGENT}" in second.transcript_text()
    assert f"CONNECTED with {CLIENT_AGENT}" not in first.transcript_text()
    assert "Retur frå barnehage og skule" in agent.transcript_text()  # the agent heard why
    expect(second_item).to_be_hidden(timeout=1000)  # left the returns queue
    expect(first_item).to_be_visible()
    expect(first_item.locator(".place")).to_have_text("Nr. 1")


def test_a_recall_worked_out_at_ingest_flags_the_waiting_caller(
    console: Console, browser_context: BrowserContext
) -> None:
    page = browser_context.new_page()
    console.open(page)
    sim = console.simulator()
    # Helse og omsorg answers and talks; the caller rings again and asks for the switchboard.
    sim.place_call(from_=FIRST, to=MAIN, script=[press("3"), talk(30)], at=at(0))
    again = switchboard_caller(sim, FIRST, after=600)
    run_until_queued(sim, again, "sentralbord", within=900)
    item = page.locator(f'li[data-call-sid="{again.sid}"]')
    expect(item).to_be_visible(timeout=1000)
    expect(item.locator(".flag")).to_be_hidden()  # the webhook cannot know it yet

    console.ingest()  # the worker's next batch

    expect(item.locator(".flag")).to_be_visible(timeout=1000)
    expect(item.locator(".flag")).to_contain_text("Ringde att")
    expect(item.locator(".flag")).to_contain_text("Kom i retur frå helse")
    expect(item.locator(".flag")).to_contain_text("Sett over av telefonmenyen")


def test_taking_a_caller_another_agent_took_first_says_so(
    console: Console, browser_context: BrowserContext
) -> None:
    page = browser_context.new_page()
    console.open(page)
    sim = console.simulator()
    client_agent(sim, after=0)
    kari = console.config.switchboard.agents.find(AGENT_NUMBER)
    assert kari is not None
    place_agent(sim, kari, pin=PIN, stays=400, at=at(0))
    caller = bounced_caller(sim, FIRST, after=30)
    run_until_queued(sim, caller, "sentralbord-retur", within=90)
    item = page.locator(f'li[data-call-sid="{caller.sid}"]')
    expect(item).to_be_visible(timeout=1000)

    # Kari (on her phone, through the API) is quicker.
    who = Principal(name="kari@alver.kommune.no", role="agent", agent_id="kari")
    cookie, session = console.services.sessions.start(who, method="oidc", at=sim.now)
    won = console.http.post(
        f"{console.url}/api/queue/{caller.sid}/take",
        headers={
            "Cookie": f"{cookie_name(production=False)}={cookie}",
            "X-CSRF-Token": session.csrf,
            "X-Simulated-Time": sim.now.isoformat(),
        },
    )
    assert won.status_code == 202, won.text

    console.keep_time(browser_context, sim.now)
    item.get_by_role("button", name="Ta innringar").click()
    expect(page.locator("#queue-announce")).to_have_text(
        f"Ein annan medarbeidar tok innringaren {caller_label(item)} først."
    )
    sim.run_until(sim.now + timedelta(seconds=30))
    assert f"CONNECTED with {AGENT_NUMBER}" in caller.transcript_text()
    expect(item).to_be_hidden(timeout=1000)


def caller_label(item: Locator) -> str:
    return item.locator(".who").inner_text().removeprefix("Innringar ")
