"""How a dialled number behaves: rings, answers, and what the person does in the whisper.

    departments = {
        "+4756375101": Department.accepts("1", talk_seconds=90),   # a person takes the call
        "+4756375102": Department.declines(),                      # answers, presses nothing
        "+4756375103": Department.busy(),
        "+4756375104": [Department.no_answer(), Department.accepts("1")],  # per dial, last repeats
    }

A department that answers runs the `<Number url>` whisper with its `whisper` script (the same
actions a caller has); if the whisper runs out of verbs the call is bridged (docs/twilio.md,
Dial) and the department hangs up after `talk_seconds`, unless the caller hangs up first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sim.twilio.scripts import Action, press, silence

Answer = Literal["answer", "busy", "no-answer", "failed"]


@dataclass(frozen=True)
class Department:
    answer: Answer = "answer"
    ring_seconds: float = 4.0
    whisper: tuple[Action, ...] = ()
    talk_seconds: float = 60.0

    @classmethod
    def accepts(
        cls, key: str = "1", *, ring_seconds: float = 4.0, talk_seconds: float = 60.0
    ) -> Department:
        """Answers and presses `key` at the whisper's Gather: a person took the transfer."""
        return cls("answer", ring_seconds, (press(key),), talk_seconds)

    @classmethod
    def declines(cls, *, ring_seconds: float = 4.0, talk_seconds: float = 60.0) -> Department:
        """Answers and presses nothing, like a voicemail or a PBX auto-attendant.

        Behind a whisper Gather followed by `<Hangup/>` this is a declined transfer; with no
        whisper it is a bridged call to a machine that completes normally.
        """
        return cls("answer", ring_seconds, (silence(),), talk_seconds)

    @classmethod
    def answers(
        cls,
        *,
        whisper: tuple[Action, ...] = (),
        ring_seconds: float = 4.0,
        talk_seconds: float = 60.0,
    ) -> Department:
        return cls("answer", ring_seconds, whisper, talk_seconds)

    @classmethod
    def busy(cls, *, after_seconds: float = 2.0) -> Department:
        return cls("busy", after_seconds)

    @classmethod
    def no_answer(cls) -> Department:
        """Rings until the Dial timeout."""
        return cls("no-answer")

    @classmethod
    def failed(cls, *, after_seconds: float = 1.0) -> Department:
        """Cannot be reached at all (a number that does not exist)."""
        return cls("failed", after_seconds)
