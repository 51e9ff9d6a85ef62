"""The main menu and the closed flow, as pure steps at fixed instants."""

from __future__ import annotations

import pytest

from ivr.call import Context
from ivr.closed import speech_hints
from ivr.config import Config, parse_config
from ivr.menu import answer_call, handle_closed_menu, handle_open_menu
from ivr.transfer import handle_department_closed
from tests.ivr.flowkit import assert_snapshot, make_context, make_turn, spoken


@pytest.fixture
def ctx(alver: Config) -> Context:
    return make_context(alver)


def test_open_greeting_and_menu_snapshot(ctx):
    reply = answer_call(ctx, make_turn("2026-11-25T10:00"))
    assert_snapshot("open_menu_nn", reply)
    text = spoken(reply)
    assert text.startswith("Velkomen til Alver kommune. For English, press 9.")
    assert "Sei kort kva det gjeld. For barnehage og skule, trykk 2." in text
    assert "For vatn, avløp og veg, trykk 5. For andre avdelingar, trykk stjerne." in text
    assert "For sentralbordet, trykk 0" in text
    assert "ope til klokka tre" in text
    assert "byggesak" not in text  # on the second level, under its usual key


def test_open_menu_gather_is_followed_by_redirect(ctx):
    xml = answer_call(ctx, make_turn("2026-11-25T10:00")).xml()
    assert 'input="dtmf speech"' in xml
    assert 'numDigits="1"' in xml
    assert 'language="nb-NO"' in xml
    assert xml.index("</Gather>") < xml.index("<Redirect>")


def test_closed_menu_snapshot_on_a_saturday(ctx):
    reply = answer_call(ctx, make_turn("2026-11-28T10:00"))
    assert_snapshot("closed_menu_saturday_nn", reply)
    text = spoken(reply)
    assert "Vi opnar att måndag 30. november klokka ni" in text
    assert "ring 113" in text
    assert "116 117" in text
    assert "vakttelefonen for vatn og avløp" in text  # the on-call line, under key 5
    assert "For byggesak" not in text  # closed departments are not offered


def test_closed_menu_keeps_open_departments_under_their_keys(ctx):
    # 08:30 on a weekday: the switchboard opens at 09:00, helse og omsorg already at 08:00.
    text = spoken(answer_call(ctx, make_turn("2026-11-25T08:30")))
    assert "Vi opnar att i dag klokka ni" in text
    assert "For helse og omsorg, trykk 3" in text
    assert "For byggesak" not in text


def test_eight_fifty_nine_is_closed_and_nine_is_open(ctx):
    assert "Sentralbordet er stengt" in spoken(answer_call(ctx, make_turn("2026-11-25T08:59")))
    assert "trykk 0" in spoken(answer_call(ctx, make_turn("2026-11-25T09:00")))


def test_fourteen_fifty_nine_is_open_and_fifteen_is_closed(ctx):
    assert "For sentralbordet" in spoken(answer_call(ctx, make_turn("2026-11-25T14:59")))
    assert "Vi opnar att i morgon klokka ni" in spoken(
        answer_call(ctx, make_turn("2026-11-25T15:00"))
    )


def test_maundy_thursday_names_the_holiday_and_the_next_opening(ctx):
    text = spoken(answer_call(ctx, make_turn("2026-04-02T10:00")))
    assert "stengt i dag, skjærtorsdag." in text
    assert "tysdag 7. april klokka ni" in text


@pytest.mark.parametrize(
    ("at", "language", "expected"),
    [
        ("2026-05-01T10:00", "nn", "stengt i dag, arbeidarane sin dag."),
        ("2026-05-01T10:00", "nb", "stengt i dag, arbeidernes dag."),
        ("2026-05-14T10:00", "nn", "stengt i dag, Kristi himmelfartsdag."),
        ("2027-05-17T10:00", "nn", "stengt i dag, andre pinsedag og grunnlovsdagen."),
    ],
)
def test_holidays_are_named_in_the_callers_language(ctx, at, language, expected):
    assert expected in spoken(answer_call(ctx, make_turn(at, language=language)))


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("nn", "Sentralbordet er stengt i dag, julaftan."),
        ("nb", "Sentralbordet er stengt i dag, julaften."),
        ("en", "The switchboard is closed today for Christmas Eve."),
    ],
)
def test_special_days_are_named_in_the_callers_language(ctx, language, expected):
    assert expected in spoken(answer_call(ctx, make_turn("2026-12-24T10:00", language=language)))


