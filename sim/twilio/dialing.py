"""`<Dial>`: a number with its whisper and status callbacks, or an agent taking a queued caller.

Number (docs/twilio.md): the dialled leg rings, then is busy, failed, not answered
within the Dial timeout, or answered. An answered leg runs the `<Number url>` whisper with the
department's script; a whisper that runs out of verbs bridges the call, and a whisper
`<Hangup/>` ends the leg unbridged (DialCallStatus=completed, DialBridged=false).

Queue (docs/twilio.md, Queues): the head of the named queue is taken, or the first arrival
within the Dial timeout. The `<Queue url>` document runs on the *caller's* leg (see
queueing.py), then the two are bridged. The agent's Dial action fires when the conversation ends.

With an `action`, the Dial action is requested when the dialled leg ends and its TwiML runs
next; without one the call continues with the next verb (docs/twilio.md, Dial). If the caller
hangs up or the call is redirected during the Dial, the action is still requested and its
TwiML ignored.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING
from urllib.parse import urljoin

from sim.twilio.bridges import Bridge
from sim.twilio.calls import StatusCallback
from sim.twilio.departments import Department
from sim.twilio.flow import CallRedirected, Disconnected, ParentGone, TakenFromQueue
from sim.twilio.process import TIMEOUT, Signal, Sleep, Steps, WaitFor
from sim.twilio.transcript import Bridged, DialEnded, DialStarted, HungUp, Note
from sim.twilio.twiml import Dial, Document, Number, Queue

if TYPE_CHECKING:
    from sim.twilio.interpreter import LegRunner
    from sim.twilio.queues import Member

DIALLABLE = re.compile(r"\+?\d{3,15}")


@dataclass(frozen=True)
class DialOutcome:
    status: str  # DialCallStatus
    bridged: bool
    duration: int | None = None
    dial_call_sid: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def params(self) -> dict[str, str]:
        """What the Dial action request carries besides the standard parameters
        (docs/twilio.md, Dial)."""
        params = {"DialCallStatus": self.status, "DialBridged": str(self.bridged).lower()}
        if self.dial_call_sid is not None:
            params["DialCallSid"] = self.dial_call_sid
        if self.duration is not None:
            params["DialCallDuration"] = str(self.duration)
        return params | self.extra


def dial(runner: LegRunner, verb: Dial, document: Document) -> Steps[Document | None]:
    noun = verb.noun
    session: NumberDial | QueueDial
    if isinstance(noun, Number):
        session = NumberDial(runner=runner, verb=verb, noun=noun, document=document)
        target = noun.number
    else:
        session = QueueDial(runner=runner, verb=verb, noun=noun, document=document)
        target = f"queue {noun.name}"
    runner.record(DialStarted, target=target, timeout=verb.timeout)
    action = urljoin(document.url, verb.action) if verb.action else None
    try:
        outcome = yield from session.run()
    except (Disconnected, CallRedirected):
        outcome = session.abandon()
        _record_end(runner, target, outcome)
        if action is not None:
            runner.send(action, verb.method, outcome.params(), kind="dial-action")
        raise
    _record_end(runner, target, outcome)
    if action is None:
        return None
    return runner.fetch(action, verb.method, outcome.params(), kind="dial-action", context="main")


def _record_end(runner: LegRunner, target: str, outcome: DialOutcome) -> None:
    runner.record(
        DialEnded,
        target=target,
        status=outcome.status,
        bridged=outcome.bridged,
        duration=outcome.duration,
    )


class NumberDial:
    def __init__(self, *, runner: LegRunner, verb: Dial, noun: Number, document: Document) -> None:
        self.parent = runner
        self.verb = verb
        self.noun = noun
        self.document = document
        self.outcome: DialOutcome | None = None
        self.done = Signal()
        self.bridge: Bridge | None = None
        self._leg: LegRunner | None = None

    @property
    def leg(self) -> LegRunner:
        assert self._leg is not None
        return self._leg

    def run(self) -> Steps[DialOutcome]:
        sim = self.parent.sim
        department = sim.department_for(self.noun.number)
        callback = None
        if self.noun.status_callback:
            callback = StatusCallback(
                url=urljoin(self.document.url, self.noun.status_callback),
                method=self.noun.status_callback_method,
                events=self.noun.status_callback_events,
            )
        self._leg = sim.create_child(
            parent=self.parent.call,
            to=self.noun.number,
            from_=self.verb.caller_id or self.parent.call.from_,
            status_callback=callback,
            script=department.whisper,
        )
        self.leg.start(self.ring(department))
        yield WaitFor(self.done)
        assert self.outcome is not None
        return self.outcome

    def ring(self, department: Department) -> Steps[None]:
        """The dialled leg's own life, run on its process."""
        sim, child = self.parent.sim, self.leg.call
        try:
            child.status = "initiated"
            sim.callbacks.emit(child, "initiated")
            if not DIALLABLE.fullmatch(self.noun.number):
                self.leg.record(Note, text=f"13224 invalid number {self.noun.number!r}")
                department = Department.failed()
            if department.answer == "failed":
                yield Sleep(department.ring_seconds)
                self.finish("failed")
                return
            child.status = "ringing"
            sim.callbacks.emit(child, "ringing")
            if department.answer == "busy":
                yield Sleep(department.ring_seconds)
                self.finish("busy")
                return
            if department.answer == "no-answer" or department.ring_seconds >= self.verb.timeout:
                # Twilio adds a 5 s buffer to the timeout; the simulator rings for the timeout.
                yield Sleep(self.verb.timeout)
                self.finish("no-answer")
                return
            yield Sleep(department.ring_seconds)
            child.answered_at = sim.clock.now
            child.status = "in-progress"
            sim.callbacks.emit(child, "answered")
            if self.noun.url and not (yield from self.whisper()):
                self.finish("completed")
                return
            yield from self.converse(department)
        except ParentGone:
            return  # the parent already settled the outcome
        except Disconnected:
            # The callee's own hang-up (its script or the API) outside the whisper.
            if self.bridge is not None:
                self.bridge.end(by=child, at=sim.clock.now)
                self.finish("completed", bridged=True)
            else:
                self.finish("completed" if child.answered_at is not None else "canceled")

    def whisper(self) -> Steps[bool]:
        """Run the whisper: True when it ran out of verbs (bridge), False when it hung up."""
        assert self.noun.url is not None
        url = urljoin(self.document.url, self.noun.url)
        try:
            document: Document | None = self.leg.fetch(
                url, self.noun.method, {}, kind="whisper", context="whisper"
            )
            while document is not None:
                document = yield from self.leg.execute(document, "whisper")
        except Disconnected:
            return False
        return True

    def converse(self, department: Department) -> Steps[None]:
        sim, parent, child = self.parent.sim, self.parent, self.leg.call
        bridge = self.bridge = Bridge(a=parent.call, b=child, started=sim.clock.now)
        parent.record(Bridged, other=child.to)
        talk = parent.cursor.take_talk()
        if talk is not None:
            bridge.add_timer(
                sim.clock.after(talk, lambda: sim.hang_up(parent.call, who=parent.actor))
            )
        ended = yield WaitFor(bridge.ended, timeout=department.talk_seconds)
        if ended is TIMEOUT:
            self.leg.record(HungUp, who=self.leg.actor)
            bridge.end(by=child, at=sim.clock.now)
        self.finish("completed", bridged=True)

    def finish(self, status: str, *, bridged: bool = False) -> None:
        if self.outcome is not None:
            return
        child = self.leg.call
        self.parent.sim.end_leg(child, status)
        self.outcome = DialOutcome(
            status=status,
            bridged=bridged,
            duration=child.duration if child.answered_at is not None else None,
            dial_call_sid=child.sid,
        )
        self.done.fire()

    def abandon(self) -> DialOutcome:
        """The caller hung up or was redirected: end the dialled leg where it is."""
        if self.outcome is None:
            if self.bridge is not None:
                self.bridge.end(by=self.parent.call, at=self.parent.sim.clock.now)
                self.finish("completed", bridged=True)
            elif self.leg.call.answered_at is not None:
                self.finish("completed")
            else:
                self.finish("canceled")
            if self.leg.process is not None:
                self.leg.process.interrupt(ParentGone())
        assert self.outcome is not None
        return self.outcome


