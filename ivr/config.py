"""The municipality configuration: one YAML file, validated by pydantic.

Everything a municipality can change without touching code lives here: phone hours, closed
days, special days, departments, reception desks, the key maps (ivr/keymap.py), prompts' links
and numbers. Parsing is pure: `parse_config(text)` takes the YAML text; reading the file is
the edge's job.
"""

from __future__ import annotations

import itertools
import re
from datetime import date as Date
from datetime import datetime, time
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from ivr.fields import PhoneNumber, Strict
from ivr.keymap import Menus, menu_problems
from ivr.roster import Agents
from ivr.switchboard_config import Queue, Transfer

Language = Literal["nn", "nb", "en"]
LANGUAGES: tuple[Language, ...] = ("nn", "nb", "en")
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

SWITCHBOARD = "switchboard"
_INTERVAL = re.compile(r"^(\d{2}):(\d{2})\s*-\s*(\d{2}):(\d{2})$")


class ConfigError(ValueError):
    """The configuration is invalid. `errors` holds one 'location: message' line per problem."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


class Interval(Strict):
    """An opening interval within one local day, [start, end)."""

    start: time
    end: time

    @model_validator(mode="after")
    def _ordered(self) -> Interval:
        if self.end <= self.start:
            raise ValueError(f"end {self.end:%H:%M} must be after start {self.start:%H:%M}")
        return self


def _parse_interval(value: object) -> object:
    """Accept "09:00-15:00" as shorthand for {start: 09:00, end: 15:00}."""
    if isinstance(value, str):
        match = _INTERVAL.match(value.strip())
        if not match:
            raise ValueError(f"{value!r} is not an interval like '09:00-15:00'")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2 != 0):
            raise ValueError(f"{value!r} has an impossible time")
        end = time(23, 59, 59, 999999) if h2 == 24 else time(h2, m2)
        return {"start": time(h1, m1), "end": end}
    return value


def _as_intervals(value: object) -> object:
    if value is None or value == "closed":
        return []
    if isinstance(value, str):
        value = [part for part in value.split(",") if part.strip()]
    if isinstance(value, list):
        return [_parse_interval(v) for v in value]
    return value


Intervals = Annotated[list[Interval], Field(default_factory=list)]


class WeeklyHours(Strict):
    """Opening intervals per weekday. A missing day is closed."""

    mon: Intervals
    tue: Intervals
    wed: Intervals
    thu: Intervals
    fri: Intervals
    sat: Intervals
    sun: Intervals

    @field_validator(*WEEKDAYS, mode="before")
    @classmethod
    def _intervals(cls, value: object) -> object:
        return _as_intervals(value)

    @model_validator(mode="after")
    def _no_overlap(self) -> WeeklyHours:
        for day in WEEKDAYS:
            spans = sorted(getattr(self, day), key=lambda i: i.start)
            for a, b in itertools.pairwise(spans):
                if b.start < a.end:
                    raise ValueError(f"{day}: intervals overlap")
        return self

    def on(self, weekday: int) -> list[Interval]:
        """Intervals for a `date.weekday()` number (Monday is 0)."""
        intervals: list[Interval] = getattr(self, WEEKDAYS[weekday])
        return intervals


class Text(Strict):
    """A text in all three languages. Nynorsk is required; the others fall back to it."""

    nn: str
    nb: str | None = None
    en: str | None = None

    def get(self, language: Language) -> str:
        return getattr(self, language) or self.nn


class SpecialDay(Strict):
    """Hours that replace the weekly schedule on one day.

    Either a fixed `date`, a recurring `month_day` ("12-24"), or a named `rule` that the hours
    module computes for every year. `hours: []` (or "closed") closes the whole day; `closes_at`
    keeps the usual opening and cuts the day short.
    """

    date: Date | None = None
    month_day: str | None = None
    rule: Literal["wednesday_before_maundy_thursday"] | None = None
    hours: list[Interval] | None = None
    closes_at: time | None = None
    services: list[str] | None = None  # None: every service
    # What the caller hears the day called ("julaftan"): a plain string is said in every
    # language, or give {nn, nb, en} (nb and en fall back to nn).
    note: Text | None = None

    @field_validator("note", mode="before")
    @classmethod
    def _note_text(cls, value: object) -> object:
        return {"nn": value} if isinstance(value, str) else value

    @field_validator("hours", mode="before")
    @classmethod
    def _intervals(cls, value: object) -> object:
        return None if value is None else _as_intervals(value)

    @field_validator("month_day")
    @classmethod
    def _month_day(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                datetime.strptime(f"2024-{value}", "%Y-%m-%d")
            except ValueError:
                raise ValueError(f"{value!r} is not a month-day like '12-24'") from None
        return value

    @model_validator(mode="after")
    def _one_selector(self) -> SpecialDay:
        chosen = [x for x in (self.date, self.month_day, self.rule) if x is not None]
        if len(chosen) != 1:
            raise ValueError("give exactly one of date, month_day or rule")
        if self.hours is not None and self.closes_at is not None:
            raise ValueError("give hours or closes_at, not both")
        if self.hours is None and self.closes_at is None:
            raise ValueError("give hours (use [] for closed) or closes_at")
        return self


class Closure(Strict):
    """A temporary closure between two local instants, with its own message."""

    start: datetime
    end: datetime
    services: list[str] | None = None  # None: every service
    message: Text | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Closure:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class ClosedNow(Strict):
    """The immediate override: when active, the switchboard is closed with its own message."""

    active: bool = False
    message: Text | None = None


class Calendar(Strict):
    holiday_country: str = "NO"
    holiday_subdivision: str | None = None
    special_days: list[SpecialDay] = Field(default_factory=list)
    closures: list[Closure] = Field(default_factory=list)
    closed_now: ClosedNow = Field(default_factory=ClosedNow)


class Keywords(Strict):
    nn: list[str] = Field(default_factory=list)
    nb: list[str] = Field(default_factory=list)
    en: list[str] = Field(default_factory=list)

    def all(self) -> list[str]:
        return [*self.nn, *self.nb, *self.en]


class OnCall(Strict):
    number: PhoneNumber
    description: Text


class Department(Strict):
    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    key: Annotated[str, Field(pattern=r"^[0-9]$")]
    name: Text
    number: PhoneNumber
    hours: WeeklyHours
    keywords: Keywords = Field(default_factory=Keywords)
    on_call: OnCall | None = None
    self_service_url: str | None = None


class Referral(Strict):
    """Something callers ask for that the municipality does not handle (legevakt, household
    waste, the state's NAV line): who does, said in the caller's language, and optionally an
    SMS body with the link. A matching referral keyword wins over any department (ivr/speech.py).
    """

    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    keywords: Keywords
    message: Text
    sms: Text | None = None


class Reception(Strict):
    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    name: str
    address: str | None = None
    hours: WeeklyHours


class Switchboard(Strict):
    hours: WeeklyHours
    # The fallback dials this fixed number when our service cannot answer (a desk phone or
    # a backup line; never the main number, which would loop back to the failing service).
    fallback_number: PhoneNumber | None = None
    # An answer to the open menu offered before closing keeps its meaning this long after
    # closing (ivr/menu.py); then the caller hears that the line has just closed.
    menu_grace_seconds: Annotated[int, Field(ge=0, le=600)] = 60
    queue: Queue = Field(default_factory=Queue)
    agents: Agents = Field(default_factory=Agents)
    transfer: Transfer = Field(default_factory=Transfer)


class Voice(Strict):
    """Twilio has no Nynorsk voice: nn and nb are spoken by a Norwegian (nb-NO) voice."""

    language: str = "nb-NO"
    voice: str = "Polly.Liv"
    english_language: str = "en-GB"
    english_voice: str = "Polly.Amy"
    speech_language: str = "nb-NO"
    # Recorded audio per prompt id and language, instead of <Say>: {"greeting": {"nn": url}}.
    recordings: dict[str, dict[str, str]] = Field(default_factory=dict)


class Municipality(Strict):
    name: str
    main_number: PhoneNumber
    timezone: str = "Europe/Oslo"
    default_language: Language = "nn"
    self_service_url: str
    legevakt_number: str = "116117"

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value


class Config(Strict):
    municipality: Municipality
    voice: Voice = Field(default_factory=Voice)
    calendar: Calendar = Field(default_factory=Calendar)
    switchboard: Switchboard
    receptions: list[Reception] = Field(default_factory=list)
    departments: list[Department]
    referrals: list[Referral] = Field(default_factory=list)
    menus: Menus

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.municipality.timezone)

    def department(self, department_id: str) -> Department:
        for department in self.departments:
            if department.id == department_id:
                return department
        raise KeyError(department_id)

    def referral(self, referral_id: str) -> Referral:
        for referral in self.referrals:
            if referral.id == referral_id:
                return referral
        raise KeyError(referral_id)

    def service_ids(self) -> set[str]:
        return {SWITCHBOARD, *(d.id for d in self.departments), *(r.id for r in self.receptions)}

    @model_validator(mode="after")
    def _consistent(self) -> Config:
        errors: list[str] = []
        ids = {
            "departments": [d.id for d in self.departments],
            "receptions": [r.id for r in self.receptions],
        }
        seen: set[str] = {SWITCHBOARD}
        for field, field_ids in ids.items():
            for i, item_id in enumerate(field_ids):
                if item_id in seen:
                    errors.append(f"{field}[{i}].id: {item_id!r} is already in use")
                seen.add(item_id)
        referral_ids = [r.id for r in self.referrals]
        for i, referral_id in enumerate(referral_ids):
            if referral_id in referral_ids[:i]:
                errors.append(f"referrals[{i}].id: {referral_id!r} is already in use")
        keys: dict[str, str] = {}
        for i, dep in enumerate(self.departments):
            if dep.key in keys:
                errors.append(f"departments[{i}].key: {dep.key!r} is already {keys[dep.key]}")
            keys[dep.key] = dep.id
        errors += menu_problems(self.menus, keys)
        errors += self.switchboard.agents.conflicts(where="switchboard.agents")
        services = self.service_ids()
        for i, day in enumerate(self.calendar.special_days):
            for s in day.services or []:
                if s not in services:
                    errors.append(f"calendar.special_days[{i}].services: unknown service {s!r}")
        for i, closure in enumerate(self.calendar.closures):
            for s in closure.services or []:
                if s not in services:
                    errors.append(f"calendar.closures[{i}].services: unknown service {s!r}")
        if errors:
            raise ValueError("\n".join(errors))
        return self


def _location(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.startswith("function-") or part in {"str", "list[...]"}:
            continue
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def format_errors(error: ValidationError) -> list[str]:
    """One 'departments[2].hours: message' line per problem."""
    lines: list[str] = []
    for item in error.errors():
        message = str(item["msg"]).removeprefix("Value error, ")
        loc = _location(tuple(item["loc"]))
        if loc == "(top level)":
            lines.extend(message.split("\n"))
        else:
            lines.append(f"{loc}: {message}")
    return lines


def parse_config(text: str) -> Config:
    """Parse and validate YAML text. Raises ConfigError with located messages."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError([f"(yaml): {exc}"]) from None
    if not isinstance(data, dict):
        raise ConfigError(["(top level): the file must be a mapping"])
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_errors(exc)) from None
