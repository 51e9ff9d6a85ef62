"""Opening hours with the shipped Alver config, at the instants a caller could call."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from ivr.config import SWITCHBOARD, parse_config
from ivr.hours import Hours, ServiceStatus

OSLO = ZoneInfo("Europe/Oslo")
SUMMER = timedelta(hours=2)  # CEST
WINTER = timedelta(hours=1)  # CET


def oslo(text: str) -> datetime:
    """Oslo wall-clock time, written '2026-11-25T10:00'."""
    return datetime.fromisoformat(text).replace(tzinfo=OSLO)


def assert_open(hours: Hours, service: str, when: str) -> ServiceStatus:
    status = hours.status(service, oslo(when))
    assert status.open, f"{service} should be open at {when}, but is closed ({status.reason})"
    assert hours.is_open(service, oslo(when))
    return status


def assert_closed(hours: Hours, service: str, when: str, *, reason: str) -> ServiceStatus:
    status = hours.status(service, oslo(when))
    assert not status.open, f"{service} should be closed at {when}, but is open"
    assert not hours.is_open(service, oslo(when))
    assert status.reason == reason
    return status


def assert_opens(hours: Hours, service: str, *, after: str, at: str, offset: timedelta) -> None:
    opening = hours.next_opening(service, oslo(after))
    assert opening == oslo(at), f"after {after}, {service} opens {opening}, not {at}"
    assert opening.utcoffset() == offset
    assert hours.is_open(service, opening)
    assert not hours.is_open(service, opening - timedelta(microseconds=1))


def edited(yaml_text: str, *replacements: tuple[str, str]) -> Hours:
    """The config an operator gets by editing the shipped file."""
    for old, new in replacements:
        assert yaml_text.count(old) == 1, f"expected exactly one {old!r} in alver.yaml"
        yaml_text = yaml_text.replace(old, new)
    return Hours(parse_config(yaml_text))


# -- an ordinary week ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("clock", "is_open"),
    [("08:59", False), ("09:00", True), ("10:00", True), ("14:59", True), ("15:00", False)],
)
def test_switchboard_answers_from_nine_to_three_on_a_weekday(hours, clock, is_open):
    when = f"2026-11-25T{clock}"  # a Wednesday
    if is_open:
        status = assert_open(hours, SWITCHBOARD, when)
        assert status.closes_at == oslo("2026-11-25T15:00")
    else:
        assert_closed(hours, SWITCHBOARD, when, reason="weekly")


def test_before_opening_the_caller_is_told_today_at_nine(hours):
    status = assert_closed(hours, SWITCHBOARD, "2026-11-25T07:30", reason="weekly")
    assert status.next_opening == oslo("2026-11-25T09:00")


def test_saturday_is_closed_until_monday_morning(hours):
    status = assert_closed(hours, SWITCHBOARD, "2026-11-28T11:00", reason="weekly")
    assert status.next_opening == oslo("2026-11-30T09:00")
    assert hours.intervals_on(SWITCHBOARD, date(2026, 11, 28)) == []


def test_an_ordinary_sunday_is_not_a_holiday(hours):
    # Without include_sundays=False the holidays package would call every Sunday a holiday.
    status = assert_closed(hours, SWITCHBOARD, "2026-11-29T11:00", reason="weekly")
    assert status.holiday_name is None
    assert hours.is_holiday(date(2026, 11, 29)) is None


def test_after_closing_on_friday_the_next_opening_is_monday(hours):
    assert_opens(hours, SWITCHBOARD, after="2026-11-27T15:00", at="2026-11-30T09:00", offset=WINTER)


def test_while_open_the_next_opening_is_the_following_morning(hours):
    assert hours.next_opening(SWITCHBOARD, oslo("2026-11-25T09:00")) == oslo("2026-11-26T09:00")


# -- Easter, 17 May, Christmas ------------------------------------------------------------


def test_maundy_thursday_is_a_public_holiday(hours):
    status = assert_closed(hours, SWITCHBOARD, "2026-04-02T10:00", reason="holiday")
    assert status.holiday_name == "Skjærtorsdag"
    assert hours.is_holiday(date(2026, 4, 2)) == "Skjærtorsdag"
    assert hours.is_holiday(date(2026, 4, 1)) is None


def test_wednesday_before_maundy_thursday_closes_at_noon(hours):
    status = assert_open(hours, SWITCHBOARD, "2026-04-01T11:59")
    assert status.closes_at == oslo("2026-04-01T12:00")
    assert_closed(hours, SWITCHBOARD, "2026-04-01T12:00", reason="special_day")
    assert_closed(hours, SWITCHBOARD, "2026-04-01T08:30", reason="weekly")
    assert hours.intervals_on(SWITCHBOARD, date(2026, 4, 1)) == [
        (oslo("2026-04-01T09:00"), oslo("2026-04-01T12:00"))
    ]


def test_the_easter_run_closes_from_wednesday_noon_to_tuesday_morning(hours):
    assert_opens(hours, SWITCHBOARD, after="2026-04-01T12:00", at="2026-04-07T09:00", offset=SUMMER)
    for day in range(2, 7):
        assert hours.intervals_on(SWITCHBOARD, date(2026, 4, day)) == []


def test_the_easter_rule_follows_easter_every_year(hours):
    # Never typed in: the day after the early closing is always Maundy Thursday.
    for year in range(2024, 2041):
        early = [
            day
            for day in (date(year, 3, 1) + timedelta(days=n) for n in range(61))
            if hours.intervals_on(SWITCHBOARD, day)
            and hours.intervals_on(SWITCHBOARD, day)[-1][1].hour == 12
        ]
        assert len(early) == 1, year
        assert hours.is_holiday(early[0] + timedelta(days=1)) == "Skjærtorsdag"


def test_constitution_day_on_a_monday_is_closed(hours):
    status = assert_closed(hours, SWITCHBOARD, "2027-05-17T10:00", reason="holiday")
    # In 2027 it is Whit Monday as well; the caller hears both names.
    assert status.holiday_name is not None
    assert set(status.holiday_name.split(" og ")) == {"Grunnlovsdag", "Andre pinsedag"}
    assert status.next_opening == oslo("2027-05-18T09:00")


def test_holidays_close_every_department_and_reception(hours):
    assert hours.open_services(oslo("2027-05-17T10:00")) == []
    assert_closed(hours, "helse_omsorg", "2026-04-02T10:00", reason="holiday")


def test_christmas_eve_and_new_years_eve_are_closed_by_special_days(hours):
    assert_closed(hours, SWITCHBOARD, "2026-12-24T10:00", reason="special_day")
    assert_closed(hours, SWITCHBOARD, "2026-12-24T07:00", reason="special_day")  # all day
    assert_closed(hours, "knarvik", "2026-12-24T10:00", reason="special_day")
    status = assert_closed(hours, SWITCHBOARD, "2026-12-31T10:00", reason="special_day")
    assert status.next_opening == oslo("2027-01-04T09:00")  # 1 Jan is a Friday holiday


def test_after_the_twenty_third_the_line_opens_after_christmas(hours):
    assert_opens(hours, SWITCHBOARD, after="2026-12-23T15:00", at="2026-12-28T09:00", offset=WINTER)
    status = assert_closed(hours, SWITCHBOARD, "2026-12-25T10:00", reason="holiday")
    assert status.holiday_name == "Første juledag"


# -- daylight saving time -----------------------------------------------------------------


@pytest.mark.parametrize(("monday", "offset"), [("2026-03-30", SUMMER), ("2026-10-26", WINTER)])
def test_monday_after_a_clock_change_opens_at_nine_local_time(hours, monday, offset):
    assert_closed(hours, SWITCHBOARD, f"{monday}T08:59", reason="weekly")
    assert_open(hours, SWITCHBOARD, f"{monday}T09:00")
    ((start, end),) = hours.intervals_on(SWITCHBOARD, date.fromisoformat(monday))
    assert start.utcoffset() == offset
    assert start.astimezone(UTC).hour == 9 - offset.seconds // 3600
    assert end - start == timedelta(hours=6)


def test_next_opening_across_the_march_clock_change(hours):
    assert_opens(hours, SWITCHBOARD, after="2026-03-27T15:00", at="2026-03-30T09:00", offset=SUMMER)
    opening = hours.next_opening(SWITCHBOARD, oslo("2026-03-27T15:00"))
    assert opening.astimezone(UTC) == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)


def test_caller_during_the_repeated_october_hour_hears_monday(hours):
    # 02:30 happens twice on 25 Oct 2026; both are closed and both lead to Monday 09:00 CET.
    for fold in (0, 1):
        at = datetime(2026, 10, 25, 2, 30, fold=fold, tzinfo=OSLO)
        assert not hours.is_open(SWITCHBOARD, at)
        assert hours.next_opening(SWITCHBOARD, at) == oslo("2026-10-26T09:00")


def test_night_hours_on_the_clock_change_sundays_follow_the_wall_clock(alver_yaml):
    hours = edited(alver_yaml, ('fri: "08:00-15:30"}', 'fri: "08:00-15:30", sun: "01:00-04:00"}'))
    # 29 March: 02:00-03:00 does not exist, so 01:00-04:00 lasts two hours.
    ((start, end),) = hours.intervals_on("helse_omsorg", date(2026, 3, 29))
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=2)
    assert_open(hours, "helse_omsorg", "2026-03-29T03:30")
    assert hours.closes_at("helse_omsorg", oslo("2026-03-29T01:30")) == oslo("2026-03-29T04:00")
    # 25 October: 02:00-03:00 happens twice, so it lasts four hours and is open both times.
    ((start, end),) = hours.intervals_on("helse_omsorg", date(2026, 10, 25))
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=4)
    for fold in (0, 1):
        assert hours.is_open("helse_omsorg", datetime(2026, 10, 25, 2, 30, fold=fold, tzinfo=OSLO))
    assert_closed(hours, "helse_omsorg", "2026-10-25T04:00", reason="weekly")
    assert hours.next_opening("helse_omsorg", oslo("2026-10-25T04:00")) == oslo("2026-10-26T08:00")


# -- reception desks and departments ------------------------------------------------------

WEEK = {"mon": 23, "tue": 24, "wed": 25, "thu": 26, "fri": 27}  # November 2026


@pytest.mark.parametrize(
    ("desk", "days"),
    [
        ("knarvik", {"mon", "tue", "wed", "thu", "fri"}),
        ("manger", {"mon", "tue", "thu"}),
        ("frekhaug", {"wed", "fri"}),
    ],
)
def test_reception_desks_are_open_on_their_days(hours, desk, days):
    for weekday, day in WEEK.items():
        when = f"2026-11-{day}T10:00"
        if weekday in days:
            assert_open(hours, desk, when)
        else:
            assert_closed(hours, desk, when, reason="weekly")


def test_manger_reopens_on_thursday_after_tuesday(hours):
    assert hours.next_opening("manger", oslo("2026-11-24T15:00")) == oslo("2026-11-26T09:00")


def test_departments_keep_their_own_hours_around_the_switchboard(hours):
    assert_closed(hours, "skatt_gebyr", "2026-11-25T09:30", reason="weekly")
    assert_open(hours, SWITCHBOARD, "2026-11-25T09:30")
    assert_open(hours, "skatt_gebyr", "2026-11-25T13:59")
    assert_closed(hours, "skatt_gebyr", "2026-11-25T14:00", reason="weekly")
    # Health and care answers before and after the switchboard does.
    assert hours.open_services(oslo("2026-11-25T08:00")) == ["helse_omsorg"]
    assert hours.open_services(oslo("2026-11-25T15:15")) == ["helse_omsorg"]
    assert hours.closes_at("helse_omsorg", oslo("2026-11-25T15:15")) == oslo("2026-11-25T15:30")


def test_at_ten_every_service_is_open_except_the_desks_not_on_duty(hours):
    assert hours.open_services(oslo("2026-11-25T10:00")) == [
        SWITCHBOARD,
        "byggesak",
        "barnehage_skule",
        "helse_omsorg",
        "skatt_gebyr",
        "vatn_veg",
        "nav",
        "knarvik",
        "frekhaug",
    ]


def test_an_unknown_service_is_an_error(hours):
    with pytest.raises(KeyError):
        hours.weekly("kyrkja")
    with pytest.raises(KeyError):
        hours.is_open("kyrkja", oslo("2026-11-25T10:00"))
    with pytest.raises(KeyError):
        hours.next_opening("kyrkja", oslo("2026-11-25T10:00"))


def test_a_naive_instant_is_refused(hours):
    with pytest.raises(ValueError, match="time zone"):
        hours.is_open(SWITCHBOARD, datetime(2026, 11, 25, 10, 0))


# -- what operators change in the config --------------------------------------------------


def test_closed_now_closes_only_the_switchboard_line(alver_yaml):
    hours = edited(
        alver_yaml, ("  closed_now:\n    active: false", "  closed_now:\n    active: true")
    )
    status = assert_closed(hours, SWITCHBOARD, "2026-11-25T10:00", reason="closed_now")
    assert status.message is not None
    assert status.message.get("nn") == "Sentralbordet er stengt akkurat no."
    assert status.next_opening is None  # nobody knows when the operator switches it off
    assert_open(hours, "helse_omsorg", "2026-11-25T10:00")
    assert SWITCHBOARD not in hours.open_services(oslo("2026-11-25T10:00"))


CLOSURES = """  closures:
    - start: "2026-11-25T11:00"
      end: "2026-11-25T13:00"
      services: [switchboard]
      message: {nn: Sentralbordet har personalmøte til klokka 13., en: Staff meeting until 13.}
    - start: "2026-12-03T00:00"
      end: "2026-12-05T00:00"