def test_a_plain_string_note_is_said_in_norwegian_and_left_out_in_english(alver_yaml: str):
    old = "note: {nn: julaftan, nb: julaften, en: Christmas Eve}"
    assert old in alver_yaml
    ctx = make_context(parse_config(alver_yaml.replace(old, "note: julaftan")))
    at = "2026-12-24T10:00"
    assert "stengt i dag, julaftan." in spoken(answer_call(ctx, make_turn(at, language="nb")))
    english = spoken(answer_call(ctx, make_turn(at, language="en")))
    assert "The switchboard is closed today. We open again" in english


def test_wednesday_before_maundy_thursday_closes_at_noon(ctx):
    assert "ope til klokka tolv" in spoken(answer_call(ctx, make_turn("2026-04-01T11:59")))
    assert "Sentralbordet er stengt" in spoken(answer_call(ctx, make_turn("2026-04-01T12:00")))


def test_christmas_eve_and_seventeenth_of_may_are_closed(ctx):
    assert "måndag 28. desember klokka ni" in spoken(
        answer_call(ctx, make_turn("2026-12-24T10:00"))
    )
    assert "grunnlovsdag" in spoken(answer_call(ctx, make_turn("2027-05-17T10:00")))


def test_monday_after_each_dst_change_opens_at_nine_local(ctx):
    for monday in ("2026-03-30", "2026-10-26"):
        assert "Sentralbordet er stengt" in spoken(answer_call(ctx, make_turn(f"{monday}T08:59")))
        assert "For sentralbordet" in spoken(answer_call(ctx, make_turn(f"{monday}T09:00")))


def test_english_menu_snapshot(ctx):
    reply = handle_open_menu(ctx, make_turn("2026-11-25T10:00", step=1, Digits="9"))
    assert_snapshot("open_menu_en", reply)
    assert "For the switchboard, press 0" in spoken(reply)
    assert "lang=en" in reply.xml()


def test_invalid_key_says_so_and_retries(ctx):
    reply = handle_open_menu(ctx, make_turn("2026-11-25T10:00", step=1, Digits="8"))
    assert spoken(reply).startswith("Det var dessverre eit ugyldig val.")
    assert "n=1" in reply.xml()
    assert "<Gather" in reply.xml()


def test_silence_repeats_once_then_queues_for_the_switchboard(ctx):
    first = handle_open_menu(ctx, make_turn("2026-11-25T10:00", step=1, n="0"))
    assert "<Gather" in first.xml()
    assert "<Enqueue" not in first.xml()
    second = handle_open_menu(ctx, make_turn("2026-11-25T10:00", step=2, n="1"))
    assert "<Enqueue" in second.xml()
    assert ">sentralbord</Enqueue>" in second.xml()


@pytest.mark.parametrize(
    ("speech", "language", "department"),
    [
        ("Eg har ein byggesøknad", "nn", "byggesak"),
        ("jeg lurer på eiendomsskatten", "nb", "skatt"),
        ("I have a question about my daughter's school", "en", "barnehage"),
    ],
)
def test_speech_routes_to_the_department(ctx, speech, language, department):
    turn = make_turn("2026-11-25T10:00", language=language, step=1, SpeechResult=speech)
    reply = handle_open_menu(ctx, turn)
    assert "<Dial" in reply.xml()
    assert f"d={department}" in reply.xml()


def test_unmatched_speech_reprompts_once_then_switchboard(ctx):
    first = handle_open_menu(ctx, make_turn("2026-11-25T10:00", step=1, SpeechResult="bananar"))
    assert "Orsak, det forstod eg ikkje." in spoken(first)
    assert "<Gather" in first.xml()
    second = handle_open_menu(
        ctx, make_turn("2026-11-25T10:00", step=2, n="1", SpeechResult="bananar")
    )
    assert "<Enqueue" in second.xml()


