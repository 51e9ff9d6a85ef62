"""The menus at the switchboard's opening and closing: each webhook judges opening at its own
instant, and an answer to the open menu keeps its meaning for `menu_grace_seconds`."""

from __future__ import annotations

import pytest

from ivr.call import Context
from ivr.config import Config, parse_config
from ivr.menu import answer_call, handle_closed_menu, handle_open_menu
from tests.ivr.flowkit import make_context, make_turn, oslo, spoken

OFFERED = str(int(oslo("2026-11-25T14:59:50").timestamp()))


@pytest.fixture
def ctx(alver: Config) -> Context:
    return make_context(alver)


def test_the_open_menu_carries_which_menu_was_offered_and_when(ctx):
    reply = answer_call(ctx, make_turn("2026-11-25T14:59:50"))
    assert f"/twilio/menu?lang=nn&amp;s=1&amp;n=0&amp;m=open&amp;o={OFFERED}" in reply.xml()


def test_closed_menu_silence_after_opening_offers_the_open_menu(ctx):
    reply = handle_closed_menu(ctx, make_turn("2026-11-25T09:00:05", step=1, n="0"))
    assert "Sentralbordet er ope til klokka tre." in spoken(reply)
    assert "/twilio/menu?" in reply.xml()
    assert "<Hangup" not in reply.xml()
    assert "Takk for at du ringde" not in spoken(reply)


def test_closed_menu_second_silence_after_opening_queues_instead_of_hanging_up(ctx):
    reply = handle_closed_menu(ctx, make_turn("2026-11-25T09:00:20", step=2, n="1"))
    assert ">sentralbord</Enqueue>" in reply.xml()
    assert "<Hangup" not in reply.xml()


def test_closed_menu_second_silence_before_opening_still_says_goodbye(ctx):
    reply = handle_closed_menu(ctx, make_turn("2026-11-25T08:59:50", step=2, n="1"))
    assert "Takk for at du ringde" in spoken(reply)
    assert "<Hangup" in reply.xml()


@pytest.mark.parametrize("at", ["2026-11-25T15:00:05", "2026-11-25T15:00:59"])
def test_open_menu_key_within_the_grace_keeps_its_open_meaning(ctx, at):
    turn = make_turn(at, step=1, n="0", m="open", o=OFFERED, Digits="2")
    reply = handle_open_menu(ctx, turn)
    assert "Du blir sett over til barnehage og skule." in spoken(reply)
    assert "d=barnehage_skule" in reply.xml()
    assert "ugyldig" not in spoken(reply)
    assert reply.events[0].data["late"] is True


def test_open_menu_switchboard_key_within_the_grace_queues(ctx):
    turn = make_turn("2026-11-25T15:00:05", step=1, n="0", m="open", o=OFFERED, Digits="0")
    assert ">sentralbord</Enqueue>" in handle_open_menu(ctx, turn).xml()


def test_open_menu_key_after_the_grace_hears_just_closed_and_the_closed_options(ctx):
    turn = make_turn("2026-11-25T15:01:30", step=1, n="0", m="open", o=OFFERED, Digits="2")
    reply = handle_open_menu(ctx, turn)
    text = spoken(reply)
    assert text.startswith("Sentralbordet stengde no nettopp.")
    assert "Sentralbordet er stengt no. Vi opnar att" in text
    assert "ugyldig" not in text
    assert "/twilio/closed?" in reply.xml()
    assert "<Dial" not in reply.xml()
    assert reply.events[0].data["target"] is None


def test_open_menu_silence_after_closing_hears_just_closed_not_the_open_menu_again(ctx):
    turn = make_turn("2026-11-25T15:00:05", step=1, n="0", m="open", o=OFFERED)
    reply = handle_open_menu(ctx, turn)
    assert spoken(reply).startswith("Sentralbordet stengde no nettopp.")
    assert "/twilio/closed?" in reply.xml()
    assert "/twilio/menu?" not in reply.xml()


def test_the_grace_is_configurable(alver_yaml):
    text = alver_yaml.replace("menu_grace_seconds: 60", "menu_grace_seconds: 0", 1)
    ctx = make_context(parse_config(text))
    turn = make_turn("2026-11-25T15:00:05", step=1, n="0", m="open", o=OFFERED, Digits="2")
    assert spoken(handle_open_menu(ctx, turn)).startswith("Sentralbordet stengde no nettopp.")


def test_an_offer_instant_while_closed_gets_no_grace(ctx):
    closed = str(int(oslo("2026-11-25T15:00:30").timestamp()))
    turn = make_turn("2026-11-25T15:00:40", step=1, n="0", m="open", o=closed, Digits="2")
    assert spoken(handle_open_menu(ctx, turn)).startswith("Sentralbordet stengde no nettopp.")
