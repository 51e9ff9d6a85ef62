"""What a scripted caller (or a department's employee) does, taken in order as the call goes on.

- At every `<Gather>` the next *input* is taken: `press`, `say`, `silence` or `hang_up`.
  Input the Gather does not listen for (a key press at a speech-only Gather) is lost.
- When a conversation starts (bridged to a department or to an agent) a `talk(seconds)` or a
  `hang_up()` is taken if it is next; otherwise the other side decides when the talk ends.
- `hang_up_after(seconds)` is a timer, armed as soon as the script reaches it: at the start of
  the call if it comes first, or when the action before it is taken (a Gather takes its input
  when its prompt has played).

A script that has run out is silent at every later Gather.

    script = [press("1"), say("byggesøknad", confidence=0.8), hang_up_after(30)]
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Press:
    digits: str


@dataclass(frozen=True)
class Speak:
    text: str
    confidence: float | None = 0.9


@dataclass(frozen=True)
class Silence:
    pass


@dataclass(frozen=True)
class HangUp:
    pass


@dataclass(frozen=True)
class HangUpAfter:
    seconds: float


@dataclass(frozen=True)
class Talk:
    seconds: float


Input = Press | Speak | Silence | HangUp
Action = Input | HangUpAfter | Talk


def press(digits: str) -> Press:
    """Key presses, e.g. "1" or "12345#"; a finishOnKey ends the input early."""
    if not digits or any(key not in "0123456789#*" for key in digits):
        raise ValueError(f"not DTMF keys: {digits!r}")
    return Press(digits)


def say(text: str, *, confidence: float | None = 0.9) -> Speak:
    """Speech recognised as `text`; confidence None leaves Confidence out, as Twilio may."""
    return Speak(text, confidence)


def silence() -> Silence:
    return Silence()


def hang_up() -> HangUp:
    """Hang up at the next Gather (after hearing its prompt), or as a conversation starts."""
    return HangUp()


def hang_up_after(seconds: float) -> HangUpAfter:
    return HangUpAfter(seconds)


def talk(seconds: float) -> Talk:
    """When connected to a person, hang up after talking this long."""
    return Talk(seconds)


class ScriptCursor:
    def __init__(self, actions: Iterable[Action], *, arm_hang_up: Callable[[float], None]) -> None:
        self._actions: deque[Action] = deque(actions)
        self._arm_hang_up = arm_hang_up

    def start(self) -> None:
        self._arm_timers()

    def take_input(self) -> Input:
        head = self._actions[0] if self._actions else None
        if not isinstance(head, Press | Speak | Silence | HangUp):
            return Silence()  # a talk() waits for the conversation it belongs to
        self._actions.popleft()
        self._arm_timers()
        return head

    def take_talk(self) -> float | None:
        """Seconds this party talks once connected, or None when the script does not say."""
        head = self._actions[0] if self._actions else None
        if isinstance(head, Talk | HangUp):
            self._actions.popleft()
            self._arm_timers()
            return head.seconds if isinstance(head, Talk) else 0.0
        return None

    def _arm_timers(self) -> None:
        while self._actions and isinstance(self._actions[0], HangUpAfter):
            timer = self._actions.popleft()
            assert isinstance(timer, HangUpAfter)
            self._arm_hang_up(timer.seconds)
