"""Speech to department: match what the caller said against the configured keywords.

Matching ignores case and diacritics (æ, ø, å, é) so that "Byggesøknad", "byggesoknad" and a
recogniser's Bokmål spelling of a Nynorsk word all land on the same department.
"""

from __future__ import annotations

import re
import unicodedata

from ivr.config import Config, Department

_FOLD = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "ß": "ss"})
_SWITCHBOARD_WORDS = ("sentralbord", "sentralbordet", "switchboard", "operator", "menneske")


def normalise(text: str) -> str:
    """Lower-case ASCII words separated by single spaces."""
    folded = text.casefold().translate(_FOLD)
    stripped = "".join(
        c for c in unicodedata.normalize("NFKD", folded) if not unicodedata.combining(c)
    )
    return " ".join(re.findall(r"[a-z0-9]+", stripped))


def _matches(keyword: str, spoken: str) -> bool:
    # A keyword matches a whole word or a word's start, so "byggesak" also finds
    # "byggesaka" (nn definite form) and "skatt" finds "skatten".
    key = normalise(keyword)
    return bool(key) and re.search(rf"(^| ){re.escape(key)}", spoken) is not None


def match_department(config: Config, speech: str) -> Department | None:
    """The department whose keywords best match the speech, or None when nothing or a tie."""
    spoken = normalise(speech)
    if not spoken:
        return None
    scores: list[tuple[int, Department]] = []
    for department in config.departments:
        words = [department.id.replace("_", " "), *department.keywords.all()]
        score = sum(len(normalise(w)) for w in set(words) if _matches(w, spoken))
        if score:
            scores.append((score, department))
    if not scores:
        return None
    scores.sort(key=lambda pair: pair[0], reverse=True)
    if len(scores) > 1 and scores[0][0] == scores[1][0]:
        return None
    return scores[0][1]


def asks_for_switchboard(speech: str) -> bool:
    spoken = normalise(speech)
    return any(_matches(word, spoken) for word in _SWITCHBOARD_WORDS)
