"""TwiML documents as Twilio reads them: parsed, validated for their context, as typed verbs.

Twilio checks a whole document before it runs any of it, so a bad verb near the end fails the
request up front and the number's fallback URL is tried (docs/twilio.md). Element and
attribute names are case-sensitive, and the root must be `<Response>` (12102). Bad attribute
values are warnings (12200) and the default is used, as Twilio does; they are kept on the
document so a test can see them.

Exceptions: `TwimlError` (the document is unusable: Twilio would fall back) and
`SimulatorLimitation` (valid TwiML that this simulator does not imitate, raised loudly rather
than skipped, so no test passes by accident).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Literal

Context = Literal["main", "wait", "dequeue", "whisper"]
Method = Literal["GET", "POST"]


class TwimlError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class SimulatorLimitation(NotImplementedError):
    """Valid TwiML that the simulator does not imitate."""


@dataclass(frozen=True)
class Say:
    text: str
    voice: str | None = None
    language: str = "en-US"
    loop: int = 1


@dataclass(frozen=True)
class Play:
    url: str
    loop: int = 1
    digits: str = ""


@dataclass(frozen=True)
class Pause:
    length: int = 1


@dataclass(frozen=True)
class Hangup:
    pass


@dataclass(frozen=True)
class Reject:
    reason: str = "rejected"


@dataclass(frozen=True)
class Redirect:
    url: str
    method: Method = "POST"


@dataclass(frozen=True)
class Leave:
    pass


Prompt = Say | Play | Pause


@dataclass(frozen=True)
class Gather:
    action: str | None = None
    method: Method = "POST"
    input: frozenset[str] = frozenset({"dtmf"})
    timeout: int = 5
    num_digits: int | None = None
    finish_on_key: str = "#"
    speech_timeout: int | None = None  # None means "auto": stop at the first pause
    action_on_empty_result: bool = False
    language: str = "en-US"
    hints: str = ""
    prompts: tuple[Prompt, ...] = ()


@dataclass(frozen=True)
class Number:
    number: str
    url: str | None = None
    method: Method = "POST"
    status_callback: str | None = None
    status_callback_method: Method = "POST"
    status_callback_events: frozenset[str] = frozenset({"completed"})


@dataclass(frozen=True)
class Queue:
    name: str
    url: str | None = None
    method: Method = "POST"


@dataclass(frozen=True)
class Dial:
    noun: Number | Queue
    action: str | None = None
    method: Method = "POST"
    timeout: int = 30
    caller_id: str | None = None


@dataclass(frozen=True)
class Enqueue:
    name: str
    action: str | None = None
    method: Method = "POST"
    wait_url: str | None = None  # None: Twilio's default hold music; "": silence
    wait_url_method: Method = "POST"


Verb = Say | Play | Pause | Hangup | Reject | Redirect | Leave | Gather | Dial | Enqueue


@dataclass(frozen=True)
class Document:
    url: str
    verbs: tuple[Verb, ...]
    warnings: tuple[str, ...] = ()
    # "twilio" marks what Twilio itself plays, such as its application-error message.
    source: Literal["app", "twilio"] = "app"


ALLOWED: dict[Context, frozenset[str]] = {
    "main": frozenset(
        {
            "Say",
            "Play",
            "Pause",
            "Gather",
            "Dial",
            "Enqueue",
            "Redirect",
            "Hangup",
            "Reject",
            "Leave",
        }
    ),
    # docs/twilio.md: what a waitUrl document may contain.
    "wait": frozenset({"Play", "Say", "Pause", "Hangup", "Redirect", "Leave", "Gather"}),
    # The <Queue url> document that runs on the dequeued caller.
    "dequeue": frozenset({"Say", "Play", "Pause", "Redirect"}),
    # The <Number url> whisper on the callee's leg.
    "whisper": frozenset({"Play", "Say", "Gather", "Hangup"}),
}
GATHER_NESTABLE = frozenset({"Say", "Play", "Pause"})
NOT_SIMULATED = frozenset(
    {"Record", "Connect", "Pay", "Refer", "Sms", "Start", "Stop", "Prompt", "Echo", "Stream"}
)
NOT_SIMULATED_NOUNS = frozenset({"Client", "Sip", "Conference", "Application", "WhatsApp", "Sim"})

KNOWN_ATTRIBUTES: dict[str, frozenset[str]] = {
    tag: frozenset(names.split())
    for tag, names in {
        "Say": "voice language loop",
        "Play": "loop digits",
        "Pause": "length",
        "Hangup": "",
        "Reject": "reason",
        "Redirect": "method",
        "Leave": "",
        "Gather": "action method input timeout numDigits finishOnKey speechTimeout"
        " actionOnEmptyResult language hints speechModel profanityFilter partialResultCallback"
        " partialResultCallbackMethod enhanced bargeIn debug maxSpeechTime",
        "Dial": "action method timeout callerId answerOnBridge ringTone record"
        " recordingStatusCallback recordingStatusCallbackMethod recordingStatusCallbackEvent"
        " timeLimit hangupOnStar sequential trim recordingTrack referUrl referMethod callReason"
        " recordingConfigurationId events",
        "Number": "sendDigits url method statusCallback statusCallbackMethod statusCallbackEvent"
        " byoc machineDetection machineDetectionTimeout machineDetectionSpeechThreshold"
        " machineDetectionSpeechEndThreshold machineDetectionSilenceTimeout amdStatusCallback"
        " amdStatusCallbackMethod",
        "Queue": "url method reservationSid postWorkActivitySid",
        "Enqueue": "action method waitUrl waitUrlMethod workflowSid",
    }.items()
}
CALL_PROGRESS_EVENTS = frozenset({"initiated", "ringing", "answered", "completed"})
FINISH_KEYS = frozenset("0123456789#*")


def parse_document(body: str, *, url: str, context: Context) -> Document:
    """Parse and validate a TwiML document, or raise `TwimlError` with Twilio's error code."""
    if "<!DOCTYPE" in body or "<!ENTITY" in body:
        # Twilio reads plain TwiML; refusing DTDs also keeps entity expansion out of the parser.
        raise TwimlError(12100, "document type declarations are not TwiML")
    try:
        root = ET.fromstring(body)  # noqa: S314 - DTDs refused above; no entities to expand
    except ET.ParseError as error:
        raise TwimlError(12100, f"document parse failure: {error}") from error
    if root.tag != "Response":
        raise TwimlError(12102, f"the root element must be <Response>, not <{root.tag}>")
    reader = _Reader()
    verbs = tuple(reader.verb(element, context) for element in root)
    return Document(url=url, verbs=verbs, warnings=tuple(reader.warnings))


