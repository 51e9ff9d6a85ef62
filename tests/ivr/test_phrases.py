"""What the caller hears about opening times, in Nynorsk, Bokmål and English."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from ivr.config import SWITCHBOARD, WeeklyHours
from ivr.phrases import (
    NYNORSK_HOLIDAYS,
    at_clock,
    describe_instant,
    describe_weekly,
    holiday_name,
    sentence_start,
    weekday_name,
)

OSLO = ZoneInfo("Europe/Oslo")


def oslo(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=OSLO)


def week(**days: str) -> WeeklyHours:
    return WeeklyHours.model_validate(days)


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("nn", "i morgon klokka ni"),
        ("nb", "i morgen klokken ni"),
        ("en", "tomorrow at nine in the morning"),
    ],
)
def test_after_closing_the_caller_hears_tomorrow(hours, language, expected):
    now = oslo("2026-11-24T15:00")
    opening = hours.next_opening(SWITCHBOARD, now)
    assert describe_instant(opening, now=now, language=language) == expected


@pytest.mark.parametrize(
    ("language", "expected"),
    [("nn", "i dag klokka ni"), ("nb", "i dag klokken ni"), ("en", "today at nine in the morning")],
)
def test_before_opening_the_caller_hears_today(hours, language, expected):
    now = oslo("2026-11-25T07:45")
    opening = hours.next_opening(SWITCHBOARD, now)
    assert describe_instant(opening, now=now, language=language) == expected


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("nn", "tysdag 7. april klokka ni"),
        ("nb", "tirsdag 7. april klokken ni"),
        ("en", "Tuesday 7 April at nine in the morning"),
    ],
)
def test_at_easter_the_caller_hears_the_weekday_and_date(hours, language, expected):
    now = oslo("2026-04-01T12:00")
    opening = hours.next_opening(SWITCHBOARD, now)
    assert describe_instant(opening, now=now, language=language) == expected


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("nn", "måndag 6. april klokka ni"),
        ("nb", "mandag 6. april klokken ni"),
        ("en", "Monday 6 April at nine in the morning"),
    ],
)
def test_a_later_date_is_weekday_day_and_month(language, expected):
    now = oslo("2026-04-01T10:00")
    assert describe_instant(oslo("2026-04-06T09:00"), now=now, language=language) == expected


def test_the_day_is_the_day_in_oslo_even_when_the_clock_is_utc():
    # 23:30 UTC on 24 November is already 00:30 on the 25th in Oslo.
    now = datetime(2026, 11, 24, 23, 30, tzinfo=UTC)
    assert describe_instant(oslo("2026-11-25T09:00"), now=now, language="nn") == "i dag klokka ni"


def test_a_date_far_ahead_says_its_year():
    now = oslo("2026-11-25T10:00")
    far = describe_instant(oslo("2027-12-01T09:00"), now=now, language="nn")
    assert far == "onsdag 1. desember 2027 klokka ni"
    near = describe_instant(oslo("2027-04-01T09:00"), now=now, language="en")
    assert near == "Thursday 1 April at nine in the morning"


def test_weekday_names_in_nynorsk_and_bokmal():
    monday = date(2026, 11, 23)
    days = [monday + timedelta(days=n) for n in range(7)]
    assert [weekday_name(d, language="nn") for d in days] == [
        "måndag",
        "tysdag",
        "onsdag",
        "torsdag",
        "fredag",
        "laurdag",
        "sundag",
    ]
    assert [weekday_name(d, language="nb") for d in days] == [
        "mandag",
        "tirsdag",
        "onsdag",
        "torsdag",
        "fredag",
        "lørdag",
        "søndag",
    ]


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("nn", "måndag til fredag klokka ni til tre"),
        ("nb", "mandag til fredag klokken ni til tre"),
        ("en", "Monday to Friday nine in the morning to three in the afternoon"),
    ],
)
def test_switchboard_hours_in_words(hours, language, expected):
    assert describe_weekly(hours.weekly(SWITCHBOARD), language=language) == expected


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("nn", "måndag, tysdag og torsdag klokka ni til tre"),
        ("nb", "mandag, tirsdag og torsdag klokken ni til tre"),
        ("en", "Monday, Tuesday and Thursday nine in the morning to three in the afternoon"),
    ],
)
def test_manger_reception_hours_in_words(hours, language, expected):
    assert describe_weekly(hours.weekly("manger"), language=language) == expected


def test_frekhaug_reception_hours_in_words(hours):
    assert (
        describe_weekly(hours.weekly("frekhaug"), language="nn")
        == "onsdag og fredag klokka ni til tre"
    )


def test_days_with_different_hours_are_said_in_turn():
    hours = week(
        mon="08:00-15:30",
        tue="08:00-15:30",
        wed="08:00-15:30",
        thu="08:00-15:30",
        fri="08:00-14:00",
    )
    assert describe_weekly(hours, language="nn") == (
        "måndag til torsdag klokka åtte til halv fire og fredag klokka åtte til to"
    )
    assert describe_weekly(hours, language="en") == (
        "Monday to Thursday eight in the morning to three thirty in the afternoon "
        "and Friday eight in the morning to two in the afternoon"
    )


def test_a_lunch_break_and_two_days_in_a_row():
    hours = week(mon="09:00-11:30, 12:00-15:00", tue="09:00-11:30, 12:00-15:00")
    assert (
        describe_weekly(hours, language="nb")
        == "mandag og tirsdag klokken ni til halv tolv og tolv til tre"
    )


def test_a_range_with_a_day_apart_and_the_weekend():
    hours = week(mon="09:00-15:00", tue="09:00-15:00", wed="09:00-15:00", fri="09:00-15:00")
    assert describe_weekly(hours, language="nn") == "måndag til onsdag og fredag klokka ni til tre"
    hours = week(sat="10:00-24:00", sun="10:00-24:00")
    assert (
        describe_weekly(hours, language="en")
        == "Saturday and Sunday ten in the morning to midnight"
    )


def test_a_week_without_hours_is_closed():
    assert describe_weekly(week(), language="nn") == "stengt"
    assert describe_weekly(week(), language="en") == "closed"


@pytest.mark.parametrize(
    ("name", "expected"),
    [("Nav Alver", "Nav Alver"), ("byggesak", "Byggesak"), ("NAV Alver", "NAV Alver"), ("", "")],
)
def test_a_name_that_starts_a_sentence_keeps_its_other_capitals(name, expected):
    assert sentence_start(name) == expected


def test_every_norwegian_public_holiday_has_a_nynorsk_name(hours):
    for year in (2026, 2027, 2028):
        for day in (date(year, 1, 1) + timedelta(days=n) for n in range(366)):
            names = hours.is_holiday(day)
            for name in (names or "").split(" og "):
                assert not name or name in NYNORSK_HOLIDAYS, (day, name)


@pytest.mark.parametrize(
    ("names", "language", "expected"),
    [
        ("Arbeidernes dag", "nn", "arbeidarane sin dag"),
        ("Arbeidernes dag", "nb", "arbeidernes dag"),
        ("Første nyttårsdag", "nn", "nyttårsdag"),
        ("Kristi himmelfartsdag", "nn", "Kristi himmelfartsdag"),
        ("Kristi himmelfartsdag", "nb", "Kristi himmelfartsdag"),
        ("Grunnlovsdag og Andre pinsedag", "nn", "grunnlovsdagen og andre pinsedag"),
        ("Grunnlovsdag og Kristi himmelfartsdag", "nb", "grunnlovsdag og Kristi himmelfartsdag"),
    ],
)
def test_holidays_are_named_in_the_callers_language_mid_sentence(names, language, expected):
    assert holiday_name(names, language=language) == expected


@pytest.mark.parametrize(
    ("clock", "nn", "nb", "en"),
    [
        (time(9), "klokka ni", "klokken ni", "at nine in the morning"),
        (time(9, 30), "klokka halv ti", "klokken halv ti", "at nine thirty in the morning"),
        (
            time(10, 15),
            "klokka kvart over ti",
            "klokken kvart over ti",
            "at ten fifteen in the morning",
        ),
        (
            time(14, 45),
            "klokka kvart på tre",
            "klokken kvart på tre",
            "at two forty-five in the afternoon",
        ),
        (time(15), "klokka tre", "klokken tre", "at three in the afternoon"),
        (time(13), "klokka eitt", "klokken ett", "at one in the afternoon"),
        (time(12), "klokka tolv", "klokken tolv", "at twelve noon"),
        (
            time(9, 20),
            "klokka ti på halv ti",
            "klokken ti på halv ti",
            "at nine twenty in the morning",
        ),
        (time(19), "klokka sju", "klokken sju", "at seven in the evening"),
        (time(9, 7), "klokka 9.07", "klokken 9.07", "at nine oh seven in the morning"),
    ],
)
def test_times_are_said_the_way_a_person_says_them(clock, nn, nb, en):
    assert at_clock(clock, language="nn") == nn
    assert at_clock(clock, language="nb") == nb
    assert at_clock(clock, language="en") == en
