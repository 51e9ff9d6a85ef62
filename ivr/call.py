"""The shapes every flow step shares: what a webhook brings in and what the flow gives back.

A flow step is a pure function `(Context, Turn) -> Reply`. The edge parses the request into a
`Turn` (including what it read from live state), calls the step, appends `Reply.events`,
applies `Reply.changes` to live state, and renders `Reply.twiml`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal, Protocol
from urllib.parse import urlencode

from twilio.twiml import TwiML
from twilio.twiml.voice_response import VoiceResponse

from ivr.config import Config, Language
from ivr.events import Event, EventKind, Scalar
from ivr.hours import Hours

MAIN_QUEUE = "sentralbord"
RETURNS_QUEUE = "sentralbord-retur"
QueueName = Literal["main", "returns"]
TWILIO_QUEUES: dict[QueueName, str] = {"main": MAIN_QUEUE, "returns": RETURNS_QUEUE}


@dataclass(frozen=True)
class LiveView:
    """Live state the edge read from Redis before the step. None means "could not tell"."""

    whisper_accepted: bool | None = None
    returns_waiting: int | None = None
    leave_reason: str | None = None
    redirected: bool = False
    # Wrong agent PINs from this caller (by pseudonym) in the current window (ivr.agent).
    pin_failures: int | None = None
    # The step an API redirect of this call started at (`LiveState.mark_redirected`), if any:
    # a Dial action from an earlier step belongs to the Dial the redirect interrupted.
    redirect_step: int | None = None
    # For a caller in an agent's own queue (`a` in the URL): whether that agent's leg is
    # still idle on the agent line, waiting for them (ivr.handover.hold).
    agent_on_line: bool | None = None
    # Each roster agent's status ("ready", "paused", "offline") by roster id, as the agents
    # set it (ivr.presence); empty when live state knows no agent's status yet.
    agent_statuses: Mapping[str, str] | None = None
    # Callers waiting in the main queue now (returned callers are `returns_waiting`).
    main_waiting: int | None = None
    # The caller's menu choices so far (`MenuChoice.choice`, oldest first), for the console.
    menu_path: tuple[str, ...] = ()


@dataclass(frozen=True)
class Turn:
    call_sid: str
    caller: str  # the raw From; personal data, used only for SMS and callbacks
    caller_id: str  # the keyed pseudonym for statistics
    params: Mapping[str, str]
    language: Language
    step: int
    at: datetime
    live: LiveView = field(default_factory=LiveView)

    def get(self, name: str, default: str = "") -> str:
        return self.params.get(name, default) or default

    def number(self, name: str, default: int = 0) -> int:
        try:
            return int(float(self.params.get(name) or default))
        except ValueError:
            return default

    @property
    def transfers(self) -> int:
        """Transfers made so far in this call, carried in our URLs as `x`."""
        return self.number("x")

    def with_language(self, language: Language) -> Turn:
        return replace(self, language=language)


@dataclass(frozen=True)
class MarkAccepted:
    transfer_id: str


@dataclass(frozen=True)
class QueueJoin:
    """A caller joins a queue (or, from the waitUrl, is still there). A join with a `visit`
    also records who waits, for moving them to an agent (`ivr.handover`)."""

    queue: QueueName
    call_sid: str
    visit: str = ""
    language: str = ""
    caller_id: str = ""
    department: str | None = None  # a bounce's department and cause (its transfer outcome)
    cause: str | None = None
    path: tuple[str, ...] = ()  # the caller's menu choices (`MenuChoice.choice`)


@dataclass(frozen=True)
class QueueLeave:
    queue: QueueName
    call_sid: str


@dataclass(frozen=True)
class SetLeaveReason:
    call_sid: str
    reason: Literal["callback_number", "closing"]


@dataclass(frozen=True)
class PinFailed:
    """A wrong PIN on the agent line: count it for the caller (a pseudonym, never the number)
    until `window_seconds` pass without another."""

    caller_id: str
    window_seconds: int


@dataclass(frozen=True)
class AgentWaiting:
    """The agent's leg `call_sid` sits in `<Dial><Queue>`, idle, for up to `seconds`."""

    agent_id: str
    call_sid: str
    seconds: int


@dataclass(frozen=True)
class AgentTalking:
    """The agent leg `call_sid` took a caller (the `<Queue url>` request): no longer idle.
    `caller_sid` is the caller's CallSid: the console transfers that caller."""

    call_sid: str
    caller_sid: str = ""


@dataclass(frozen=True)
class Unclaimed:
    """The caller is back in their own queue: any agent may claim them again."""

    call_sid: str


@dataclass(frozen=True)
class AgentGone:
    agent_id: str
    call_sid: str


