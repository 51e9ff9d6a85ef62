"""Every prompt in every language, and the main flows rendered, are free of wording that was
once wrong (the issue "What callers hear"): none of it may come back. The same walk checks
that the menus are short: no prompt offers more than five keys, and the first choice comes
within 15 s of the start."""

from __future__ import annotations

import string
from datetime import time

import pytest

from ivr import queue
from ivr.call import Context, LiveView, Reply
from ivr.config import Config, Language, parse_config
from ivr.keymap import MAX_KEYS
from ivr.layout import FIRST_CHOICE_SECONDS, KEY_OFFER, keys_offered, speaking_seconds
from ivr.menu import answer_call, handle_closed_menu, handle_open_menu
from ivr.phrases import (
    at_clock,
    describe_days,
    describe_weekly,
    holiday_name,
    sentence_start,
    spoken_clock,
)
from ivr.prompts import _PROMPTS, minutes, press_for, prompt_ids, say
from ivr.transfer import transfer_result, whisper, whisper_answer
from tests.ivr.flowkit import early_departments, gathers, make_context, make_turn, spoken

LANGUAGES: tuple[Language, ...] = ("nn", "nb", "en")
TID = "CA" + "1" * 32 + ".1"

# Wording that was wrong once, in every language or only in the one named.
WRONG: list[tuple[str, Language | None]] = [
    ("Set over.", None),
    ("Venta ventetid", None),
    ("arbeidernes dag", "nn"),
    ("julaftan", "nb"),
    ("Nav alver", None),
    ("For to ", None),
    ("kl. ", None),
    ("..", None),  # "a.m." before a prompt's full stop
]


def assert_nothing_wrong(text: str, language: Language) -> None:
    for wrong, only in WRONG:
        if only is None or only == language:
            assert wrong not in text, (wrong, language, text)


def _fields(config: Config, language: Language) -> dict[str, str]:
    """Plausible values for every field a prompt may have, made as the flow makes them."""
    department = sentence_start("Nav Alver")
    return {
        "name": config.municipality.name,
        "time": spoken_clock(time(15), language=language),
        "site": "alver.kommune.no",
        "what": say("more_option", language),
        "key": "0",
        "department": department,
        "hours": describe_weekly(config.department("nav").hours, language=language),
        "next": f"i morgon {at_clock(time(9), language=language)}",
        "holiday": holiday_name("Arbeidernes dag", language=language),
        "desk": "Knarvik",
        "medical": "113",
        "fire": "110",
        "police": "112",
        "legevakt": "116 117",
        "position": "3",
        "minutes": minutes(270, language),
        "digits": "67",
        "when": "så snart ein medarbeidar er ledig",
        "retention": say("callback_retention", language, days=describe_days(7, language=language)),
        "days": describe_days(7, language=language),
        "spoken": "9 1 2 3 4 5 6 7",
        "url": "https://www.alver.kommune.no",
        "description": "vakttelefonen",
    }


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("prompt_id", prompt_ids())
def test_no_prompt_says_old_wrong_words(alver: Config, prompt_id: str, language: Language):
    template = _PROMPTS[prompt_id][language]
    needed = {name for _, name, _, _ in string.Formatter().parse(template) if name}
    fields = _fields(alver, language)
    assert needed <= set(fields), f"give the test a value for {needed - set(fields)}"
    if prompt_id == "press_for":  # the flow says options through press_for, never raw
        text = press_for(fields["what"], fields["key"], language)
    else:
        text = say(prompt_id, language, **fields)
    assert_nothing_wrong(text, language)


def _menus(ctx: Context, language: Language) -> list[Reply]:
    """Every menu at both levels, open and closed, as the caller first hears it."""
    at = "2026-11-25T11:00"
    return [
        answer_call(ctx, make_turn(at, language=language)),  # the open menu
        handle_open_menu(ctx, make_turn(at, language=language, step=1, Digits="*")),  # level 2
        handle_open_menu(ctx, make_turn(at, language=language, step=2, l="more")),  # silence
        answer_call(ctx, make_turn("2026-11-28T10:00", language=language)),  # closed, Saturday
        answer_call(ctx, make_turn("2026-11-25T18:00", language=language)),  # closed, evening
        answer_call(ctx, make_turn("2026-11-25T08:30", language=language)),  # helse is open
        answer_call(ctx, make_turn("2026-05-01T10:00", language=language)),  # a holiday
        answer_call(ctx, make_turn("2026-12-24T10:00", language=language)),  # a special day
        handle_closed_menu(ctx, make_turn("2026-11-28T10:00", language=language, step=1)),
    ]


