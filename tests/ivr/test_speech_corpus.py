"""The speech corpus: what callers say, and where the shipped Alver config must send them.

`tuning.csv` is what the keywords were tuned on; `held_out.csv` was written and committed before
the tuning and is only measured. Run with `-s` to see precision and recall for each part:

    .venv/bin/pytest -q -s -p no:cacheprovider tests/ivr/test_speech_corpus.py

Precision: of the utterances routed somewhere, the share routed where they were meant to go.
Recall: of the utterances meant to go somewhere, the share that got there.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import pytest

from ivr.config import Config
from ivr.speech import route

CORPUS = Path(__file__).parent / "speech_corpus"
PARTS = ("tuning", "held_out")


@dataclass(frozen=True)
class Scored:
    routed: int
    correct: int
    expected: int
    false_positives: list[tuple[str, str, str]]
    misses: list[tuple[str, str]]

    @property
    def precision(self) -> float:
        return self.correct / self.routed if self.routed else 1.0

    @property
    def recall(self) -> float:
        return self.correct / self.expected if self.expected else 1.0


def load(part: str) -> list[tuple[str, str]]:
    with (CORPUS / f"{part}.csv").open(encoding="utf-8") as f:
        lines = [line for line in f if not line.startswith("#")]
    return [(row["utterance"], row["expected"]) for row in csv.DictReader(lines)]


def score(config: Config, corpus: list[tuple[str, str]]) -> Scored:
    routed = correct = expected_count = 0
    false_positives: list[tuple[str, str, str]] = []
    misses: list[tuple[str, str]] = []
    for utterance, expected in corpus:
        got = route(config, utterance) or "none"
        if expected != "none":
            expected_count += 1
        if got != "none":
            routed += 1
            if got == expected:
                correct += 1
            else:
                false_positives.append((utterance, expected, got))
        elif expected != "none":
            misses.append((utterance, expected))
    return Scored(routed, correct, expected_count, false_positives, misses)


def test_the_corpus_is_large_enough_and_well_formed(alver: Config) -> None:
    parts = {part: load(part) for part in PARTS}
    assert len(parts["tuning"]) + len(parts["held_out"]) >= 150
    assert len(parts["held_out"]) >= 50
    routes = {"none", "switchboard"}
    routes |= {f"department:{d.id}" for d in alver.departments}
    routes |= {f"referral:{r.id}" for r in alver.referrals}
    for corpus in parts.values():
        for utterance, expected in corpus:
            assert utterance.strip(), "empty utterance"
            assert expected in routes, f"{utterance!r}: unknown route {expected!r}"


@pytest.mark.parametrize("part", PARTS)
def test_no_false_positives_and_the_recall(alver: Config, part: str) -> None:
    scored = score(alver, load(part))
    lines = [
        f"{part}: precision {scored.precision:.1%} ({scored.correct}/{scored.routed}), "
        f"recall {scored.recall:.1%} ({scored.correct}/{scored.expected})",
        *(
            f"  missed: {utterance!r} (expected {expected})"
            for utterance, expected in scored.misses
        ),
    ]
    print("\n" + "\n".join(lines))  # noqa: T201 - `pytest -s` shows the figures
    assert scored.false_positives == [], "routed somewhere else than meant"
    if part == "tuning":
        assert scored.recall >= 0.9