"""


def test_a_temporary_closure_interrupts_the_day(alver_yaml):
    hours = edited(alver_yaml, ("  closures: []\n", CLOSURES))
    status = assert_open(hours, SWITCHBOARD, "2026-11-25T10:59")
    assert status.closes_at == oslo("2026-11-25T11:00")
    status = assert_closed(hours, SWITCHBOARD, "2026-11-25T12:00", reason="closure")
    assert status.message is not None
    assert status.message.get("nb") == "Sentralbordet har personalmøte til klokka 13."
    assert status.next_opening == oslo("2026-11-25T13:00")
    assert_open(hours, SWITCHBOARD, "2026-11-25T13:00")
    assert_open(hours, "byggesak", "2026-11-25T12:00")  # the closure names only the line


def test_a_closure_without_services_closes_everything(alver_yaml):
    hours = edited(alver_yaml, ("  closures: []\n", CLOSURES))
    assert hours.open_services(oslo("2026-12-04T10:00")) == []
    status = assert_closed(hours, "knarvik", "2026-12-03T10:00", reason="closure")
    assert status.message is None
    assert status.next_opening == oslo("2026-12-07T09:00")


def test_the_old_hours_are_a_config_change(alver_yaml):
    days = ("mon", "tue", "wed", "thu", "fri")
    hours = edited(
        alver_yaml, *((f'    {d}: "09:00-15:00"\n', f'    {d}: "08:00-15:30"\n') for d in days)
    )
    assert_open(hours, SWITCHBOARD, "2026-11-25T08:00")
    assert_open(hours, SWITCHBOARD, "2026-11-25T15:29")
    assert_closed(hours, SWITCHBOARD, "2026-11-25T15:30", reason="weekly")
    assert_closed(hours, SWITCHBOARD, "2026-11-25T07:59", reason="weekly")


SPECIAL = """  special_days:
    - date: 2026-11-27
      hours: "10:00-12:00"
      services: [switchboard]
    - month_day: "05-17"
      hours: "09:00-15:00"