class _Reader:
    def __init__(self) -> None:
        self.warnings: list[str] = []

    def warn(self, element: ET.Element, message: str) -> None:
        self.warnings.append(f"12200 <{element.tag}>: {message}")

    def verb(self, element: ET.Element, context: Context) -> Verb:
        tag = element.tag
        if tag in NOT_SIMULATED:
            raise SimulatorLimitation(f"the simulator does not imitate <{tag}>")
        if context == "whisper" and tag == "Dial":
            raise TwimlError(13201, "<Dial> is not allowed in a whisper (the dialled leg)")
        if tag not in KNOWN_ATTRIBUTES or tag in {"Number", "Queue"}:
            raise TwimlError(12100, f"<{tag}> is not a TwiML verb (names are case-sensitive)")
        if tag not in ALLOWED[context]:
            raise TwimlError(12100, f"<{tag}> is not allowed in a {context} document")
        self.check_attributes(element)
        if tag == "Gather":
            return self.gather(element)
        if tag == "Dial":
            return self.dial(element)
        if tag == "Enqueue":
            name = _text(element)
            if not name or len(name) > 64:
                raise TwimlError(12100, "<Enqueue> needs a queue name of at most 64 characters")
            return Enqueue(
                name=name,
                action=element.get("action"),
                method=self.method(element, "method"),
                wait_url=element.get("waitUrl"),
                wait_url_method=self.method(element, "waitUrlMethod"),
            )
        if tag == "Redirect":
            target = _text(element)
            if not target:
                raise TwimlError(11100, "<Redirect> needs a URL")
            return Redirect(url=target, method=self.method(element, "method"))
        if tag == "Hangup":
            return Hangup()
        if tag == "Leave":
            return Leave()
        if tag == "Reject":
            reason = element.get("reason", "rejected")
            if reason not in {"rejected", "busy"}:
                self.warn(element, f"reason={reason!r} is not rejected or busy")
                reason = "rejected"
            return Reject(reason=reason)
        return self.prompt(element)

    def prompt(self, element: ET.Element) -> Prompt:
        if element.tag == "Say":
            return Say(
                text=_text(element),
                voice=element.get("voice"),
                language=element.get("language", "en-US"),
                loop=self.integer(element, "loop", default=1, minimum=0),
            )
        if element.tag == "Play":
            return Play(
                url=_text(element),
                loop=self.integer(element, "loop", default=1, minimum=0),
                digits=element.get("digits", ""),
            )
        return Pause(length=self.integer(element, "length", default=1, minimum=0))

    def gather(self, element: ET.Element) -> Gather:
        prompts: list[Prompt] = []
        for child in element:
            if child.tag not in GATHER_NESTABLE:
                raise TwimlError(12100, f"<{child.tag}> cannot be nested in <Gather>")
            self.check_attributes(child)
            prompts.append(self.prompt(child))
        modes = frozenset(element.get("input", "dtmf").split())
        if not modes or not modes <= {"dtmf", "speech"}:
            self.warn(element, f"input={element.get('input')!r} is not dtmf and/or speech")
            modes = frozenset({"dtmf"})
        finish = element.get("finishOnKey", "#")
        if finish and finish not in FINISH_KEYS:
            self.warn(element, f"finishOnKey={finish!r} is not one key of 0-9 # *")
            finish = "#"
        speech_timeout_text = element.get("speechTimeout")
        speech_timeout: int | None
        if speech_timeout_text in {None, "auto"}:
            speech_timeout = None
        else:
            speech_timeout = self.integer(element, "speechTimeout", default=5, minimum=1)
        timeout = (
            5
            if element.get("timeout") == "auto"
            else self.integer(element, "timeout", default=5, minimum=1)
        )
        return Gather(
            action=element.get("action"),
            method=self.method(element, "method"),
            input=modes,
            timeout=timeout,
            num_digits=self.optional_integer(element, "numDigits"),
            finish_on_key=finish,
            speech_timeout=speech_timeout,
            action_on_empty_result=self.boolean(element, "actionOnEmptyResult"),
            language=element.get("language", "en-US"),
            hints=element.get("hints", ""),
            prompts=tuple(prompts),
        )

    def dial(self, element: ET.Element) -> Dial:
        children = list(element)
        if len(children) > 1:
            raise SimulatorLimitation("the simulator dials one noun at a time")
        noun: Number | Queue
        if not children:
            number = _text(element)
            if not number:
                raise TwimlError(12100, "<Dial> has nothing to dial")
            noun = Number(number=number)
        else:
            noun = self.noun(children[0])
        timeout = self.integer(element, "timeout", default=30, minimum=1)
        if not 5 <= timeout <= 600:
            # Twilio's documented range (docs/twilio.md); it clamps rather than failing.
            self.warn(element, f"timeout={timeout} is outside 5-600 s")
            timeout = min(max(timeout, 5), 600)
        return Dial(
            noun=noun,
            action=element.get("action"),
            method=self.method(element, "method"),
            timeout=timeout,
            caller_id=element.get("callerId"),
        )

    def noun(self, element: ET.Element) -> Number | Queue:
        if element.tag in NOT_SIMULATED_NOUNS:
            raise SimulatorLimitation(f"the simulator does not dial <{element.tag}>")
        if element.tag not in {"Number", "Queue"}:
            raise TwimlError(12100, f"<{element.tag}> cannot be nested in <Dial>")
        self.check_attributes(element)
        if element.tag == "Queue":
            return Queue(
                name=_text(element), url=element.get("url"), method=self.method(element, "method")
            )
        events = frozenset(element.get("statusCallbackEvent", "completed").split())
        if not events <= CALL_PROGRESS_EVENTS:
            # A list rendered by twilio-python as "['initiated', ...]" lands here.
            self.warn(element, f"statusCallbackEvent={element.get('statusCallbackEvent')!r}")
            events = events & CALL_PROGRESS_EVENTS
        return Number(
            number=_text(element),
            url=element.get("url"),
            method=self.method(element, "method"),
            status_callback=element.get("statusCallback"),
            status_callback_method=self.method(element, "statusCallbackMethod"),
            status_callback_events=events,
        )

    def check_attributes(self, element: ET.Element) -> None:
        for name in element.attrib:
            if name not in KNOWN_ATTRIBUTES[element.tag]:
                self.warn(element, f"unknown attribute {name!r} (names are case-sensitive)")

    def method(self, element: ET.Element, name: str) -> Method:
        value = element.get(name, "POST")
        if value == "GET":
            return "GET"
        if value != "POST":
            self.warn(element, f"{name}={value!r} is not GET or POST")
        return "POST"

    def boolean(self, element: ET.Element, name: str) -> bool:
        value = element.get(name, "false")
        if value not in {"true", "false"}:
            self.warn(element, f"{name}={value!r} is not true or false")
        return value == "true"

    def integer(self, element: ET.Element, name: str, *, default: int, minimum: int) -> int:
        value = self.optional_integer(element, name, minimum=minimum)
        return default if value is None else value

    def optional_integer(self, element: ET.Element, name: str, *, minimum: int = 1) -> int | None:
        text = element.get(name)
        if text is None:
            return None
        if not re.fullmatch(r"\d+", text.strip()) or int(text) < minimum:
            self.warn(element, f"{name}={text!r} is not an integer >= {minimum}")
            return None
        return int(text)


def _text(element: ET.Element) -> str:
    # Say may hold SSML children; what is spoken is all of their text, whitespace collapsed.
    return " ".join("".join(element.itertext()).split())
