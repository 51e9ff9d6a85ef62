"""Speech to a route: match what the caller said against the configured keywords.

Matching ignores case and diacritics (æ, ø, å, é) so that "Byggesøknad", "byggesoknad" and a
recogniser's Bokmål spelling of a Nynorsk word all land on the same department.

A keyword of four letters or fewer matches whole words only ("nav" is not "navn", "vei" is not
"veiledning"), so its inflections are listed in the config ("veg, vegen, vei, veien"). A
longer keyword also matches a word's start ("byggesak" finds "byggesaka"). A keyword of several
words matches those words in a row. Referrals are tried first, in the config's order: a referral
that matches wins over any department, so "legevakt" never reaches the daytime health office.
The corpus in tests/ivr/speech_corpus/ measures all of this (docs/speech.md).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

from ivr.config import Config, Department, Language, Referral

_FOLD = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "ß": "ss"})
SHORT_KEYWORD = 4  # letters; a keyword this short or shorter matches whole words only

# What a caller says to reach a person at the switchboard, per language. Checked after the
# departments and referrals, so "snakke med en person om byggesak" goes to byggesak.
SWITCHBOARD_PHRASES: dict[Language, tuple[str, ...]] = {
    "nn": (
        "sentralbord",
        "sentralbordet",
        "menneske",
        "mennesket",
        "person",
        "personen",
        "snakke med nokon",
    ),
    "nb": (
        "sentralbord",
        "sentralbordet",
        "menneske",
        "mennesket",
        "person",
        "personen",
        "snakke med noen",
    ),
    "en": (
        "switchboard",
        "operator",
        "person",
        "human",
        "someone",
        "somebody",
        "receptionist",
    ),
}


def normalise(text: str) -> str:
    """Lower-case ASCII words separated by single spaces."""
    folded = text.casefold().translate(_FOLD)
    stripped = "".join(
        c for c in unicodedata.normalize("NFKD", folded) if not unicodedata.combining(c)
    )
    return " ".join(re.findall(r"[a-z0-9]+", stripped))


def matches(keyword: str, spoken: str) -> bool:
    """Whether a keyword occurs in normalised speech: whole words when it is short, else as
    whole words or a word's start."""
    key = normalise(keyword)
    if not key:
        return False
    end = "( |$)" if len(key.replace(" ", "")) <= SHORT_KEYWORD else ""
    return re.search(rf"(^| ){re.escape(key)}{end}", spoken) is not None


def _score(words: Iterable[str], spoken: str) -> int:
    return sum(len(normalise(w)) for w in set(words) if matches(w, spoken))


def _best(departments: Sequence[Department], spoken: str) -> list[tuple[int, Department]]:
    scores: list[tuple[int, Department]] = []
    for department in departments:
        words = [department.id.replace("_", " "), *department.keywords.all()]
        score = _score(words, spoken)
        if score:
            scores.append((score, department))
    scores.sort(key=lambda pair: pair[0], reverse=True)
    return scores


def match_referral(config: Config, speech: str) -> Referral | None:
    """The first referral in the config with a matching keyword: the config's order is the
    priority, so legevakt, listed first, wins whatever else the caller mentions."""
    spoken = normalise(speech)
    if not spoken:
        return None
    return next((r for r in config.referrals if _score(r.keywords.all(), spoken)), None)


def match_department(config: Config, speech: str) -> Department | None:
    """The department whose keywords best match the speech, or None when nothing or a tie."""
    spoken = normalise(speech)
    if not spoken:
        return None
    scores = _best(config.departments, spoken)
    if not scores:
        return None
    if len(scores) > 1 and scores[0][0] == scores[1][0]:
        return None
    return scores[0][1]


def asks_for_switchboard(speech: str) -> bool:
    spoken = normalise(speech)
    phrases = {p for language in SWITCHBOARD_PHRASES.values() for p in language}
    return any(matches(phrase, spoken) for phrase in phrases)


def route(config: Config, speech: str) -> str | None:
    """The menu target for speech: `referral:<id>`, `department:<id>`, `switchboard` or None."""
    referral = match_referral(config, speech)
    if referral is not None:
        return f"referral:{referral.id}"
    department = match_department(config, speech)
    if department is not None:
        return f"department:{department.id}"
    return "switchboard" if asks_for_switchboard(speech) else None
