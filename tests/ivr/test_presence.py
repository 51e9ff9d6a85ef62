"""Agent status on the agent line (ivr.presence, ivr.agent.connect): a paused agent is never
dialled into a queue; getting in makes an agent ready; 1 on hold makes them ready again;
hanging up makes them offline."""

from __future__ import annotations

import pytest

from ivr import agent
from ivr.call import AgentGone, AgentHeld, AgentStatusSet, LiveView, Reply
from tests.fixtures.agents import CLIENT_AGENT
from tests.ivr.flowkit import make_context, make_turn, spoken

NOW = "2026-11-25T11:00"
PAUSED = "Du har pause, og får ingen innringarar. Trykk 1 når du er klar."


@pytest.fixture
def ctx(alver):
    return make_context(alver)


def takes_callers(reply: Reply) -> bool:
    return "<Queue" in reply.xml()


def status_events(reply: Reply) -> list[tuple[object, object]]:
    return [
        (e.data["agent"], e.data["status"])
        for e in reply.events
        if e.kind == "agent_status_changed"
    ]


def live(**statuses: str) -> LiveView:
    return LiveView(agent_statuses=statuses, returns_waiting=0)


def test_an_agent_who_gets_in_becomes_ready_and_takes_callers(ctx):
    reply = agent.agent_entry(ctx, make_turn(NOW, caller=CLIENT_AGENT, live=live()))
    assert takes_callers(reply)
    assert AgentStatusSet("sentralbord", "ready") in reply.changes
    assert status_events(reply) == [("sentralbord", "ready")]


def test_a_paused_agent_who_gets_in_is_held_without_a_queue(ctx):
    reply = agent.agent_entry(
        ctx, make_turn(NOW, caller=CLIENT_AGENT, live=live(sentralbord="paused"))
    )
    assert not takes_callers(reply)
    assert spoken(reply) == PAUSED
    assert "/twilio/agent/ready" in reply.xml()
    assert any(isinstance(change, AgentHeld) for change in reply.changes)
    assert status_events(reply) == []  # still paused: nothing changed


def test_a_paused_agent_gets_no_caller_after_a_conversation(ctx):
    turn = make_turn(NOW, caller=CLIENT_AGENT, live=live(sentralbord="paused"), step=4)
    reply = agent.agent_next(ctx, turn)
    assert not takes_callers(reply)
    assert spoken(reply) == PAUSED


def test_silence_on_hold_keeps_a_paused_agent_held(ctx):
    turn = make_turn(NOW, caller=CLIENT_AGENT, live=live(sentralbord="paused"))
    reply = agent.agent_ready(ctx, turn)
    assert not takes_callers(reply)
    assert "/twilio/agent/paused" in reply.xml()


def test_pressing_1_on_hold_makes_the_agent_ready_and_takes_callers(ctx):
    turn = make_turn(NOW, caller=CLIENT_AGENT, live=live(sentralbord="paused"), Digits="1")
    reply = agent.agent_ready(ctx, turn)
    assert takes_callers(reply)
    assert AgentStatusSet("sentralbord", "ready") in reply.changes
    assert status_events(reply) == [("sentralbord", "ready")]


def test_a_held_line_connects_once_the_console_says_ready(ctx):
    reply = agent.agent_paused(
        ctx, make_turn(NOW, caller=CLIENT_AGENT, live=live(sentralbord="ready"))
    )
    assert takes_callers(reply)


def test_an_agent_gone_offline_is_logged_off_after_the_conversation(ctx):
    reply = agent.agent_next(
        ctx, make_turn(NOW, caller=CLIENT_AGENT, live=live(sentralbord="offline"))
    )
    assert not takes_callers(reply)
    assert spoken(reply) == "Du er logga av sentralbordlinja. Ha det."
    assert reply.xml().rstrip().endswith("<Hangup /></Response>")
    assert AgentGone("sentralbord", "CA" + "1" * 32) in reply.changes


def test_hanging_up_makes_the_agent_offline(ctx):
    turn = make_turn(
        NOW, caller=CLIENT_AGENT, live=live(sentralbord="ready"), CallStatus="completed"
    )
    reply = agent.agent_next(ctx, turn)
    assert AgentStatusSet("sentralbord", "offline") in reply.changes
    assert status_events(reply) == [("sentralbord", "offline")]


def test_without_live_state_the_agent_line_works_as_before(ctx):
    reply = agent.agent_entry(ctx, make_turn(NOW, caller=CLIENT_AGENT, live=LiveView()))
    assert takes_callers(reply)
    assert not any(isinstance(change, AgentStatusSet) for change in reply.changes)
