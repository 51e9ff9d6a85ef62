"""The glossary names every value of the shared vocabulary (ivr/vocabulary.py)."""

from __future__ import annotations

from ivr.vocabulary import CALL_OUTCOMES, RETURN_KINDS, TRANSFER_OUTCOMES
from switchboard.stats.glossary import TERMS


def text_of(anchor: str) -> str:
    return next(term.text for term in TERMS if term.anchor == anchor)


def test_the_glossary_names_every_outcome_and_return_kind() -> None:
    for values, anchor in (
        (CALL_OUTCOMES, "call-outcome"),
        (TRANSFER_OUTCOMES, "transfer-outcome"),
    ):
        for value in values:
            assert f"({value})" in text_of(anchor), (anchor, value)
    for kind in RETURN_KINDS:
        assert kind in text_of("returned-transfer"), kind