def test_every_department_key_transfers_when_open(ctx, alver):
    for department in alver.departments:
        reply = handle_open_menu(ctx, make_turn("2026-11-25T11:00", step=1, Digits=department.key))
        assert f">{department.number}</Number>" in reply.xml(), department.id


def test_closed_department_says_its_hours_and_offers_the_rest(ctx):
    # 14:30: the switchboard is open, byggesak (09-14) is closed.
    reply = handle_open_menu(ctx, make_turn("2026-11-25T14:30", step=1, Digits="1"))
    assert_snapshot("department_closed_byggesak_nn", reply)
    text = spoken(reply)
    assert "har telefontid måndag til fredag klokka ni til to" in text
    assert "i morgon klokka ni" in text
    assert "For sentralbordet, trykk 0" in text


def test_a_closed_department_offers_its_options_under_the_keys_they_have_everywhere(ctx):
    """The SMS is 7 there as in the closed menu, never 1 (byggesak's key)."""
    byggesak = ctx.config.department("byggesak")
    at = "2026-11-25T14:30"
    sms = handle_department_closed(ctx, make_turn(at, step=2, Digits="7"), department=byggesak)
    assert [e.kind for e in sms.events] == ["menu_choice", "sms_requested"]
    one = handle_department_closed(ctx, make_turn(at, step=2, Digits="1"), department=byggesak)
    assert "sms_requested" not in [e.kind for e in one.events]
    assert "<Enqueue" in one.xml()  # the switchboard is open: the caller is not lost


def test_closed_menu_on_call_key_dials_the_on_call_line(ctx, alver):
    reply = handle_closed_menu(ctx, make_turn("2026-11-28T22:00", step=1, Digits="5"))
    assert f">{alver.department('vatn_veg').on_call.number}</Number>" in reply.xml()


def test_closed_menu_sms_for_a_mobile_records_the_request(ctx):
    reply = handle_closed_menu(ctx, make_turn("2026-11-28T22:00", step=1, Digits="7"))
    assert [e.kind for e in reply.events] == ["menu_choice", "sms_requested"]
    assert reply.events[1].data["to"] == "+4791234567"
    assert "alver.kommune.no" in str(reply.events[1].data["body"])


def test_closed_menu_callback_from_a_mobile_is_due_at_the_next_opening(ctx):
    reply = handle_closed_menu(ctx, make_turn("2026-11-28T22:00", step=1, Digits="8"))
    callback = reply.events[-1]
    assert callback.kind == "callback_requested"
    assert callback.data["due_at"] == "2026-11-30T09:00:00+01:00"
    assert "sluttar på 4 5 6 7" in spoken(reply)


def test_the_closed_menu_offers_no_repeat_and_0_starts_it_again(ctx):
    text = spoken(answer_call(ctx, make_turn("2026-11-28T10:00", language="en")))
    assert "hear this again" not in text  # the Redirect re-prompts on silence
    assert "press 0" not in text
    again = spoken(handle_closed_menu(ctx, make_turn("2026-11-28T10:00", step=1, Digits="0")))
    assert "Sentralbordet er stengt no. Vi opnar att måndag 30. november klokka ni." in again
    assert "ugyldig" not in again


def test_speech_hints_are_in_the_gathers_language(alver: Config):
    english = speech_hints(alver, "en")
    norwegian = speech_hints(alver, "nn")
    assert "building" in english
    assert "byggesak" not in english
    assert "NAV Alver, the welfare office" in english
    assert "byggesak" in norwegian
    assert "byggesøknad" in norwegian
    assert "building" not in norwegian
    # The referrals' words are expected too, before the departments': legevakt above all.
    assert norwegian[0] == "legevakt"
    assert "legevakt" not in norwegian[1:]
    assert english.index("out-of-hours doctor") < english.index("building")
