"""The TwiML interpreter of one call leg: fetch a document, run its verbs, follow where they lead.

Each leg runs as a process on the virtual clock. The same interpreter serves every context,
because the verbs behave alike and only the allowed set and the failure policy differ:

- main: the call's own documents; a failed fetch tries the number's fallback URL, and without
  one Twilio says its English application-error message and hangs up (docs/twilio.md,
  Requests);
- wait: an Enqueue waitUrl document, re-requested whenever it runs out (docs/twilio.md,
  Queues);
- dequeue: the `<Queue url>` document, run on a caller an agent took from the queue
  (docs/twilio.md, Queues);
- whisper: the `<Number url>` document on the dialled leg, before the bridge (docs/twilio.md,
  Dial).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING
from urllib.parse import urljoin

from sim.twilio.calls import Call
from sim.twilio.dialing import dial
from sim.twilio.flow import CallRedirected, CallRejected, Disconnected, LeftQueue
from sim.twilio.process import Interrupt, Process, Sleep, Steps
from sim.twilio.queueing import enqueue
from sim.twilio.scripts import Action, HangUp, Press, ScriptCursor, Speak
from sim.twilio.transcript import (
    Entry,
    FallbackUsed,
    FetchFailed,
    HungUp,
    NoInput,
    Note,
    Paused,
    Played,
    Pressed,
    Redirected,
    Rejected,
    Requested,
    Said,
    Spoke,
    Warned,
)
from sim.twilio.transport import RequestRecord
from sim.twilio.twiml import (
    Context,
    Dial,
    Document,
    Enqueue,
    Gather,
    Hangup,
    Leave,
    Pause,
    Play,
    Prompt,
    Redirect,
    Reject,
    Say,
    TwimlError,
    Verb,
    parse_document,
)

if TYPE_CHECKING:
    from sim.twilio.engine import TwilioSimulator
    from sim.twilio.queues import Member

APPLICATION_ERROR = "We are sorry, an application error has occurred. Goodbye."
TWIML_TYPES = frozenset({"text/xml", "application/xml", "text/html"})
ENDLESS_LOOP = 1000  # loop="0" repeats until hang-up, or 1000 times (docs/twilio.md)
ACTION_KINDS = frozenset({"gather-action", "dial-action", "enqueue-action"})


class SimulationError(RuntimeError):
    """The simulated call cannot go on sensibly, such as a TwiML loop that never waits."""


class LegRunner:
    def __init__(
        self, *, sim: TwilioSimulator, call: Call, script: Iterable[Action], actor: str
    ) -> None:
        self.sim = sim
        self.call = call
        self.actor = actor  # who acts on this leg in the transcript: CALLER or CALLEE
        self.speaker = "IVR" if call.direction == "inbound" else "WHISPER"
        self.cursor = ScriptCursor(script, arm_hang_up=self._arm_hang_up)
        self.process: Process | None = None
        self.queue_member: Member | None = None

    def start(self, steps: Steps[None]) -> None:
        self.process = Process(clock=self.sim.clock, steps=steps, name=self.call.sid)
        self.cursor.start()
        self.process.start()

    def interrupt(self, error: Interrupt) -> None:
        if self.process is not None:
            self.process.interrupt(error)

    def _arm_hang_up(self, seconds: float) -> None:
        self.sim.clock.after(seconds, lambda: self.sim.hang_up(self.call, who=self.actor))

    def record(self, entry_type: type[Entry], **fields: object) -> None:
        self.call.transcript.append(
            entry_type(at=self.sim.clock.now, call_sid=self.call.sid, **fields)
        )

    # --- the top level of an inbound leg -------------------------------------------------

    def run_inbound(self) -> Steps[None]:
        call = self.call
        final = "completed"
        try:
            assert call.voice_url is not None
            document: Document | None = self.fetch(
                call.voice_url, "POST", {}, kind="voice", context="main"
            )
            while document is not None:
                try:
                    document = yield from self.execute(document, "main")
                except CallRedirected as redirect:
                    self.record(Redirected, url=redirect.url)
                    document = self.fetch(
                        redirect.url, redirect.method, {}, kind="redirect", context="main"
                    )
            # Out of verbs: Twilio ends the call.
            self.record(HungUp, who=self.speaker)
        except Disconnected:
            pass
        except CallRejected as rejected:
            final = "busy" if rejected.reason == "busy" else "no-answer"
        self.sim.end_leg(call, final)

    # --- documents -------------------------------------------------------------------------

    def execute(self, document: Document, context: Context) -> Steps[Document | None]:
        """Run a document's verbs; the next document to run, or None when they ran out."""
        for verb in document.verbs:
            if self.call.answered_at is None and not isinstance(verb, Reject):
                self.call.answered_at = self.sim.clock.now
                self.call.status = "in-progress"
            following = yield from self.run_verb(verb, document, context)
            if following is not None:
                return following
        return None

    def run_verb(self, verb: Verb, document: Document, context: Context) -> Steps[Document | None]:
        if isinstance(verb, Say | Play | Pause):
            yield from self.play(verb, document)
            return None
        if isinstance(verb, Gather):
            return (yield from self.gather(verb, document, context))
        if isinstance(verb, Redirect):
            url = urljoin(document.url, verb.url)
            self.record(Redirected, url=url)
            return self.fetch(url, verb.method, {}, kind="redirect", context=context)
        if isinstance(verb, Hangup):
            who = "TWILIO" if document.source == "twilio" else self.speaker
            self.record(HungUp, who=who)
            self.call.status = "completed"  # an Enqueue action that follows says so
            raise Disconnected(who)
        if isinstance(verb, Reject):
            if self.call.answered_at is not None:
                # Only a first verb can refuse to answer; later it just ends the call.
                self.record(HungUp, who=self.speaker)
                raise Disconnected(self.speaker)
            self.record(Rejected, reason=verb.reason)
            raise CallRejected(verb.reason)
        if isinstance(verb, Leave):
            if context == "wait":
                raise LeftQueue
            self.record(Note, text="<Leave/> outside a queue does nothing")
            return None
        if isinstance(verb, Dial):
            return (yield from dial(self, verb, document))
        assert isinstance(verb, Enqueue)
        return (yield from enqueue(self, verb, document))

    def play(self, prompt: Prompt, document: Document) -> Steps[None]:
        timing = self.sim.timing
        who = "TWILIO" if document.source == "twilio" else self.speaker
        if isinstance(prompt, Pause):
            self.record(Paused, who=who, seconds=prompt.length)
            yield Sleep(prompt.length)
            return
        loops = prompt.loop or ENDLESS_LOOP
        if isinstance(prompt, Say):
            self.record(
                Said, who=who, text=prompt.text, language=prompt.language, voice=prompt.voice
            )
            seconds = max(1.0, len(prompt.text.split()) / timing.words_per_second)
        else:
            url = urljoin(document.url, prompt.url)
            known = timing.audio_seconds.get(url)
            self.record(Played, who=who, url=url, seconds=None if known is None else known * loops)
            seconds = timing.play_seconds if known is None else known
            seconds += len(prompt.digits) * timing.key_interval_seconds
        yield Sleep(seconds * loops)

    # --- <Gather> ----------------------------------------------------------------------------

    def gather(self, verb: Gather, document: Document, context: Context) -> Steps[Document | None]:
        timing = self.sim.timing
        for prompt in verb.prompts:
            yield from self.play(prompt, document)
        # The caller answers once the prompt has played (the simulator does not barge in).
        answer = self.cursor.take_input()
        if isinstance(answer, HangUp):
            self.sim.hang_up(self.call, who=self.actor)
            yield Sleep(0)  # the hang-up is delivered here
        params: dict[str, str] | None = None
        if isinstance(answer, Press):
            digits, finished_on = yield from self._keys(verb, answer)
            self.record(Pressed, who=self.actor, digits=answer.digits, heard="dtmf" in verb.input)
            if digits and "dtmf" in verb.input:
                params = {"Digits": digits, "FinishedOnKey": finished_on, "msg": "Gather End"}
        elif isinstance(answer, Speak):
            speech_end = verb.speech_timeout or timing.speech_end_seconds
            yield Sleep(
                timing.think_seconds
                + len(answer.text.split()) / timing.words_per_second
                + speech_end
            )
            heard = "speech" in verb.input
            self.record(
                Spoke, who=self.actor, text=answer.text, confidence=answer.confidence, heard=heard
            )
            if heard:
                params = {"SpeechResult": answer.text, "msg": "Gather End"}
                if answer.confidence is not None:
                    params["Confidence"] = f"{answer.confidence:.8f}".rstrip("0").rstrip(".")
        else:
            yield Sleep(verb.timeout)
        if params is None:
            self.record(NoInput, who=self.actor, seconds=verb.timeout)
            if not verb.action_on_empty_result:
                return None  # no request: on to the next verb (docs/twilio.md)
            params = {}
        action = urljoin(document.url, verb.action) if verb.action else document.url
        return self.fetch(action, verb.method, params, kind="gather-action", context=context)

    def _keys(self, verb: Gather, answer: Press) -> Steps[tuple[str, str]]:
        """Press keys one by one; the digits Twilio collects, and the finish key if one ended it."""
        timing = self.sim.timing
        yield Sleep(timing.think_seconds)
        collected = ""
        for index, key in enumerate(answer.digits):
            if index:
                yield Sleep(timing.key_interval_seconds)
            if verb.finish_on_key and key == verb.finish_on_key:
                return collected, key
            collected += key
            if verb.num_digits is not None and len(collected) >= verb.num_digits:
                return collected, ""
        yield Sleep(verb.timeout)  # the Gather waits `timeout` after the last key
        return collected, ""

    # --- fetching ------------------------------------------------------------------------------

    def send(self, url: str, method: str, extra: Mapping[str, str], *, kind: str) -> RequestRecord:
        """One request for this leg, recorded, with its response not interpreted."""
        if len(self.call.requests) >= self.sim.timing.max_requests_per_call:
            raise SimulationError(
                f"{self.call.sid} made {len(self.call.requests)} requests: a TwiML loop that "
                "never waits, or a caller who never leaves? (Timing.max_requests_per_call)"
            )
        params = {**self.call.params(), **extra}
        record = self.sim.transport.send(
            method=method, url=url, params=params, kind=kind, call_sid=self.call.sid
        )
        self.call.requests.append(record)
        self.record(
            Requested, kind=kind, method=record.method, url=record.url, status=record.status
        )
        if kind in ACTION_KINDS:
            self.sim.repeat_action(self.call, url=url, method=method, params=params, kind=kind)
        return record

    def fetch(
        self, url: str, method: str, extra: Mapping[str, str], *, kind: str, context: Context
    ) -> Document:
        """Fetch a document for `context`; on failure, what Twilio would run instead."""
        record = self.send(url, method, extra, kind=kind)
        try:
            return self._read(record, url, context)
        except TwimlError as error:
            self.record(FetchFailed, url=record.url, error_code=error.code, detail=error.message)
            return self._recover(record, error, context, extra)

    def _read(self, record: RequestRecord, url: str, context: Context) -> Document:
        if not record.ok:
            assert record.error_code is not None
            raise TwimlError(record.error_code, record.error or "request failed")
        content_type = (record.content_type or "").split(";")[0].strip().lower()
        if not content_type:
            raise TwimlError(12300, "the response has no Content-Type")
        if content_type.startswith("audio/"):
            return Document(url=url, verbs=(Play(url=record.url), Hangup()))
        if content_type not in TWIML_TYPES | {"text/plain"}:
            raise TwimlError(12300, f"invalid Content-Type {content_type}")
        if not record.body.strip():
            raise TwimlError(11770, "empty response body")
        try:
            document = parse_document(record.body, url=url, context=context)
        except TwimlError:
            if content_type != "text/plain":
                raise
            # Plain text that is not TwiML is read aloud, then Twilio hangs up
            # (docs/twilio.md, Requests).
            text = Say(text=" ".join(record.body.split()))
            return Document(url=url, verbs=(text, Hangup()), source="twilio")
        for warning in document.warnings:
            self.record(Warned, url=record.url, message=warning)
        return document

    def _recover(
        self, failed: RequestRecord, error: TwimlError, context: Context, extra: Mapping[str, str]
    ) -> Document:
        fallback = self.call.fallback_url
        if context == "main" and fallback and failed.kind != "fallback":
            self.record(FallbackUsed, url=fallback, error_code=error.code, error_url=failed.url)
            details = {**extra, "ErrorCode": str(error.code), "ErrorUrl": failed.url}
            return self.fetch(fallback, "POST", details, kind="fallback", context=context)
        if context == "wait":
            # Keep the caller queued and ask again a little later (an assumption: Twilio's
            # handling of a failing waitUrl is not documented).
            pause = Pause(length=round(self.sim.timing.wait_retry_seconds))
            return Document(url=failed.url, verbs=(pause,), source="twilio")
        if context == "dequeue":
            return Document(url=failed.url, verbs=(), source="twilio")  # straight to the bridge
        apology = Say(text=APPLICATION_ERROR, language="en-US")
        return Document(url=failed.url, verbs=(apology, Hangup()), source="twilio")
