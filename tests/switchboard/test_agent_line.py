"""The agent line against the real app: forged caller IDs, PINs, the per-caller limit, the
metric, production's refusal of caller-ID-only agents, and Twilio Client identities.

Real Redis and SQLite, the real argon2 check, requests signed as Twilio signs them; whole calls
are played by the Twilio simulator. The roster has test-made PIN hashes
(tests/fixtures/agents.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import redis
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from ivr.config import Config, ConfigError
from sim.call_trial import AGENT_LINE, place_agent, simulator_for
from sim.twilio import TwilioSimulator, hang_up_after, press, talk
from switchboard.app import create_app
from switchboard.pseudonym import caller_pseudonym
from switchboard.redis_client import connect_redis
from switchboard.settings import Settings
from tests.fixtures.agents import (
    AGENT_NUMBER,
    CLIENT_AGENT,
    OTHER_AGENT_NUMBER,
    OTHER_PIN,
    PIN,
    config_with_agents,
    roster_with_pins,
)
from tests.fixtures.keys import PRODUCTION_NUMBER_KEYS
from tests.switchboard.apphost import PUBLIC, TOKEN, inbound_params, make_settings, signed_post

OSLO = ZoneInfo("Europe/Oslo")
START = datetime(2026, 11, 25, 10, 0, tzinfo=OSLO)  # a Wednesday, the switchboard open
OPEN = "2026-11-25T10:00:00+00:00"
MOBILE = "+4791234567"
PIN_FAILURES = "switchboard_agent_pin_failures_total"
LOCKED = "Det har kome for mange feil PIN-kodar frå dette nummeret. Prøv igjen seinare. Ha det."


@dataclass
class Line:
    client: TestClient
    settings: Settings
    config: Config
    registry: CollectorRegistry

    def call(self, path: str, caller: str, *, sid: str = "CA" + "a" * 32, **form: str):
        params = inbound_params(From=caller, To=AGENT_LINE, CallSid=sid, **form)
        response = signed_post(self.client, path, params, at=OPEN)
        assert response.status_code == 200  # a refusal is spoken TwiML, never a 429
        return response.text

    def enter_pin(self, caller: str, digits: str, *, attempt: int = 1, sid: str = "") -> str:
        path = f"/twilio/agent/pin?lang=nn&s=1&n={attempt}"
        return self.call(path, caller, sid=sid or "CA" + "a" * 32, Digits=digits)

    def failures(self) -> float | None:
        return self.registry.get_sample_value(PIN_FAILURES)

    def simulator(self) -> TwilioSimulator:
        return simulator_for(
            http=self.client, settings=self.settings, config=self.config, start=START
        )

    def agent_joins(self, sim: TwilioSimulator, number: str, pin: str, *, after: float) -> None:
        """The agent with this number calls the agent line and keys in `pin`."""
        agent = self.config.switchboard.agents.find(number)
        assert agent is not None
        place_agent(sim, agent, pin=pin, stays=300, at=START + timedelta(seconds=after))


def build_line(settings: Settings, client: redis.Redis | None = None) -> Iterator[Line]:
    registry = CollectorRegistry()
    config = config_with_agents(roster_with_pins())
    app = create_app(
        settings, config=config, redis_client=client, simulated_clock=True, registry=registry
    )
    with TestClient(app) as test_client:
        yield Line(test_client, settings, config, registry)


@pytest.fixture
def line(tmp_path, redis_url) -> Iterator[Line]:
    yield from build_line(make_settings(tmp_path, redis_url))


def takes_callers(twiml: str) -> bool:
    return "<Queue" in twiml or "<Dial" in twiml


def test_a_forged_caller_id_without_the_pin_is_refused_and_hears_no_queue(line):
    asked = line.call("/twilio/agent", AGENT_NUMBER)
    assert "Tast PIN-koden din" in asked
    assert not takes_callers(asked)
    first = line.enter_pin(AGENT_NUMBER, "1234")
    assert "Feil PIN-kode." in first
    assert not takes_callers(first)
    last = line.enter_pin(AGENT_NUMBER, "9999", attempt=3)
    assert "Du har brukt opp forsøka i denne samtalen. Ha det." in last
    assert last.endswith("<Hangup /></Response>")
    assert not takes_callers(last)


def test_a_forged_agent_call_leaves_the_waiting_citizen_alone(line):
    sim = line.simulator()
    citizen = sim.place_call(
        from_=MOBILE,
        to=line.config.municipality.main_number,
        script=[hang_up_after(200), press("0"), talk(30)],
    )
    forger = sim.place_call(
        from_=AGENT_NUMBER,
        to=AGENT_LINE,
        script=[hang_up_after(600), press("1111#"), press("2222#"), press("3333#")],
        at=START + timedelta(seconds=40),
    )
    line.agent_joins(sim, OTHER_AGENT_NUMBER, OTHER_PIN, after=150)
    sim.run()
    # The citizen waits for the real agent, who comes later.
    assert f"CONNECTED with {OTHER_AGENT_NUMBER}" in citizen.transcript_text()
    assert f"CONNECTED with {AGENT_NUMBER}" not in citizen.transcript_text()
    assert "CONNECTED" not in forger.transcript_text()
    assert "Du har brukt opp forsøka i denne samtalen. Ha det." in forger.transcript_text()
    assert line.failures() == 3


def test_the_right_pin_takes_the_waiting_citizen(line):
    sim = line.simulator()
    citizen = sim.place_call(
        from_=MOBILE, to=line.config.municipality.main_number, script=[press("0"), talk(30)]
    )
    line.agent_joins(sim, AGENT_NUMBER, PIN, after=40)
    sim.run()
    assert f"CONNECTED with {AGENT_NUMBER}" in citizen.transcript_text()
    assert line.failures() == 0


def test_wrong_pins_are_counted_in_the_metric_and_per_caller_pseudonym(line, redis_client):
    for attempt in (1, 2):
        line.enter_pin(AGENT_NUMBER, "0000", attempt=attempt)
    assert line.failures() == 2
    key = f"sb:live:pin:{caller_pseudonym(AGENT_NUMBER, key=line.settings.caller_key)}"
    assert redis_client.get(key) == b"2"
    assert 0 < redis_client.ttl(key) <= 15 * 60
    other = f"sb:live:pin:{caller_pseudonym(OTHER_AGENT_NUMBER, key=line.settings.caller_key)}"
    assert redis_client.get(other) is None
    assert "4756375090" not in redis_dump(redis_client)


def redis_dump(client: redis.Redis) -> str:
    """Every key and value in Redis, as text."""
    seen: list[str] = []
    for key in client.scan_iter():
        kind = client.type(key)
        assert isinstance(kind, bytes)
        readers: dict[str, Callable[[bytes], object]] = {
            "string": client.get,
            "zset": lambda k: client.zrange(k, 0, -1),
            "stream": client.xrange,
            "hash": client.hgetall,
            "list": lambda k: client.lrange(k, 0, -1),
            "set": client.smembers,
        }
        value = readers[kind.decode()](key)
        seen.append(f"{key!r} {value!r}")
    return "\n".join(seen)


def test_after_the_limit_even_the_right_pin_is_refused_with_a_spoken_hang_up(line):
    # Five wrong PINs over two calls from the same (forged) number.
    for attempt in (1, 2, 3):
        line.enter_pin(AGENT_NUMBER, "0000", attempt=attempt, sid="CA" + "1" * 32)
    line.enter_pin(AGENT_NUMBER, "0000", attempt=1, sid="CA" + "2" * 32)
    fifth = line.enter_pin(AGENT_NUMBER, "0000", attempt=2, sid="CA" + "2" * 32)
    assert LOCKED in fifth
    assert line.failures() == 5
    # The real agent, on a new call, with the right PIN: refused, and hung up.
    entry = line.call("/twilio/agent", AGENT_NUMBER, sid="CA" + "3" * 32)
    assert LOCKED in entry
    assert entry.endswith("<Hangup /></Response>")
    assert "<Gather" not in entry
    right = line.enter_pin(AGENT_NUMBER, PIN, sid="CA" + "3" * 32)
    assert LOCKED in right
    assert not takes_callers(right)
    assert line.failures() == 5  # refusals are not counted as wrong PINs
    # Another agent's number is not locked out by it.
    assert ">sentralbord</Queue>" in line.enter_pin(OTHER_AGENT_NUMBER, OTHER_PIN)


def test_a_twilio_client_identity_gets_in_without_a_pin(line):
    twiml = line.call("/twilio/agent", CLIENT_AGENT)
    assert ">sentralbord</Queue>" in twiml
    assert "PIN" not in twiml
    assert "Dette nummeret har ikkje tilgang" in line.call("/twilio/agent", "client:intruder")


def test_with_redis_down_the_pin_is_still_checked(tmp_path):
    dead = f"unix://{tmp_path}/no-redis.sock"
    settings = make_settings(tmp_path, dead, redis_timeout_seconds=0.2)
    client = connect_redis(dead, timeout=0.2, connect_timeout=0.2)
    for line in build_line(settings, client):
        wrong = line.enter_pin(AGENT_NUMBER, "0000")
        assert not takes_callers(wrong)
        assert "Feil PIN-kode." in wrong
        assert line.failures() == 1  # counted in the metric, though Redis could not count it
        assert ">sentralbord</Queue>" in line.enter_pin(AGENT_NUMBER, PIN)


def production(tmp_path, redis_url) -> Settings:
    return make_settings(
        tmp_path,
        redis_url,
        env="production",
        public_url=PUBLIC,
        twilio_auth_token=TOKEN,
        secret_key="s" * 32,
        caller_key="c" * 32,
        number_keys=PRODUCTION_NUMBER_KEYS,
    )


def test_production_refuses_to_start_with_an_agent_let_in_by_caller_id_alone(tmp_path, redis_url):
    roster = [*roster_with_pins(), {"id": "vikar", "name": "Vikar", "number": "+4756375099"}]
    with pytest.raises(ConfigError) as caught:
        create_app(production(tmp_path, redis_url), config=config_with_agents(roster))
    [message] = caught.value.errors
    assert "production refuses agents let in by caller ID alone" in message
    assert "vikar" in message
    assert "kari" not in message


def test_production_starts_when_every_phone_agent_has_a_pin(tmp_path, redis_url):
    app = create_app(production(tmp_path, redis_url), config=config_with_agents(roster_with_pins()))
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
