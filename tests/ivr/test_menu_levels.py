"""The menus' two levels: the top level asks for speech first and offers the busiest
departments by key, "other departments" (key *) lists the rest under their usual keys, and
every key and speech work at both levels, open and closed."""

from __future__ import annotations

import pytest

from ivr.call import Context
from ivr.config import Config, ConfigError, parse_config
from ivr.menu import answer_call, handle_closed_menu, handle_open_menu
from tests.ivr.flowkit import (
    assert_snapshot,
    early_departments,
    make_context,
    make_turn,
    oslo,
    spoken,
)

OFFERED = str(int(oslo("2026-11-25T14:59:50").timestamp()))


@pytest.fixture
def ctx(alver: Config) -> Context:
    return make_context(alver)


def test_other_departments_lists_the_rest_under_their_usual_keys(ctx):
    reply = handle_open_menu(ctx, make_turn("2026-11-25T10:00", step=1, n="0", Digits="*"))
    assert_snapshot("open_menu_other_departments_nn", reply)
    text = spoken(reply)
    assert text == (
        "Sei kort kva det gjeld. For helse og omsorg, trykk 3. For NAV Alver, trykk 6. "
        "For byggesak, plan og oppmåling, trykk 1. For skatt, gebyr og faktura, trykk 4. "
        "For sentralbordet, trykk 0."
    )
    # A step of its own: the next step counter, the level, and the open menu's grace fields.
    assert "/twilio/menu?lang=nn&amp;s=2&amp;n=0&amp;m=open&amp;o=" in reply.xml()
    assert "&amp;l=more" in reply.xml()
    assert 'input="dtmf speech"' in reply.xml()
    assert reply.events[0].data["target"] == "more"


@pytest.mark.parametrize(("key", "number"), [("1", "+4756375101"), ("2", "+4756375102")])
def test_every_department_key_works_on_the_second_level(ctx, key, number):
    turn = make_turn("2026-11-25T11:00", step=2, n="0", m="open", l="more", Digits=key)
    assert f">{number}</Number>" in handle_open_menu(ctx, turn).xml()


def test_a_key_not_spoken_at_the_top_level_still_transfers(ctx):
    reply = handle_open_menu(ctx, make_turn("2026-11-25T11:00", step=1, Digits="4"))
    assert "Du blir sett over til skatt, gebyr og faktura." in spoken(reply)
    assert ">+4756375104</Number>" in reply.xml()


def test_speech_on_the_second_level_routes_and_referrals_still_win(ctx):
    turn = make_turn("2026-11-25T11:00", step=2, l="more", SpeechResult="eg treng legevakt")
    text = spoken(handle_open_menu(ctx, turn))
    assert "116 117" in text
    turn = make_turn("2026-11-25T11:00", step=2, l="more", SpeechResult="ein byggesøknad")
    assert "d=byggesak" in handle_open_menu(ctx, turn).xml()


def test_silence_on_the_second_level_repeats_it_once_then_queues(ctx):
    first = handle_open_menu(ctx, make_turn("2026-11-25T11:00", step=2, n="0", l="more"))
    assert spoken(first).startswith("Sei kort kva det gjeld. For helse og omsorg, trykk 3.")
    assert "n=1" in first.xml()
    assert "l=more" in first.xml()
    second = handle_open_menu(ctx, make_turn("2026-11-25T11:00", step=3, n="1", l="more"))
    assert ">sentralbord</Enqueue>" in second.xml()


def test_english_caller_hears_three_departments_at_the_top(ctx):
    reply = handle_open_menu(ctx, make_turn("2026-11-25T10:00", step=1, Digits="9"))
    text = spoken(reply)
    assert "For English" not in text
    assert text.startswith("Tell us briefly what it is about. For kindergartens and schools,")
    assert "For health and care, press 3. For other departments, press star." in text
    more = handle_open_menu(ctx, make_turn("2026-11-25T10:00", language="en", step=2, Digits="*"))
    assert_snapshot("open_menu_other_departments_en", more)
    assert "For building permits, planning and surveying, press 1." in spoken(more)


