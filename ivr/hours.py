"""Opening hours: is a service open at an instant, why not, and when does it open next.

A service is the switchboard line (`ivr.config.SWITCHBOARD`), a department or a reception
desk, each with its weekly hours. On top of those, in order of strength:

1. `closed_now` closes the switchboard line only (the operator's override; departments keep
   their own phones and hours), until it is switched off: it has no known next opening.
2. Temporary closures close their services between two local instants.
3. Public holidays from the `holidays` package close every service all day.
4. Special days replace a date's weekly intervals (`hours`) or cut them short (`closes_at`).

Weekly intervals are local wall-clock times, so 09:00 is 09:00 on both sides of a DST change.
Internally every instant is compared in UTC: two aware datetimes that share a tzinfo compare
by wall clock and ignore `fold`, which gets the repeated October hour wrong.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

import holidays
from dateutil.easter import easter

from ivr.config import SWITCHBOARD, Closure, Config, SpecialDay, Text, WeeklyHours

Reason = Literal["open", "weekly", "holiday", "special_day", "closure", "closed_now"]
Span = tuple[datetime, datetime]  # [start, end) in UTC

# How far next_opening looks ahead: beyond a year, so an annual closure still has an answer.
HORIZON_DAYS = 400
# An interval written as ending at 24:00 is stored as the last microsecond of the day.
_END_OF_DAY = time(23, 59, 59, 999999)


@dataclass(frozen=True)
class ServiceStatus:
    service: str
    open: bool
    reason: Reason
    closes_at: datetime | None  # end of the current open interval, when open
    next_opening: datetime | None  # when closed; None when it does not open within the horizon
    holiday_name: str | None  # when reason == "holiday"
    message: Text | None  # the closure's or closed_now's own message


def wednesday_before_maundy_thursday(year: int) -> date:
    # Same Easter computation as the `holidays` package, so the two never disagree.
    return easter(year) - timedelta(days=4)


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{at!r} has no time zone; pass an aware datetime")
    return at.astimezone(UTC)


class Hours:
    """Opening hours of every service in one municipality's config."""

    def __init__(self, config: Config) -> None:
        self._config = config
        self._zone = config.zone
        self._weekly: dict[str, WeeklyHours] = {SWITCHBOARD: config.switchboard.hours}
        self._weekly.update((d.id, d.hours) for d in config.departments)
        self._weekly.update((r.id, r.hours) for r in config.receptions)
        calendar = config.calendar
        self._closed_now = calendar.closed_now.active
        self._closures: list[tuple[Closure, Span]] = [
            (c, (self._local_to_utc(c.start), self._local_to_utc(c.end))) for c in calendar.closures
        ]
        # A one-off date beats a yearly month-day, which beats a computed rule; then file order.
        self._special_days = sorted(
            calendar.special_days,
            key=lambda s: 0 if s.date is not None else 1 if s.month_day is not None else 2,
        )
        self._holiday_options: dict[str, Any] = {}
        if calendar.holiday_country == "NO":
            # Only Norway takes this option; without it every Sunday counts as a holiday.
            self._holiday_options["include_sundays"] = False
        localized = holidays.list_localized_countries().get(calendar.holiday_country, [])
        self._holiday_language = "no" if "no" in localized else None
        # Caches filled on first use. A race between threads only computes the same value
        # twice, so one Hours can serve every request of a process.
        self._holidays: dict[int, holidays.HolidayBase] = {}
        self._spans: dict[tuple[str, date], list[Span]] = {}

    # -- the calendar -----------------------------------------------------------------------

    def weekly(self, service: str) -> WeeklyHours:
        return self._weekly[service]

    def is_holiday(self, day: date) -> str | None:
        year = self._holidays.get(day.year)
        if year is None:
            calendar = self._config.calendar
            year = holidays.country_holidays(
                calendar.holiday_country,
                subdiv=calendar.holiday_subdivision,
                years=day.year,
                expand=False,
                language=self._holiday_language,
                **self._holiday_options,
            )
            self._holidays[day.year] = year
        names = year.get_list(day)
        # Two holidays can share a date (17 May and Ascension in 2012); spoken, "og" reads well.
        return " og ".join(names) if names else None

    def special_day(self, service: str, day: date) -> SpecialDay | None:
        """The special day that applies to this service on this date, if any."""
        self.weekly(service)
        for special in self._special_days:
            if special.services is not None and service not in special.services:
                continue
            if special.date is not None and special.date == day:
                return special
            if special.month_day is not None and special.month_day == f"{day:%m-%d}":
                return special
            if special.rule == "wednesday_before_maundy_thursday" and (
                day == wednesday_before_maundy_thursday(day.year)
            ):
                return special
        return None

    def intervals_on(self, service: str, day: date) -> list[tuple[datetime, datetime]]:
        """Effective open intervals on a local date, as local datetimes.

        Holidays and special days are applied; closures and closed_now are not, since they
        are instants rather than dates (`is_open` and `status` apply them).
        """
        return [
            (start.astimezone(self._zone), end.astimezone(self._zone))
            for start, end in self._day_intervals(service, day)
        ]

    # -- instants ---------------------------------------------------------------------------

    def is_open(self, service: str, at: datetime) -> bool:
        if service == SWITCHBOARD and self._closed_now:
            self.weekly(service)
            return False
        instant = _utc(at)
        return any(s <= instant < e for s, e in self._open_spans(service, self._day_of(instant)))

    def closes_at(self, service: str, at: datetime) -> datetime | None:
        """The end of the open stretch containing `at`; None if closed or open past the horizon."""
        if not self.is_open(service, at):
            return None
        instant = _utc(at)
        horizon = self._horizon(instant)
        for start, end in self._walk(service, self._day_of(instant)):
            if start <= instant < end:
                return None if end >= horizon else end.astimezone(self._zone)
        return None

    def next_opening(self, service: str, at: datetime) -> datetime | None:
        """The first opening strictly after `at`: the instant it opens, having been closed.

        When closed this is the first open instant >= at. When open, it is the opening after
        the current open stretch. None under closed_now or when nothing opens in the horizon.
        """
        self.weekly(service)
        if service == SWITCHBOARD and self._closed_now:
            return None
        instant = _utc(at)
        for start, _end in self._walk(service, self._day_of(instant)):
            if start > instant:
                return start.astimezone(self._zone)
        return None

    def status(self, service: str, at: datetime) -> ServiceStatus:
        instant = _utc(at)
        if self.is_open(service, at):
            return ServiceStatus(
                service=service,
                open=True,
                reason="open",
                closes_at=self.closes_at(service, at),
                next_opening=None,
                holiday_name=None,
                message=None,
            )
        reason, holiday_name, message = self._why_closed(service, instant)
        return ServiceStatus(
            service=service,
            open=False,
            reason=reason,
            closes_at=None,
            next_opening=self.next_opening(service, at),
            holiday_name=holiday_name,
            message=message,
        )

    def open_services(self, at: datetime) -> list[str]:
        """Open services in config order: the switchboard, departments, then receptions."""
        return [service for service in self._weekly if self.is_open(service, at)]

    # -- internals --------------------------------------------------------------------------

    def _why_closed(
        self, service: str, instant: datetime
    ) -> tuple[Reason, str | None, Text | None]:
        if service == SWITCHBOARD and self._closed_now:
            return "closed_now", None, self._config.calendar.closed_now.message
        closures = [c for c, (s, e) in self._closures_for(service) if s <= instant < e]
        if closures:
            with_message = [c for c in closures if c.message is not None]
            return "closure", None, (with_message or closures)[0].message
        day = self._day_of(instant)
        holiday = self.is_holiday(day)
        if holiday is not None:
            return "holiday", holiday, None
        if self.special_day(service, day) is not None:
            usual = self._weekly_intervals(service, day)
            # Name the special day when it made the difference: closed all day, or closed at
            # an hour that is usually open. Before the usual opening the weekly hours apply.
            if not self._day_intervals(service, day) or any(s <= instant < e for s, e in usual):
                return "special_day", None, None
        return "weekly", None, None

    def _day_of(self, instant: datetime) -> date:
        return instant.astimezone(self._zone).date()

    def _horizon(self, instant: datetime) -> datetime:
        return self._local(self._day_of(instant) + timedelta(days=HORIZON_DAYS + 1), time())

    def _local(self, day: date, clock: time) -> datetime:
        if clock == _END_OF_DAY:
            day, clock = day + timedelta(days=1), time()
        return datetime.combine(day, clock, tzinfo=self._zone).astimezone(UTC)

    def _local_to_utc(self, moment: datetime) -> datetime:
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=self._zone)
        return moment.astimezone(UTC)

    def _weekly_intervals(self, service: str, day: date) -> list[Span]:
        intervals = sorted(self.weekly(service).on(day.weekday()), key=lambda i: i.start)
        return [(self._local(day, i.start), self._local(day, i.end)) for i in intervals]

    def _day_intervals(self, service: str, day: date) -> list[Span]:
        if self.is_holiday(day) is not None:
            return []
        special = self.special_day(service, day)
        if special is None:
            spans = self._weekly_intervals(service, day)
        elif special.hours is not None:
            intervals = sorted(special.hours, key=lambda i: i.start)
            spans = [(self._local(day, i.start), self._local(day, i.end)) for i in intervals]
        else:
            assert special.closes_at is not None  # the config model requires one of the two
            cut = self._local(day, special.closes_at)
            spans = [(s, min(e, cut)) for s, e in self._weekly_intervals(service, day)]
        # In the March DST gap an interval can shrink to nothing.
        return [(s, e) for s, e in spans if s < e]

    def _closures_for(self, service: str) -> list[tuple[Closure, Span]]:
        return [
            (c, span) for c, span in self._closures if c.services is None or service in c.services
        ]

    def _open_spans(self, service: str, day: date) -> list[Span]:
        """The day's intervals minus the closures that cover them; cached per service and day."""
        key = (service, day)
        cached = self._spans.get(key)
        if cached is not None:
            return cached
        spans = self._day_intervals(service, day)
        for _closure, (c_start, c_end) in self._closures_for(service):
            remaining: list[Span] = []
            for s, e in spans:
                if c_end <= s or e <= c_start:
                    remaining.append((s, e))
                    continue
                if s < c_start:
                    remaining.append((s, c_start))
                if c_end < e:
                    remaining.append((c_end, e))
            spans = remaining
        self._spans[key] = spans
        return spans

    def _walk(self, service: str, day: date) -> Iterator[Span]:
        """Open stretches from the day before `day` up to the horizon.

        Stretches that touch (24:00 one day, 00:00 the next) are merged, so an opening is a
        moment when the service really goes from closed to open. Starting a day early lets a
        stretch that began yesterday count as already open.
        """
        pending: Span | None = None
        for offset in range(-1, HORIZON_DAYS + 1):
            for start, end in self._open_spans(service, day + timedelta(days=offset)):
                if pending is not None and start <= pending[1]:
                    pending = (pending[0], max(pending[1], end))
                    continue
                if pending is not None:
                    yield pending
                pending = (start, end)
        if pending is not None:
            yield pending
