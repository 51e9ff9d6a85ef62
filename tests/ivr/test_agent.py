"""The agent line's pure flow: who gets in, the PIN, wrong PINs per call and per caller.

PINs are checked by the app's real argon2 check against hashes the tests made
(tests/fixtures/agents.py); live state is what the edge would have read from Redis.
"""

from __future__ import annotations

import pytest

from ivr import agent
from ivr.call import AgentWaiting, LiveView, PinFailed, Reply
from switchboard.pins import pin_matches
from tests.fixtures.agents import (
    AGENT_NUMBER,
    CLIENT_AGENT,
    PIN,
    config_with_agents,
    roster_with_pins,
)
from tests.ivr.flowkit import MOBILE, assert_snapshot, make_context, make_turn, spoken

NOW = "2026-11-25T11:00"
WINDOW = 15 * 60
LOCKED = "Det har kome for mange feil PIN-kodar frå dette nummeret. Prøv igjen seinare. Ha det."


@pytest.fixture(scope="module")
def pinned():
    return config_with_agents(roster_with_pins())


@pytest.fixture
def ctx(pinned):
    return make_context(pinned, pin_matches=pin_matches)


def takes_callers(reply: Reply) -> bool:
    return "<Queue" in reply.xml()


def hangs_up(reply: Reply) -> bool:
    return reply.xml().rstrip().endswith("<Hangup /></Response>")


def pin_step(ctx, digits: str | None, *, attempt: int = 1, failures: int | None = 0) -> Reply:
    live = LiveView(pin_failures=failures)
    if digits is None:
        turn = make_turn(NOW, caller=AGENT_NUMBER, live=live, n=str(attempt))
    else:
        turn = make_turn(NOW, caller=AGENT_NUMBER, live=live, n=str(attempt), Digits=digits)
    return agent.agent_pin(ctx, turn)


def test_a_phone_agent_is_asked_for_the_pin_and_takes_no_caller_before_it(ctx):
    reply = agent.agent_entry(ctx, make_turn(NOW, caller=AGENT_NUMBER, live=LiveView()))
    assert "Tast PIN-koden din, og avslutt med firkant." in spoken(reply)
    assert not takes_callers(reply)
    assert 'finishOnKey="#"' in reply.xml()
    assert "/twilio/agent/pin?lang=nn&amp;s=1&amp;n=1" in reply.xml()


def test_the_right_pin_takes_the_next_caller(ctx):
    reply = pin_step(ctx, PIN)
    assert ">sentralbord</Queue>" in reply.xml()
    # No wrong PIN counted; live state learns the agent's idle leg (for taking a chosen caller).
    assert reply.changes == [AgentWaiting("kari", "CA" + "1" * 32, seconds=20)]


def test_a_forged_caller_id_without_the_pin_never_reaches_the_queue(ctx):
    for digits in ("0000", "", None, PIN[:-1], PIN + "0"):
        reply = pin_step(ctx, digits)
        assert not takes_callers(reply), digits


def test_a_wrong_pin_is_counted_for_the_caller_and_asked_again(ctx):
    reply = pin_step(ctx, "111111")
    assert reply.changes == [PinFailed("pseudonym", window_seconds=WINDOW)]
    assert spoken(reply).startswith("Feil PIN-kode.")
    assert "Tast PIN-koden din" in spoken(reply)
    assert "n=2" in reply.xml()  # the next attempt
    assert not takes_callers(reply)


def test_the_third_wrong_pin_in_a_call_hangs_up(ctx):
    second = pin_step(ctx, "111111", attempt=2)
    assert "n=3" in second.xml()
    third = pin_step(ctx, "111111", attempt=3)
    assert hangs_up(third)
    assert "Du har brukt opp forsøka i denne samtalen. Ha det." in spoken(third)
    assert third.changes == [PinFailed("pseudonym", window_seconds=WINDOW)]


def test_silence_uses_an_attempt_but_is_not_a_wrong_pin(ctx):
    reply = pin_step(ctx, None)
    assert reply.changes == []
    assert "Feil PIN-kode" not in spoken(reply)
    assert "n=2" in reply.xml()
    assert hangs_up(pin_step(ctx, None, attempt=3))


