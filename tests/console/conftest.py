"""A live switchboard for the console's tests: the real app under uvicorn (real Redis, SQLite,
the roster with a Twilio Client agent), the simulator playing the calls against it over HTTP,
and Chromium signed in as that agent.

The app runs on the simulator's clock: the simulator sends `X-Simulated-Time` with each
webhook, and the browser sends the same header (`Console.keep_time`), so the page, the take
and the webhooks all agree what time it is.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from ivr.config import Config
from sim.call_trial import AGENT_LINE, simulator_for
from sim.twilio import Call, Department, SimulatedRest, TwilioSimulator, hang_up_after, press
from switchboard.accounts import add_account
from switchboard.app import create_app
from switchboard.db import make_engine
from switchboard.deps import Services
from switchboard.settings import Settings
from switchboard.twilio_rest import twilio_client
from tests.fixtures.agents import CLIENT_AGENT, config_with_agents, roster_with_pins
from tests.fixtures.localhost import free_port, serving
from tests.pages.browsing import sign_in_with_browser
from tests.pages.site import PASSWORD, Site, add_accounts
from tests.switchboard.apphost import make_settings
from workers.ingest import Ingestor

OSLO = ZoneInfo("Europe/Oslo")
START = datetime(2026, 11, 25, 10, 0, tzinfo=OSLO)  # a Wednesday, the switchboard open
MAIN = "+4756375000"
BARNEHAGE = "+4756375102"
AGENT_USER = "siri"  # a local account on the roster's Twilio Client agent
AGENT_ID = "sentralbord"


@dataclass
class Console:
    site: Site
    settings: Settings
    config: Config
    rest: SimulatedRest
    services: Services
    http: httpx.Client

    @property
    def url(self) -> str:
        return self.site.url

    def simulator(self) -> TwilioSimulator:
        sim = simulator_for(
            http=self.http,
            settings=self.settings,
            config=self.config,
            start=START,
            departments={BARNEHAGE: Department.busy()},
        )
        self.rest.attach(sim)
        return sim

    def ingest(self) -> None:
        """Run the ingest over every event so far, as the worker would (the returns table)."""
        ingestor = Ingestor.from_settings(
            self.settings, redis=self.services.redis, engine=self.site.engine
        )
        ingestor.ensure_group()
        while ingestor.run_once(block_ms=None):
            pass

    def keep_time(self, context: BrowserContext, at: datetime) -> None:
        """The browser's requests from now on say the simulator's time."""
        context.set_extra_http_headers({"X-Simulated-Time": at.isoformat()})

    def open(self, page: Page, at: datetime = START) -> None:
        """Sign the agent in through the form and wait for the live queue."""
        self.keep_time(page.context, at)
        sign_in_with_browser(page, self.site, AGENT_USER)
        expect(page.get_by_role("heading", level=1)).to_have_text("Konsollen")
        expect(page.locator("#queue-connection")).to_have_text("Køen blir oppdatert direkte.")


@pytest.fixture
def console(tmp_path: Path, redis_url: str) -> Iterator[Console]:
    port = free_port()
    settings = make_settings(tmp_path, redis_url, public_url=f"http://127.0.0.1:{port}")
    rest = SimulatedRest(
        account_sid=settings.twilio_account_sid, auth_token=settings.auth_tokens[0]
    )
    # Agents idle on one queue for two minutes: a returned caller waits for "Ta denne".
    config = config_with_agents(roster_with_pins(), idle_dial_seconds=120)
    app = create_app(
        settings,
        config=config,
        twilio=twilio_client(settings, http_client=rest),
        simulated_clock=True,
    )
    engine = make_engine(settings.sqlalchemy_url)
    add_accounts(engine)
    add_account(
        engine,
        username=AGENT_USER,
        display_name="Siri Sentralbord",
        role="agent",
        agent_id=AGENT_ID,
        password=PASSWORD,
        at=START - timedelta(days=30),  # set before the simulated sign-in
    )
    try:
        with serving(app, port), httpx.Client(timeout=15) as http:
            site = Site(url=f"http://127.0.0.1:{port}", settings=settings, engine=engine)
            yield Console(site, settings, config, rest, app.state.services, http)
    finally:
        engine.dispose()


def bounced_caller(sim: TwilioSimulator, number: str, *, after: float, stays: float = 300) -> Call:
    """A citizen who asks for barnehage (busy), comes back, and waits (5 minutes at most)."""
    return sim.place_call(
        from_=number, to=MAIN, script=[hang_up_after(stays), press("2")], at=at(after)
    )


def switchboard_caller(sim: TwilioSimulator, number: str, *, after: float) -> Call:
    """A citizen who presses 0 for the switchboard and waits up to 5 minutes."""
    return sim.place_call(
        from_=number, to=MAIN, script=[hang_up_after(300), press("0")], at=at(after)
    )


def client_agent(sim: TwilioSimulator, *, after: float, stays: float = 400) -> Call:
    return sim.place_call(
        from_=CLIENT_AGENT, to=AGENT_LINE, script=[hang_up_after(stays)], at=at(after)
    )


def at(seconds: float) -> datetime:
    return START + timedelta(seconds=seconds)


def run_until_queued(sim: TwilioSimulator, call: Call, queue: str, *, within: float) -> None:
    """Run the simulator a second at a time until `call` waits in `queue` (Twilio's name)."""
    deadline = sim.now + timedelta(seconds=within)
    while call.sid not in [member.call.sid for member in sim.queue(queue).members]:
        assert sim.now < deadline, f"{call.sid} never joined {queue}"
        sim.run_until(sim.now + timedelta(seconds=1))