def _flows(ctx: Context, language: Language) -> list[Reply]:
    nav = ctx.config.department("nav")
    at = "2026-11-25T11:00"
    return [
        *_menus(ctx, language),
        # NAV is closed at 14:45 while the switchboard is open: its hours, then the options.
        handle_open_menu(ctx, make_turn("2026-11-25T14:45", language=language, step=1, Digits="6")),
        queue.wait(
            ctx,
            make_turn(at, language=language, QueuePosition="3", QueueTime="40"),
            queue="main",
            visit=TID,
        ),
        whisper(ctx, make_turn(at, language=language), department=nav, transfer_id=TID),
        whisper_answer(ctx, make_turn(at, language=language, Digits="1"), transfer_id=TID),
        transfer_result(
            ctx,
            make_turn(
                at,
                language=language,
                step=2,
                live=LiveView(returns_waiting=2),
                DialCallStatus="no-answer",
                DialBridged="false",
            ),
            department=nav,
            transfer_id=TID,
            initiator="ivr",
        ),
    ]


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_flow_says_old_wrong_words(alver_yaml: str, language: Language):
    # A department whose name has a capital inside it, as "Nav Alver" is often written.
    old = 'name: {nn: "NAV Alver", nb: "NAV Alver"'
    assert old in alver_yaml
    config = parse_config(alver_yaml.replace(old, 'name: {nn: "Nav Alver", nb: "Nav Alver"'))
    for reply in _flows(make_context(config), language):
        assert_nothing_wrong(spoken(reply), language)


def _early_menus(alver_yaml: str, language: Language) -> list[Reply]:
    """Closed, with all six departments open (the switchboard opens at ten): both levels."""
    ctx = make_context(early_departments(alver_yaml))
    at = "2026-12-07T09:00"
    return [
        answer_call(ctx, make_turn(at, language=language)),
        handle_closed_menu(ctx, make_turn(at, language=language, step=1, Digits="*")),
        handle_closed_menu(ctx, make_turn(at, language=language, step=2, n="0", l="more")),
    ]


def first_choice_seconds(reply: Reply) -> float:
    """When the first key other than English's 9 starts, in seconds from the reply's start,
    by the speaking estimate (ivr/layout.py)."""
    text = spoken(reply)
    match = next(m for m in KEY_OFFER.finditer(text) if m.group(1) != "9")
    sentence_start = text.rfind(". ", 0, match.start()) + 2
    return speaking_seconds(text[:sentence_start])


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_menu_is_short_and_comes_to_the_point(
    alver: Config, alver_yaml: str, language: Language
):
    replies = [*_flows(make_context(alver), language), *_early_menus(alver_yaml, language)]
    for reply in replies:
        for prompt in gathers(reply):
            assert len(keys_offered(prompt)) <= MAX_KEYS, prompt
    for reply in [*_menus(make_context(alver), language), *_early_menus(alver_yaml, language)]:
        text = spoken(reply)
        assert first_choice_seconds(reply) <= FIRST_CHOICE_SECONDS, text
        if 'input="dtmf speech"' in reply.xml():  # speech first, then the keys
            asked = {"nn": "Sei kort", "nb": "Si kort", "en": "Tell us briefly"}[language]
            first = next(m for m in KEY_OFFER.finditer(text) if m.group(1) != "9")
            assert text.index(asked) < first.start(), text


@pytest.mark.parametrize("language", LANGUAGES)
def test_english_comes_first_for_a_norwegian_caller(alver: Config, language: Language):
    text = spoken(
        answer_call(make_context(alver), make_turn("2026-11-25T11:00", language=language))
    )
    if language == "en":
        assert "press 9" not in text
    else:
        assert keys_offered(text)[0] == "9"
        assert speaking_seconds(text[: text.index("For English")]) < 3
