"""What happened on a call, as typed entries that tests assert on and people read.

A call's transcript also holds what happened on the legs it dialled (the whisper, the callee's
key press), so one list tells the whole story. `render()` gives lines such as

    IVR  (nb-NO): Velkomen til Alver kommune.
    CALLER presses 1
    DIAL +4756375101 → no-answer
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Entry:
    at: datetime
    call_sid: str  # the leg it happened on

    def render(self) -> str:
        raise NotImplementedError


def _speaker(who: str) -> str:
    return who + " " * max(1, 5 - len(who))


@dataclass(frozen=True)
class Said(Entry):
    who: str  # IVR, WHISPER (the callee hears it), TWILIO (Twilio's own message)
    text: str
    language: str
    voice: str | None

    def render(self) -> str:
        return f"{_speaker(self.who)}({self.language}): {self.text}"


@dataclass(frozen=True)
class Played(Entry):
    who: str
    url: str
    seconds: float | None = None  # how long it played, when the simulator knows the audio

    def render(self) -> str:
        played = f" for {self.seconds:g} s" if self.seconds is not None else ""
        return f"{_speaker(self.who)}plays {self.url}{played}"


@dataclass(frozen=True)
class Paused(Entry):
    who: str
    seconds: float

    def render(self) -> str:
        return f"{_speaker(self.who)}pauses {self.seconds:g} s"


@dataclass(frozen=True)
class Pressed(Entry):
    who: str  # CALLER or CALLEE
    digits: str
    heard: bool = True  # False when the Gather was not listening for keys

    def render(self) -> str:
        return f"{self.who} presses {self.digits}" + ("" if self.heard else " (not heard)")


@dataclass(frozen=True)
class Spoke(Entry):
    who: str
    text: str
    confidence: float | None
    heard: bool = True

    def render(self) -> str:
        confidence = "" if self.confidence is None else f" ({self.confidence:.2f})"
        return f'{self.who} says "{self.text}"{confidence}' + ("" if self.heard else " (not heard)")


@dataclass(frozen=True)
class NoInput(Entry):
    who: str
    seconds: float

    def render(self) -> str:
        return f"{self.who} gives no input ({self.seconds:g} s)"


@dataclass(frozen=True)
class Redirected(Entry):
    url: str

    def render(self) -> str:
        return f"REDIRECT → {self.url}"


@dataclass(frozen=True)
class DialStarted(Entry):
    target: str
    timeout: int

    def render(self) -> str:
        return f"DIAL {self.target} (timeout {self.timeout} s)"


@dataclass(frozen=True)
class DialEnded(Entry):
    target: str
    status: str  # DialCallStatus
    bridged: bool
    duration: int | None

    def render(self) -> str:
        if self.status != "completed":
            return f"DIAL {self.target} → {self.status}"
        detail = f"bridged, {self.duration} s" if self.bridged else "not bridged"
        return f"DIAL {self.target} → completed ({detail})"


@dataclass(frozen=True)
class Bridged(Entry):
    other: str  # the other party's number

    def render(self) -> str:
        return f"CONNECTED with {self.other}"


@dataclass(frozen=True)
class Enqueued(Entry):
    queue: str
    position: int

    def render(self) -> str:
        return f"ENQUEUE {self.queue} (position {self.position})"


@dataclass(frozen=True)
class Dequeued(Entry):
    queue: str
    by: str  # the agent leg's number
    waited: int

    def render(self) -> str:
        return f"DEQUEUED from {self.queue} by {self.by} after {self.waited} s"


@dataclass(frozen=True)
class QueueResult(Entry):
    queue: str
    result: str  # QueueResult: leave, hangup, bridged, redirected, queue-full, error
    waited: int

    def render(self) -> str:
        return f"QUEUE {self.queue} → {self.result} (waited {self.waited} s)"


@dataclass(frozen=True)
class HungUp(Entry):
    who: str  # IVR (a <Hangup/> or no more TwiML), CALLER, CALLEE, API

    def render(self) -> str:
        return f"{self.who} hangs up"


@dataclass(frozen=True)
class Rejected(Entry):
    reason: str

    def render(self) -> str:
        return f"IVR rejects the call ({self.reason})"


@dataclass(frozen=True)
class FetchFailed(Entry):
    url: str
    error_code: int
    detail: str

    def render(self) -> str:
        return f"ERROR {self.error_code} at {self.url}: {self.detail}"


@dataclass(frozen=True)
class FallbackUsed(Entry):
    url: str
    error_code: int
    error_url: str

    def render(self) -> str:
        return f"FALLBACK {self.url} (ErrorCode {self.error_code})"


@dataclass(frozen=True)
class Warned(Entry):
    url: str
    message: str

    def render(self) -> str:
        return f"WARNING {self.message} ({self.url})"


@dataclass(frozen=True)
class Requested(Entry):
    kind: str
    method: str
    url: str
    status: int | None

    def render(self) -> str:
        return f"→ {self.method} {self.url} [{self.kind}] {self.status or 'no response'}"


@dataclass(frozen=True)
class Note(Entry):
    text: str

    def render(self) -> str:
        return f"NOTE {self.text}"


@dataclass(frozen=True)
class CallEnded(Entry):
    status: str
    duration: int

    def render(self) -> str:
        return f"CALL ENDS {self.status} after {self.duration} s"


def render(
    entries: Iterable[Entry], *, start: datetime, times: bool = False, requests: bool = False
) -> str:
    lines = []
    for entry in entries:
        if isinstance(entry, Requested) and not requests:
            continue
        line = entry.render()
        if times:
            seconds = (entry.at - start).total_seconds()
            line = f"[{int(seconds // 60):02d}:{seconds % 60:04.1f}] {line}"
        lines.append(line)
    return "\n".join(lines)
