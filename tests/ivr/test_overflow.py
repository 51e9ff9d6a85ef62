"""Overflow (ivr.overflow): a new caller is offered a callback or an SMS before joining the
main queue when no agent is ready, or when the expected wait passes the configured maximum."""

from __future__ import annotations

import pytest

from ivr import overflow
from ivr.call import LiveView, QueueJoin, Reply
from ivr.config import ConfigError, parse_config
from tests.ivr.flowkit import MOBILE, make_context, make_turn, spoken

OPEN = "2026-11-25T11:00"  # a Wednesday, the switchboard open 09-15
CLOSED = "2026-11-25T18:00"


@pytest.fixture
def ctx(alver):
    return make_context(alver)


def live(*, main: int = 0, returns: int = 0, agent: str | None = None) -> LiveView:
    """Live state with `sentralbord-1` in status `agent` (no agent status known: None)."""
    statuses = {} if agent is None else {"sentralbord-1": agent}
    return LiveView(agent_statuses=statuses, main_waiting=main, returns_waiting=returns)


def offered(reply) -> list[object]:
    return [e.data["why"] for e in reply.events if e.kind == "overflow_offered"]


def joins(reply) -> bool:
    return any(isinstance(c, QueueJoin) for c in reply.changes) and "<Enqueue" in reply.xml()


def test_no_agent_ready_offers_a_callback_or_an_sms_before_the_queue(ctx):
    reply = Reply()
    overflow.join(ctx, make_turn(OPEN, live=live(agent="paused")), reply)
    assert offered(reply) == ["no_agent_ready"]
    assert "<Enqueue" not in reply.xml()
    assert spoken(reply) == (
        "Akkurat no er ingen på sentralbordet ledige. Vil du at vi ringjer deg opp att, "
        "trykk 8. For ei tekstmelding med lenke til sjølvbetening, trykk 7. "
        "For å vente i køen, trykk 0."
    )


def test_a_ready_agent_and_a_short_queue_mean_straight_into_the_queue(ctx):
    reply = Reply()
    overflow.join(ctx, make_turn(OPEN, live=live(main=1, agent="ready")), reply)
    assert offered(reply) == []
    assert joins(reply)


def test_a_long_expected_wait_offers_the_same_choice(ctx):
    # Alver: 90 s a place, at most 300 s: three waiting means 4 x 90 = 360 s for a new caller.
    reply = Reply()
    turn = make_turn(OPEN, language="nb", live=live(main=2, returns=1, agent="ready"))
    overflow.join(ctx, turn, reply)
    assert offered(reply) == ["long_wait"]
    assert spoken(reply).startswith("Ventetiden er nå over 5 minutter.")


def test_when_live_state_cannot_tell_the_caller_joins_the_queue(ctx):
    reply = Reply()
    overflow.join(ctx, make_turn(OPEN, live=LiveView()), reply)
    assert offered(reply) == []
    assert joins(reply)


def test_no_offer_outside_opening_hours(ctx):
    assert overflow.why(ctx, make_turn(CLOSED, live=live(agent="offline"))) is None


def test_8_asks_for_a_callback_to_the_calling_mobile(ctx):
    reply = overflow.choice(ctx, make_turn(OPEN, caller=MOBILE, Digits="8"))
    assert [e.kind for e in reply.events] == ["callback_requested"]
    assert "<Enqueue" not in reply.xml()


def test_7_sends_the_self_service_sms_and_says_goodbye(ctx):
    reply = overflow.choice(ctx, make_turn(OPEN, caller=MOBILE, Digits="7"))
    assert [e.kind for e in reply.events] == ["sms_requested"]
    assert reply.xml().rstrip().endswith("<Hangup /></Response>")


@pytest.mark.parametrize("digits", ["0", "", "5"])
def test_0_another_key_or_silence_joins_the_queue_anyway(ctx, digits):
    reply = overflow.choice(ctx, make_turn(OPEN, Digits=digits))
    assert joins(reply)
    assert [e.kind for e in reply.events] == ["queue_joined"]


def test_the_maximum_wait_is_validated(alver_yaml):
    text = alver_yaml.replace("overflow_wait_seconds: 300", "overflow_wait_seconds: -5")
    assert text != alver_yaml
    with pytest.raises(ConfigError, match="overflow_wait_seconds"):
        parse_config(text)