class QueueDial:
    def __init__(self, *, runner: LegRunner, verb: Dial, noun: Queue, document: Document) -> None:
        self.agent = runner
        self.verb = verb
        self.noun = noun
        self.document = document
        self.member: Member | None = None
        self.bridge: Bridge | None = None
        self.handshake = Signal()
        self.cancelled = False
        self.outcome: DialOutcome | None = None

    @property
    def url(self) -> str | None:
        return urljoin(self.document.url, self.noun.url) if self.noun.url else None

    def run(self) -> Steps[DialOutcome]:
        sim = self.agent.sim
        queue = sim.queues.get(self.noun.name)
        deadline = sim.clock.now + timedelta(seconds=self.verb.timeout)
        while (member := queue.take(sim.clock.now)) is None:
            remaining = (deadline - sim.clock.now).total_seconds()
            if remaining <= 0:
                # An empty queue waits for the Dial timeout (docs/twilio.md, Queues); the
                # status reported then is not documented (assumed no-answer).
                return self.conclude("no-answer")
            yield WaitFor(queue.arrival(), timeout=remaining)
        self.member = member
        sim.runner(member.call.sid).interrupt(TakenFromQueue(self))
        yield WaitFor(self.handshake)
        if self.bridge is None:  # the caller hung up before the bridge
            return self.conclude("completed")
        yield WaitFor(self.bridge.ended)
        return self.conclude("completed", bridged=True)

    def connect(self, caller: LegRunner) -> Bridge | None:
        """The dequeued caller is ready: bridge, unless the agent has gone meanwhile.

        Either party's script may say how long they talk; if neither does, the caller hangs
        up after `Timing.queue_talk_seconds`, so an agent whose TwiML dials the queue again
        serves caller after caller on one call.
        """
        if self.cancelled:
            return None
        sim = self.agent.sim
        bridge = self.bridge = Bridge(a=caller.call, b=self.agent.call, started=sim.clock.now)
        self.agent.record(Bridged, other=caller.call.from_)
        talks = [(party, party.cursor.take_talk()) for party in (caller, self.agent)]
        if all(seconds is None for _, seconds in talks):
            talks = [(caller, sim.timing.queue_talk_seconds)]
        for party, seconds in talks:
            if seconds is not None:
                bridge.add_timer(sim.clock.after(seconds, _hang_up_later(party)))
        self.handshake.fire()
        return bridge

    def caller_gone(self) -> None:
        self.handshake.fire()

    def conclude(self, status: str, *, bridged: bool = False) -> DialOutcome:
        now = self.agent.sim.clock.now
        extra: dict[str, str] = {}
        if self.member is not None:
            extra = {
                "QueueSid": self.member.queue.sid,
                "QueueTime": str(self.member.waited(now)),
                "DequeingCallSid": self.agent.call.sid,
            }
        self.outcome = DialOutcome(
            status=status,
            bridged=bridged,
            duration=self.bridge.duration(now) if self.bridge is not None else None,
            dial_call_sid=self.member.call.sid if self.member is not None else None,
            extra=extra,
        )
        return self.outcome

    def abandon(self) -> DialOutcome:
        """The agent hung up or was redirected during the Dial."""
        if self.outcome is not None:
            return self.outcome
        if self.bridge is not None:
            self.bridge.end(by=self.agent.call, at=self.agent.sim.clock.now)
            return self.conclude("completed", bridged=True)
        if self.member is not None:
            self.cancelled = True
            return self.conclude("completed")
        return self.conclude("canceled")


def _hang_up_later(party: LegRunner) -> Callable[[], None]:
    return lambda: party.sim.hang_up(party.call, who=party.actor)