"""


def test_a_special_day_for_one_service_leaves_the_others_alone(alver_yaml):
    hours = edited(alver_yaml, ("  special_days:\n", SPECIAL))
    assert_closed(hours, SWITCHBOARD, "2026-11-27T09:30", reason="special_day")
    assert_open(hours, SWITCHBOARD, "2026-11-27T11:00")
    assert_closed(hours, SWITCHBOARD, "2026-11-27T13:00", reason="special_day")
    assert_open(hours, "knarvik", "2026-11-27T09:30")


def test_a_public_holiday_beats_a_special_day(alver_yaml):
    hours = edited(alver_yaml, ("  special_days:\n", SPECIAL))
    assert_closed(hours, SWITCHBOARD, "2027-05-17T10:00", reason="holiday")


def test_a_lunch_break_closes_the_phone_for_half_an_hour(alver_yaml):
    hours = edited(alver_yaml, ('mon: "10:00-14:00"', 'mon: "10:00-11:30, 12:00-14:00"'))
    status = assert_open(hours, "skatt_gebyr", "2026-11-23T10:00")
    assert status.closes_at == oslo("2026-11-23T11:30")
    status = assert_closed(hours, "skatt_gebyr", "2026-11-23T11:45", reason="weekly")
    assert status.next_opening == oslo("2026-11-23T12:00")
    assert_open(hours, "skatt_gebyr", "2026-11-23T13:59")


def test_a_weekend_shift_past_midnight_is_one_open_stretch(alver_yaml):
    hours = edited(
        alver_yaml,
        ('fri: "08:00-15:30"}', 'fri: "08:00-15:30", sat: "12:00-24:00", sun: "00:00-12:00"}'),
    )
    assert_open(hours, "helse_omsorg", "2026-11-28T23:59")
    assert_open(hours, "helse_omsorg", "2026-11-29T00:00")
    assert hours.closes_at("helse_omsorg", oslo("2026-11-28T20:00")) == oslo("2026-11-29T12:00")
    # Midnight is not an opening: the next one is Monday morning.
    assert hours.next_opening("helse_omsorg", oslo("2026-11-28T20:00")) == oslo("2026-11-30T08:00")


# -- every quarter hour of 2026 -----------------------------------------------------------


@pytest.mark.parametrize("service", [SWITCHBOARD, "helse_omsorg"])
def test_next_opening_and_closing_agree_with_is_open_all_year(hours, service):
    # Alver's hours all change on quarter hours, so the first quarter hour that is open (or
    # closed) after an instant is exactly the next opening (or closing) the caller is told.
    step, start = timedelta(minutes=15), datetime(2026, 1, 1, tzinfo=UTC)
    grid = [start + i * step for i in range(4 * 24 * (365 + 14))]
    is_open = [hours.is_open(service, t) for t in grid]
    year_end = datetime(2027, 1, 1, tzinfo=UTC)
    mismatches = []
    next_opening: datetime | None = None
    next_closing: datetime | None = None
    for i in reversed(range(1, len(grid))):
        if grid[i] < year_end:
            if is_open[i]:
                got = hours.closes_at(service, grid[i])
                if got != next_closing:
                    mismatches.append(("closes_at", grid[i], got, next_closing))
            got = hours.next_opening(service, grid[i])
            if got != next_opening:
                mismatches.append(("next_opening", grid[i], got, next_opening))
        if is_open[i] and not is_open[i - 1]:
            next_opening = grid[i]
        if not is_open[i] and is_open[i - 1]:
            next_closing = grid[i]
    assert mismatches[:5] == []
    assert sum(is_open) > 1000  # the year really has opening hours to check against