@dataclass(frozen=True)
class AgentStatusSet:
    """An agent's status changes: ready, paused (with a reason) or offline (ivr.presence)."""

    agent_id: str
    status: str
    reason: str | None = None


@dataclass(frozen=True)
class AgentHeld:
    """The agent leg `call_sid` is on hold while its agent is paused, for up to `seconds`:
    going ready again from the console redirects it back to the agent line."""

    call_sid: str
    seconds: int


@dataclass(frozen=True)
class MenuChoice:
    """A caller chose in a menu: `choice` is "<via>,<key>,<target>" (via dtmf, speech or
    none; key the digit or empty; target what the choice meant, or empty when none). What a
    caller said is never kept, only what it meant."""

    call_sid: str
    choice: str

    @classmethod
    def of(cls, call_sid: str, *, via: str, key: str | None, target: str | None) -> MenuChoice:
        return cls(call_sid=call_sid, choice=f"{via},{key or ''},{target or ''}")


Change = (
    MarkAccepted
    | MenuChoice
    | QueueJoin
    | QueueLeave
    | SetLeaveReason
    | PinFailed
    | AgentWaiting
    | AgentTalking
    | AgentGone
    | Unclaimed
    | AgentStatusSet
    | AgentHeld
)


@dataclass(frozen=True)
class Waiting:
    """A caller waiting in a switchboard queue, as live state knows them."""

    call_sid: str
    queue: QueueName
    visit: str
    language: Language
    joined_at: float  # seconds since the epoch
    caller_id: str = ""
    department: str | None = None
    cause: str | None = None


class MoveFailed(Exception):
    """Twilio did not move the claimed caller (an error or no answer); they still wait where
    they were, unclaimed."""


class Mover(Protocol):
    """Moves the longest-waiting unclaimed returned caller to an agent's own queue
    (`switchboard.queue_moves`): the flow's one port to Redis and Twilio's REST API. None:
    nobody left to claim (or live state unreadable); MoveFailed: Twilio did not move them."""

    def take_return(
        self, *, agent_id: str, at: datetime, move_url: Callable[[Waiting], str]
    ) -> Waiting | None: ...


@dataclass
class Reply:
    twiml: VoiceResponse = field(default_factory=VoiceResponse)
    events: list[Event] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)

    def xml(self) -> str:
        return str(self.twiml.to_xml())


def no_pin_matches(pin_hash: str, pin: str) -> bool:
    """The default PIN check: refuses every PIN, so a context built without one is shut."""
    return False


@dataclass(frozen=True)
class Context:
    config: Config
    hours: Hours
    public_url: str
    # Whether `pin` (the keys an agent pressed) matches `pin_hash` (from the roster). The flow
    # stays free of crypto libraries: the app injects the argon2 check (switchboard/pins.py).
    pin_matches: Callable[[str, str], bool] = no_pin_matches
    # Days a callback's number is kept after the callback (settings.retain_callback_days):
    # the caller is told when asking for one.
    retain_callback_days: int = 7
    # Claims and moves returned callers for the agent line; None (no Twilio account, as in
    # development): agents dial the returns queue itself.
    mover: Mover | None = None

    def url(self, path: str, turn: Turn | None = None, **params: str | int) -> str:
        """An absolute URL for Twilio, carrying the language and the next step counter."""
        query: dict[str, str | int] = {}
        if turn is not None:
            query = {"lang": turn.language, "s": turn.step + 1}
            if turn.transfers:
                query["x"] = turn.transfers  # transfers so far in this call: the loop guard
        query.update(params)
        suffix = f"?{urlencode(query)}" if query else ""
        return f"{self.public_url}{path}{suffix}"

    def event(self, turn: Turn, kind: EventKind, dedupe_key: str, /, **data: Scalar) -> Event:
        return Event(
            kind=kind, call_sid=turn.call_sid, dedupe_key=dedupe_key, at=turn.at, data=data
        )

    def speak(self, node: TwiML, text: str, language: Language) -> None:
        """Add a <Say> in the language's configured voice (nn and nb share the nb-NO voice)."""
        if not text:
            return
        voice = self.config.voice
        if language == "en":
            node.say(text, voice=voice.english_voice, language=voice.english_language)
        else:
            node.say(text, voice=voice.voice, language=voice.language)

    def play_or_speak(self, node: TwiML, *, prompt_id: str, text: str, language: Language) -> None:
        """Play a recording when the config has one for this prompt, else speak the text."""
        recording = self.config.voice.recordings.get(prompt_id, {}).get(language)
        if recording:
            node.play(recording)
        else:
            self.speak(node, text, language)
