"""The app with agents, for tests that play calls and agents through it: real Redis and SQLite,
a roster with two phone agents (with PINs) and a Twilio Client agent who idle on a queue for two
minutes, and the simulator as Twilio, for the calls and for the REST API behind the SDK's
`http_client` seam. Agents act through real staff sessions with their roster id on them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from ivr.config import Config
from sim.call_trial import simulator_for
from sim.twilio import Department, SimulatedRest, TwilioSimulator
from switchboard.access import Principal
from switchboard.app import create_app
from switchboard.deps import Services
from switchboard.settings import Settings
from switchboard.staff_sessions import cookie_name
from switchboard.twilio_rest import twilio_client
from tests.fixtures.agents import config_with_agents, roster_with_pins
from tests.switchboard.apphost import make_settings

OSLO = ZoneInfo("Europe/Oslo")
START = datetime(2026, 11, 25, 10, 0, tzinfo=OSLO)  # a Wednesday, the switchboard open


@dataclass
class AgentWorld:
    client: TestClient
    settings: Settings
    config: Config
    rest: SimulatedRest
    services: Services
    registry: CollectorRegistry

    def simulator(self, departments: Mapping[str, Department] | None = None) -> TwilioSimulator:
        """A simulator at START whose REST API is the app's Twilio."""
        sim = simulator_for(
            http=self.client,
            settings=self.settings,
            config=self.config,
            start=START,
            departments=dict(departments or {}),
        )
        self.rest.attach(sim)
        return sim

    def signed_in(self, agent_id: str) -> dict[str, str]:
        """A staff session of the agent with this roster id: its cookie and CSRF header."""
        who = Principal(name=f"{agent_id}@alver.kommune.no", role="agent", agent_id=agent_id)
        cookie, session = self.services.sessions.start(who, method="oidc", at=START)
        name = cookie_name(production=False)
        return {"Cookie": f"{name}={cookie}", "X-CSRF-Token": session.csrf}


@contextmanager
def agent_app(tmp_path: Path, redis_url: str) -> Iterator[AgentWorld]:
    settings = make_settings(tmp_path, redis_url)
    rest = SimulatedRest(
        account_sid=settings.twilio_account_sid, auth_token=settings.auth_tokens[0]
    )
    # Agents idle on one queue for two minutes: only a redirect moves them sooner.
    config = config_with_agents(roster_with_pins(), idle_dial_seconds=120)
    app = create_app(
        settings,
        config=config,
        twilio=twilio_client(settings, http_client=rest),
        simulated_clock=True,
    )
    with TestClient(app) as client:
        yield AgentWorld(
            client, settings, config, rest, app.state.services, app.state.metrics.registry
        )
