"""How a menu is laid out: which keys one prompt offers, in what order, and how long the
caller waits for the first choice.

A prompt offers at most `MAX_KEYS` keys (ivr/keymap.py), English's "press 9" included. The
top level asks for speech first, then offers the departments first in the config's `order`
by key; when they do not all fit, the last place goes to "other departments" (`more_key`),
a second level that lists the rest under their usual keys. Every key keeps working at both
levels, spoken or not.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TypeVar

from ivr.config import Config, Department, Language
from ivr.keymap import MAX_KEYS

# Twilio does not say how fast <Say> speaks. Polly's voices read plain text at roughly 13
# characters a second (about 150 words a minute) in nb-NO and en-GB; numbers and pauses at
# full stops make real speech a little slower, so budgets measured with this are a floor.
CHARS_PER_SECOND = 13.0
# The caller hears the first choice (after English's, which comes right after the greeting)
# within this many seconds of the greeting's start.
FIRST_CHOICE_SECONDS = 15.0

# "trykk 3", "press 9", "tast 0", "trykk stjerne", "press star": one key offered.
KEY_OFFER = re.compile(r"\b(?:trykk|tast|press)\s+(\d|stjerne|star)\b", re.IGNORECASE)

T = TypeVar("T")


def speaking_seconds(text: str) -> float:
    """How long a voice takes to say `text`, by `CHARS_PER_SECOND`."""
    return len(text) / CHARS_PER_SECOND


def keys_offered(text: str) -> list[str]:
    """The keys a spoken text offers, in the order it offers them."""
    return KEY_OFFER.findall(text)


def department_order(config: Config) -> list[Department]:
    """The departments in the order they are offered by key: the config's `menus.order`
    first, then the others by key."""
    listed = [config.department(dep_id) for dep_id in config.menus.order]
    rest = sorted((d for d in config.departments if d not in listed), key=lambda d: d.key)
    return [*listed, *rest]


def first_level(options: Sequence[T], *, fixed: int) -> tuple[list[T], list[T]]:
    """Split `options` between the top level, which also offers `fixed` other keys, and the
    second level: everything fits, or the top level keeps a place for "other departments"."""
    room = max(MAX_KEYS - fixed, 1)
    if len(options) <= room:
        return list(options), []
    shown = max(room - 1, 0)
    return list(options[:shown]), list(options[shown:])


def open_levels(config: Config, language: Language) -> tuple[list[str], list[str]]:
    """The open menu's department targets ("department:byggesak") offered by key at the top
    level, and those left for the "other departments" level, in the config's order. English
    ("press 9") takes a place at the top level for a caller not already in English."""
    menu = config.menus.open
    targets = [f"department:{d.id}" for d in department_order(config)]
    offered = [target for target in targets if target in menu.values()]
    fixed = ("switchboard" in menu.values()) + (language != "en" and "english" in menu.values())
    return first_level(offered, fixed=fixed)