def test_the_wrong_pin_that_reaches_the_limit_locks_the_caller_out(ctx):
    reply = pin_step(ctx, "111111", attempt=1, failures=4)
    assert reply.changes == [PinFailed("pseudonym", window_seconds=WINDOW)]
    assert LOCKED in spoken(reply)
    assert hangs_up(reply)


def test_a_locked_out_caller_is_refused_even_with_the_right_pin(ctx):
    reply = pin_step(ctx, PIN, failures=5)
    assert not takes_callers(reply)
    assert LOCKED in spoken(reply)
    assert hangs_up(reply)
    assert reply.changes == []  # a refusal is not another wrong PIN
    entry = agent.agent_entry(
        ctx, make_turn(NOW, caller=AGENT_NUMBER, live=LiveView(pin_failures=5))
    )
    assert LOCKED in spoken(entry)
    assert "<Gather" not in entry.xml()


def test_when_live_state_cannot_tell_the_pin_is_still_checked(ctx):
    # Redis down: no count to read, so no lock-out, but the PIN and the per-call limit hold.
    assert takes_callers(pin_step(ctx, PIN, failures=None))
    wrong = pin_step(ctx, "111111", failures=None)
    assert not takes_callers(wrong)
    assert wrong.changes == [PinFailed("pseudonym", window_seconds=WINDOW)]
    assert hangs_up(pin_step(ctx, "111111", attempt=3, failures=None))


def test_the_limits_come_from_the_config():
    config = config_with_agents(
        roster_with_pins(),
        pin_limits={"attempts_per_call": 1, "max_failures": 2, "window_minutes": 60},
    )
    ctx = make_context(config, pin_matches=pin_matches)
    once = pin_step(ctx, "111111", failures=0)
    assert once.changes == [PinFailed("pseudonym", window_seconds=3600)]
    assert "Du har brukt opp forsøka" in spoken(once)
    assert LOCKED in spoken(pin_step(ctx, "111111", failures=1))


def test_a_context_without_a_pin_check_refuses_every_pin(pinned):
    shut = make_context(pinned)  # secure by default: nobody injected a PIN check
    assert not takes_callers(pin_step(shut, PIN))


def test_a_twilio_client_identity_gets_in_without_a_pin(ctx):
    reply = agent.agent_entry(
        ctx, make_turn(NOW, caller=CLIENT_AGENT, live=LiveView(returns_waiting=0))
    )
    assert_snapshot("agent_main_queue", reply)
    assert "<Gather" not in reply.xml()


def test_an_unknown_caller_or_identity_is_refused(ctx):
    for caller in (MOBILE, "client:someone", "anonymous", ""):
        reply = agent.agent_entry(ctx, make_turn(NOW, caller=caller))
        assert not takes_callers(reply), caller
        assert "Dette nummeret har ikkje tilgang til sentralbordet." in spoken(reply)
        assert hangs_up(reply)
        assert not takes_callers(agent.agent_pin(ctx, make_turn(NOW, caller=caller, Digits=PIN)))
        assert not takes_callers(agent.agent_next(ctx, make_turn(NOW, caller=caller)))


def test_agents_take_returned_callers_first(ctx):
    returns = agent.agent_entry(
        ctx, make_turn(NOW, caller=CLIENT_AGENT, live=LiveView(returns_waiting=1))
    )
    assert ">sentralbord-retur</Queue>" in returns.xml()
    assert "Innringar som kjem i retur frå ei avdeling." in spoken(returns)


def test_open_by_caller_id_names_the_phone_agents_without_a_pin_hash(alver, pinned):
    assert agent.open_by_caller_id(alver) == ["sentralbord-1", "sentralbord-2", "sentralbord-3"]
    assert agent.open_by_caller_id(pinned) == []


def test_a_phone_agent_without_a_pin_hash_gets_in_by_caller_id_in_development(alver):
    # Only development gets this far: production refuses such a config (test_agent_line.py).
    ctx = make_context(alver)
    number = alver.switchboard.agents.roster[1].caller
    assert takes_callers(agent.agent_entry(ctx, make_turn(NOW, caller=number)))
