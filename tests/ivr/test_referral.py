"""Referrals: what Alver does not handle is said with who does, offered by SMS, then the menu."""

from __future__ import annotations

import pytest

from ivr.call import Context
from ivr.config import Config, ConfigError, parse_config
from ivr.menu import handle_open_menu, handle_referral_sms
from ivr.speech import asks_for_switchboard, match_department, route
from tests.ivr.flowkit import make_context, make_turn, spoken

LANDLINE = "+4756375555"


@pytest.fixture
def ctx(alver: Config) -> Context:
    return make_context(alver)


def test_legevakt_is_referred_to_116_117_and_never_reaches_helse(ctx):
    reply = handle_open_menu(ctx, make_turn("2026-11-25T10:00", step=1, SpeechResult="legevakt"))
    [choice] = [e for e in reply.events if e.kind == "menu_choice"]
    assert choice.data["target"] == "referral:legevakt"
    assert choice.data["input"] == "speech"
    assert "ring 116 117" in spoken(reply)
    assert "<Dial" not in reply.xml()
    assert "d=helse_omsorg" not in reply.xml()
    # legevakt has no SMS: straight back to the menu, never a hang-up
    assert "Kan eg hjelpe deg med noko anna?" in spoken(reply)
    assert "/twilio/menu?" in reply.xml()
    assert "<Hangup" not in reply.xml()


def test_legevakt_wins_over_every_department_keyword(alver):
    for speech in (
        "lege legevakt",
        "helse legevakt omsorg",
        "legevakt for mor på sjukeheim",
        "sjukepengar eller legevakt",  # another referral scoring higher: legevakt still first
    ):
        assert route(alver, speech) == "referral:legevakt", speech


def test_a_referral_with_an_sms_offers_it_on_a_mobile(ctx):
    turn = make_turn("2026-11-25T10:00", step=1, SpeechResult="søppeltømming")
    reply = handle_open_menu(ctx, turn)
    assert "ngir.no" in spoken(reply)
    assert "Vil du få dette på tekstmelding, trykk 1." in spoken(reply)
    assert "/twilio/referral?lang=nn&amp;s=2&amp;r=ngir" in reply.xml()
    assert not [e for e in reply.events if e.kind == "sms_requested"]


def test_pressing_1_sends_the_referral_sms_then_the_menu(ctx):
    reply = handle_referral_sms(ctx, make_turn("2026-11-25T10:00", step=2, r="ngir", Digits="1"))
    [sms] = [e for e in reply.events if e.kind == "sms_requested"]
    assert sms.data["purpose"] == "referral:ngir"
    assert sms.data["body"] == "Renovasjon og avfall: NGIR, https://www.ngir.no"
    assert sms.dedupe_key == "CA" + "1" * 32 + ":sms:referral:ngir"
    assert "Du får det no på tekstmelding. Kan eg hjelpe deg med noko anna?" in spoken(reply)
    assert "/twilio/menu?" in reply.xml()


def test_silence_at_the_offer_sends_nothing_and_returns_to_the_menu(ctx):
    reply = handle_referral_sms(ctx, make_turn("2026-11-25T10:00", step=2, r="ngir"))
    assert not [e for e in reply.events if e.kind == "sms_requested"]
    assert "Kan eg hjelpe deg med noko anna?" in spoken(reply)


def test_a_landline_hears_the_message_and_no_offer(ctx):
    turn = make_turn("2026-11-25T10:00", step=1, caller=LANDLINE, SpeechResult="skattemelding")
    reply = handle_open_menu(ctx, turn)
    assert "800 80 000" in spoken(reply)
    assert "tekstmelding" not in spoken(reply)
    assert "Kan eg hjelpe deg med noko anna?" in spoken(reply)


def test_english_referral(ctx):
    turn = make_turn("2026-11-25T10:00", language="en", step=1, SpeechResult="sick pay")
    reply = handle_open_menu(ctx, turn)
    assert "Call 55 55 33 33" in spoken(reply)
    assert "To get this by text message, press 1." in spoken(reply)


def test_after_closing_the_referral_returns_to_the_closed_menu(ctx):
    reply = handle_referral_sms(ctx, make_turn("2026-11-25T15:30", step=2, r="ngir"))
    assert "/twilio/closed?" in reply.xml()


def test_nav_alone_stays_local_and_the_state_benefits_are_referred(alver):
    assert route(alver, "nav") == "department:nav"
    assert route(alver, "dagpengar") == "referral:nav_kontaktsenter"
    assert route(alver, "nav kontaktsenter") == "referral:nav_kontaktsenter"
    assert route(alver, "eigedomsskatt") == "department:skatt_gebyr"
    assert route(alver, "skatteoppgjeret") == "referral:skatteetaten"


def test_short_keywords_match_whole_words_only(alver):
    for speech in ("bytte navn", "veiledning", "vegleiing", "billig", "feedback", "career"):
        assert match_department(alver, speech) is None, speech
    assert match_department(alver, "vegen") is not None


@pytest.mark.parametrize(
    "speech", ["kan jeg snakke med en person", "talk to a person", "snakke med eit menneske"]
)
def test_asking_for_a_person_is_the_switchboard(speech):
    assert asks_for_switchboard(speech)


def test_referral_ids_are_unique(alver_yaml):
    text = alver_yaml.replace("  - id: ngir\n", "  - id: legevakt\n", 1)
    with pytest.raises(ConfigError, match=r"referrals\[1\]\.id: 'legevakt' is already in use"):
        parse_config(text)
