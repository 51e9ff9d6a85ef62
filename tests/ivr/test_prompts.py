"""Every prompt is there in Nynorsk, Bokmål and English, with the same fields in each."""

from __future__ import annotations

import string

import pytest

from ivr.prompts import _PROMPTS, minutes, prompt_ids


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("prompt_id", prompt_ids())
def test_prompt_has_all_three_languages_with_the_same_fields(prompt_id):
    texts = _PROMPTS[prompt_id]
    assert set(texts) == {"nn", "nb", "en"}
    assert texts["nn"], "Nynorsk is Alver's default and must never be empty"
    # English may leave out a field (e.g. a Norwegian holiday name), never add one.
    assert _fields(texts["nb"]) == _fields(texts["nn"])
    assert _fields(texts["en"]) <= _fields(texts["nn"])


def test_waits_are_rounded_up_to_whole_minutes():
    assert minutes(30, "nn") == "eitt minutt"
    assert minutes(61, "nn") == "2 minutt"
    assert minutes(180, "nb") == "3 minutter"
    assert minutes(0, "en") == "one minute"
