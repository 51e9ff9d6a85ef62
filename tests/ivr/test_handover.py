"""Handing a chosen caller to an agent, as pure flow: what the agent hears, the moved caller's
TwiML (same visit, the agent's queue), and the Dial action an API redirect interrupted."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from ivr import agent, handover
from ivr.call import LiveView, QueueLeave, Waiting
from ivr.config import parse_config
from tests.fixtures.agents import (
    CLIENT_AGENT,
    config_with_agents,
    roster_with_pins,
    with_agents,
)
from tests.ivr.flowkit import make_context, make_turn, spoken

NOW = "2026-11-25T11:00"
VISIT = "CA" + "2" * 32 + ".7"


@pytest.fixture(scope="module")
def config():
    return config_with_agents(roster_with_pins())


def returned(**fields: Any) -> Waiting:
    waiting = Waiting(
        call_sid="CA" + "2" * 32,
        queue="returns",
        visit=VISIT,
        language="nn",
        joined_at=0.0,
        department="helse_omsorg",
        cause="no_answer",
    )
    return replace(waiting, **fields)


@pytest.mark.parametrize(
    ("language", "heard"),
    [
        ("nn", "Retur frå helse og omsorg. Ingen svarte."),
        ("nb", "Retur fra helse og omsorg. Ingen svarte."),
        ("en", "Returned from health and care. Nobody answered."),
    ],
)
def test_the_agent_hears_the_department_and_cause_in_the_municipalitys_language(language, heard):
    yaml_text = with_agents(roster_with_pins()).replace(
        "default_language: nn", f"default_language: {language}"
    )
    ctx = make_context(parse_config(yaml_text))
    assert handover.announcement(ctx, returned()) == heard


def test_a_busy_bounce_and_an_unknown_department(config):
    ctx = make_context(config)
    assert handover.announcement(ctx, returned(cause="busy")) == (
        "Retur frå helse og omsorg. Det var oppteke."
    )
    assert handover.announcement(ctx, returned(department=None)) == (
        "Innringar som kjem i retur frå ei avdeling."
    )
    assert handover.announcement(ctx, returned(queue="main", department=None)) == ""


def test_the_agent_is_told_then_dials_their_own_queue_answered_for_that_visit(config):
    ctx = make_context(config)
    turn = make_turn(
        NOW,
        caller=CLIENT_AGENT,
        step=1795597260000,
        q="returns",
        v=VISIT,
        d="helse_omsorg",
        r="busy",
    )
    reply = handover.agent_take(ctx, turn)
    xml = reply.xml()
    assert spoken(reply) == "Retur frå helse og omsorg. Det var oppteke."
    assert ">agent-sentralbord</Queue>" in xml
    assert f"/twilio/queue/answered?q=returns&amp;v={VISIT}" in xml
    assert "/twilio/agent/next?lang=nn&amp;s=1795597260001" in xml


def test_the_moved_caller_joins_the_agents_queue_in_the_same_visit(config):
    ctx = make_context(config)
    turn = make_turn(NOW, step=1795597260000, q="returns", v=VISIT, a="kari")
    reply = handover.moved(ctx, turn)
    xml = reply.xml()
    assert ">agent-kari</Enqueue>" in xml
    assert f"v={VISIT}" in xml.split("action=")[1].split('"')[1]
    assert f"v={VISIT}" in xml.split("waitUrl=")[1].split('"')[1]
    [event] = reply.events
    assert (event.kind, event.data["visit"], event.data["to_queue"]) == (
        "queue_moved",
        VISIT,
        "agent-kari",
    )
    assert reply.changes == [QueueLeave(queue="returns", call_sid="CA" + "1" * 32)]


def test_an_agent_who_is_not_on_the_roster_cannot_be_moved_to(config):
    ctx = make_context(config)
    with pytest.raises(KeyError):
        handover.moved(ctx, make_turn(NOW, q="returns", v=VISIT, a="nobody"))


def test_the_dial_an_api_redirect_interrupted_claims_nothing(config):
    ctx = make_context(config)
    live = LiveView(returns_waiting=1, redirect_step=1795597260000)
    interrupted = agent.agent_next(ctx, make_turn(NOW, caller=CLIENT_AGENT, step=5, live=live))
    after = agent.agent_next(
        ctx, make_turn(NOW, caller=CLIENT_AGENT, step=1795597260002, live=live)
    )
    assert interrupted.xml().endswith("<Response />")
    assert interrupted.changes == []
    assert "<Queue" in after.xml()