def test_other_departments_within_the_grace_keeps_the_offer_instant(ctx):
    turn = make_turn("2026-11-25T15:00:05", step=1, n="0", m="open", o=OFFERED, Digits="*")
    reply = handle_open_menu(ctx, turn)
    assert f"o={OFFERED}" in reply.xml()
    assert "l=more" in reply.xml()
    late = make_turn("2026-11-25T15:00:20", step=2, m="open", o=OFFERED, l="more", Digits="2")
    assert "Du blir sett over til barnehage og skule." in spoken(handle_open_menu(ctx, late))
    gone = make_turn("2026-11-25T15:01:30", step=2, m="open", o=OFFERED, l="more", Digits="2")
    assert spoken(handle_open_menu(ctx, gone)).startswith("Sentralbordet stengde no nettopp.")


def test_the_closed_menu_keeps_open_departments_through_the_second_level(alver_yaml):
    ctx = make_context(early_departments(alver_yaml))
    first = answer_call(ctx, make_turn("2026-12-07T09:00"))
    assert_snapshot("closed_menu_open_departments_nn", first)
    top = spoken(first)
    assert "Vi opnar att i dag klokka ti." in top
    assert "For barnehage og skule, trykk 2. For andre avdelingar, trykk stjerne." in top
    assert "For vatn, avløp og veg" not in top
    more = handle_closed_menu(ctx, make_turn("2026-12-07T09:00", step=1, Digits="*"))
    assert_snapshot("closed_menu_other_departments_nn", more)
    assert spoken(more) == (
        "For vatn, avløp og veg, trykk 5. For helse og omsorg, trykk 3. For NAV Alver, trykk "
        "6. For byggesak, plan og oppmåling, trykk 1. For skatt, gebyr og faktura, trykk 4."
    )
    assert "/twilio/closed?lang=nn&amp;s=2&amp;n=0&amp;l=more" in more.xml()
    chosen = handle_closed_menu(ctx, make_turn("2026-12-07T09:00", step=2, l="more", Digits="6"))
    assert ">+4756375106</Number>" in chosen.xml()
    silent = handle_closed_menu(ctx, make_turn("2026-12-07T09:00", step=2, n="0", l="more"))
    assert spoken(silent).startswith("For vatn, avløp og veg, trykk 5.")


def test_the_order_comes_from_the_config(alver_yaml):
    old = "order: [barnehage_skule, vatn_veg, helse_omsorg, nav, byggesak, skatt_gebyr]"
    assert old in alver_yaml
    ctx = make_context(parse_config(alver_yaml.replace(old, "order: [nav, byggesak]")))
    text = spoken(answer_call(ctx, make_turn("2026-11-25T10:00")))
    assert "For NAV Alver, trykk 6. For byggesak, plan og oppmåling, trykk 1." in text


@pytest.mark.parametrize(
    ("before", "after", "problem"),
    [
        ('more_key: "*"', 'more_key: "7"', "menus.more_key: '7' already means something"),
        ('more_key: "*"', 'more_key: "1"', "menus.more_key: '1' already means something"),
        ('more_key: "*"', 'more_key: "0"', "menus.more_key: '0' already means something"),
        ('more_key: "*"', 'more_key: "#"', "more_key"),
        ("order: [barnehage_skule,", "order: [bibliotek,", "unknown department 'bibliotek'"),
        ('"0": switchboard   #', '"0": sms   #', "menus.closed.0: 0 is always switchboard"),
    ],
)
def test_a_key_never_means_two_things(alver_yaml, before, after, problem):
    assert before in alver_yaml
    with pytest.raises(ConfigError) as caught:
        parse_config(alver_yaml.replace(before, after, 1))
    assert any(problem in error for error in caught.value.errors), caught.value.errors


def test_eight_departments_do_not_fit_in_two_levels_of_five_keys(alver_yaml):
    # Keys 7 and 8 become departments (no SMS, no callback): 1-8, with 9 and 0, is every digit.
    extra = "".join(
        f"  - id: {dep_id}\n"
        f'    key: "{key}"\n'
        f"    name: {{nn: {dep_id}}}\n"
        f'    number: "+475637510{key}"\n'
        '    hours: {mon: "09:00-15:00"}\n'
        for dep_id, key in (("kultur", "7"), ("idrett", "8"))
    )
    marker = "\n# What the municipality does not handle"
    text = alver_yaml.replace(marker, "\n" + extra + marker, 1)
    text = text.replace('    "7": sms\n', '    "7": department:kultur\n', 1)
    text = text.replace('    "8": callback\n', '    "8": department:idrett\n', 1)
    with pytest.raises(ConfigError) as caught:
        parse_config(text)
    assert "departments: at most 7 fit in the menus' two levels" in caught.value.errors
