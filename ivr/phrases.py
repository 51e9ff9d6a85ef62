"""Instants and weekly hours in words a caller hears: "i morgon klokka ni".

The text is read by a TTS voice, so it is written the way a person says it: relative days
("i dag", "i morgon") when they are near, weekday and date otherwise, and a year only when the
date is not in the coming months. Nynorsk is the default; Bokmål and English are available.
"""

from __future__ import annotations

from datetime import date, datetime, time

from ivr.config import Interval, Language, WeeklyHours

_WEEKDAYS: dict[Language, tuple[str, ...]] = {
    "nn": ("måndag", "tysdag", "onsdag", "torsdag", "fredag", "laurdag", "sundag"),
    "nb": ("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
_NORWEGIAN_MONTHS = (
    "januar",
    "februar",
    "mars",
    "april",
    "mai",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "desember",
)
_MONTHS: dict[Language, tuple[str, ...]] = {
    "nn": _NORWEGIAN_MONTHS,
    "nb": _NORWEGIAN_MONTHS,
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
}
_TODAY: dict[Language, str] = {"nn": "i dag", "nb": "i dag", "en": "today"}
_TOMORROW: dict[Language, str] = {"nn": "i morgon", "nb": "i morgen", "en": "tomorrow"}
_AND: dict[Language, str] = {"nn": "og", "nb": "og", "en": "and"}
_TO: dict[Language, str] = {"nn": "til", "nb": "til", "en": "to"}
_CLOSED: dict[Language, str] = {"nn": "stengt", "nb": "stengt", "en": "closed"}

# A date this many days ahead or fewer is said without its year: nobody hears "6. april"
# in November and thinks of the April that has passed.
YEARLESS_DAYS = 300
# Three days in a row or more are a range ("måndag til fredag"); two are just listed.
_MIN_RANGE = 3
_END_OF_DAY = time(23, 59, 59, 999999)


def sentence_start(text: str) -> str:
    """The text capitalised to start a sentence: only the first letter changes, so a name such
    as "Nav Alver" keeps its own capitals (str.capitalize would say "Nav alver")."""
    return text[:1].upper() + text[1:]


# Norway's public holidays as the `holidays` package names them (in Bokmål, language "no"),
# with the established Nynorsk names. Bokmål callers hear the package's own names.
NYNORSK_HOLIDAYS: dict[str, str] = {
    "Første nyttårsdag": "Nyttårsdag",
    "Skjærtorsdag": "Skjærtorsdag",
    "Langfredag": "Langfredag",
    "Første påskedag": "Første påskedag",
    "Andre påskedag": "Andre påskedag",
    "Arbeidernes dag": "Arbeidarane sin dag",
    "Kristi himmelfartsdag": "Kristi himmelfartsdag",
    "Grunnlovsdag": "Grunnlovsdagen",
    "Første pinsedag": "Første pinsedag",
    "Andre pinsedag": "Andre pinsedag",
    "Første juledag": "Første juledag",
    "Andre juledag": "Andre juledag",
}
# Words that keep their capital in the middle of a sentence.
_PROPER_WORDS = ("Kristi",)


def mid_sentence(name: str) -> str:
    """A name as said in the middle of a sentence: "skjærtorsdag", but "Kristi himmelfartsdag"."""
    if name.split(" ", 1)[0] in _PROPER_WORDS:
        return name
    return name[:1].lower() + name[1:]


def holiday_name(names: str, *, language: Language) -> str:
    """The holiday (or holidays, joined by " og ") in the caller's language, mid-sentence.

    `names` is what `Hours.is_holiday` gives: the package's Bokmål names. A name the map does
    not know (another country's calendar) is said as the package has it.
    """
    parts = names.split(" og ")
    if language == "nn":
        parts = [NYNORSK_HOLIDAYS.get(part, part) for part in parts]
    return f" {_AND[language]} ".join(mid_sentence(part) for part in parts)


def weekday_name(day: date, *, language: Language) -> str:
    return _WEEKDAYS[language][day.weekday()]


# Hours on the 12-hour clock, as said after "klokka": index 0 is twelve.
_CLOCK_HOURS: dict[Language, tuple[str, ...]] = {
    "nn": ("tolv", "eitt", "to", "tre", "fire", "fem", "seks", "sju", "åtte", "ni", "ti", "elleve"),
    "nb": ("tolv", "ett", "to", "tre", "fire", "fem", "seks", "sju", "åtte", "ni", "ti", "elleve"),
    "en": (
        "twelve",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
    ),
}
# Norwegian minutes in five-minute steps, relative to an hour ("{h}": this one, "{n}": the
# next): 09:20 is "ti på halv ti", 09:50 "ti på ti".
_NORWEGIAN_MINUTES: dict[int, str] = {
    0: "{h}",
    5: "fem over {h}",
    10: "ti over {h}",
    15: "kvart over {h}",
    20: "ti på halv {n}",
    25: "fem på halv {n}",
    30: "halv {n}",
    35: "fem over halv {n}",
    40: "ti over halv {n}",
    45: "kvart på {n}",
    50: "ti på {n}",
    55: "fem på {n}",
}
_EN_ONES = (
    "",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
)
_EN_TENS = ("", "", "twenty", "thirty", "forty", "fifty")
_CLOCK_WORD: dict[Language, str] = {"nn": "klokka", "nb": "klokken", "en": "at"}


def _english_minutes(minute: int) -> str:
    if minute < 10:
        return f"oh {_EN_ONES[minute]}"
    if minute < 20:
        return _EN_ONES[minute]
    tens, ones = divmod(minute, 10)
    return _EN_TENS[tens] + (f"-{_EN_ONES[ones]}" if ones else "")


def _english_part_of_day(hour: int) -> str:
    # Words, not "a.m.": a prompt's own full stop after "a.m." would be read as "a.m..".
    if hour < 12:
        return "in the morning"
    return "in the afternoon" if hour < 18 else "in the evening"


def spoken_clock(moment: time, *, language: Language) -> str:
    """A time of day the way a person says it, without "klokka" in front.

    Norwegian uses the everyday 12-hour clock in words, which is how opening hours are said
    aloud: 09:00 "ni", 09:30 "halv ti", 10:15 "kvart over ti", 15:00 "tre", 09:20 "ti på
    halv ti"; a minute off the five-minute steps is said in digits ("9.07"). English says
    "nine in the morning", "nine thirty in the morning", "three in the afternoon", "seven in
    the evening", "twelve noon" and "midnight". The end of the day (24:00) is midnight.
    """
    if moment == _END_OF_DAY or moment == time(0, 0):
        return "midnight" if language == "en" else "tolv"
    hours = _CLOCK_HOURS[language]
    hour, minute = moment.hour, moment.minute
    if language == "en":
        if (hour, minute) == (12, 0):
            return "twelve noon"
        said = hours[hour % 12] + ("" if minute == 0 else f" {_english_minutes(minute)}")
        return f"{said} {_english_part_of_day(hour)}"
    pattern = _NORWEGIAN_MINUTES.get(minute)
    if pattern is None:
        return f"{hour}.{minute:02d}"
    return pattern.format(h=hours[hour % 12], n=hours[(hour + 1) % 12])


def at_clock(moment: time, *, language: Language) -> str:
    """ "klokka ni" (nn), "klokken ni" (nb), "at nine in the morning" (en)."""
    return f"{_CLOCK_WORD[language]} {spoken_clock(moment, language=language)}"


def describe_date(day: date, *, today: date, language: Language) -> str:
    """ "i dag", "i morgon", or "tysdag 7. april" (with the year when it is not soon)."""
    ahead = (day - today).days
    if ahead == 0:
        return _TODAY[language]
    if ahead == 1:
        return _TOMORROW[language]
    weekday = weekday_name(day, language=language)
    month = _MONTHS[language][day.month - 1]
    year = "" if 0 <= ahead <= YEARLESS_DAYS else f" {day.year}"
    if language == "en":
        return f"{weekday} {day.day} {month}{year}"
    return f"{weekday} {day.day}. {month}{year}"


def describe_instant(when: datetime, *, now: datetime, language: Language) -> str:
    """ "i morgon klokka ni", in `when`'s own time zone (the municipality's, from `Hours`)."""
    if when.tzinfo is None or now.tzinfo is None:
        raise ValueError("describe_instant needs aware datetimes")
    today = now.astimezone(when.tzinfo).date()
    day = describe_date(when.date(), today=today, language=language)
    return f"{day} {at_clock(when.time(), language=language)}"


def _join(items: list[str], language: Language) -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {_AND[language]} {items[-1]}"


def _describe_days(weekdays: list[int], language: Language) -> str:
    names = _WEEKDAYS[language]
    runs: list[list[int]] = []
    for weekday in weekdays:
        if runs and runs[-1][-1] == weekday - 1:
            runs[-1].append(weekday)
        else:
            runs.append([weekday])
    items: list[str] = []
    for run in runs:
        if len(run) >= _MIN_RANGE:
            items.append(f"{names[run[0]]} {_TO[language]} {names[run[-1]]}")
        else:
            items.extend(names[d] for d in run)
    return _join(items, language)


def _describe_intervals(intervals: list[Interval], language: Language) -> str:
    spans = [
        f"{spoken_clock(i.start, language=language)} {_TO[language]} "
        f"{spoken_clock(i.end, language=language)}"
        for i in sorted(intervals, key=lambda i: i.start)
    ]
    joined = _join(spans, language)
    return joined if language == "en" else f"{_CLOCK_WORD[language]} {joined}"


def describe_weekly(hours: WeeklyHours, *, language: Language) -> str:
    """Say the week's hours, with the days that share hours said together.

    For example "måndag til fredag klokka ni til tre" ("Monday to Friday nine in the morning
    to three in the afternoon").
    """
    groups: dict[tuple[tuple[time, time], ...], list[int]] = {}
    for weekday in range(7):
        intervals = hours.on(weekday)
        if intervals:
            key = tuple(sorted((i.start, i.end) for i in intervals))
            groups.setdefault(key, []).append(weekday)
    if not groups:
        return _CLOSED[language]
    parts = [
        f"{_describe_days(days, language)} {_describe_intervals(hours.on(days[0]), language)}"
        for days in sorted(groups.values())
    ]
    return _join(parts, language)


# Counts up to twelve are spoken as words: the nb-NO voice reads "7" the Bokmål way.
_SMALL_NUMBERS: dict[Language, tuple[str, ...]] = {
    "nn": ("ein", "to", "tre", "fire", "fem", "seks", "sju", "åtte", "ni", "ti", "elleve", "tolv"),
    "nb": ("én", "to", "tre", "fire", "fem", "seks", "sju", "åtte", "ni", "ti", "elleve", "tolv"),
    "en": (
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
    ),
}
_DAY_WORDS: dict[Language, tuple[str, str]] = {
    "nn": ("dag", "dagar"),
    "nb": ("dag", "dager"),
    "en": ("day", "days"),
}


def describe_days(count: int, *, language: Language) -> str:
    """ "sju dagar", "ein dag", "30 dagar": words up to twelve, digits beyond."""
    one, many = _DAY_WORDS[language]
    amount = _SMALL_NUMBERS[language][count - 1] if 1 <= count <= 12 else str(count)
    return f"{amount} {one if count == 1 else many}"


# Why a returned caller came back, as the agent hears it: a bounce's cause is its transfer's
# outcome (ivr/vocabulary.py, BOUNCE_CAUSES).
_RETURN_CAUSES: dict[str, dict[Language, str]] = {
    "no_answer": {"nn": "Ingen svarte.", "nb": "Ingen svarte.", "en": "Nobody answered."},
    "busy": {"nn": "Det var oppteke.", "nb": "Det var opptatt.", "en": "The line was busy."},
    "declined": {
        "nn": "Ingen tok imot samtalen.",
        "nb": "Ingen tok imot samtalen.",
        "en": "Nobody accepted the call.",
    },
    "failed": {
        "nn": "Samtalen gjekk ikkje gjennom.",
        "nb": "Samtalen gikk ikke gjennom.",
        "en": "The call did not go through.",
    },
}


def return_cause(cause: str | None, *, language: Language) -> str:
    """ "Ingen svarte.": why a bounced caller came back; empty for a cause we do not know."""
    return _RETURN_CAUSES.get(cause or "", {}).get(language, "")
