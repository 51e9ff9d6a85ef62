"""Reading the ground truth off the simulated world, as a telephone network would know it.

Each call to the main number is read from its simulator transcript: its Dials to department
numbers (how the department's person acted, whether the call was bridged, whether the caller
hung up meanwhile), its visits to the switchboard queues (when an agent took it, or how it
ended), and the keys the caller pressed. Our own events and SQL are never read: this is what
the statistics are checked against. The generator adds what only it knows (`Records`): which
agent transfers it asked for, and which transfer a hand-back or recall follows.

Returns are then found by the rule of docs/glossary.md and the glossary (`came_back_from`) over all
calls in time order, from the world's own instants: when the department's person accepted,
when the Dial ended, when the call came in. Each follow-up call the generator placed must come
back from the transfer it meant (`Records.links`); one that does not is a problem of the truth.
`connected_legs` reads the same from a world still playing, for the generator to check its
follow-ups against before it places them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from ivr.call import TWILIO_QUEUES
from ivr.config import SWITCHBOARD, Config
from ivr.handover import AGENT_QUEUE_PREFIX
from ivr.hours import Hours
from ivr.vocabulary import RECALL_WINDOW, Initiator
from ivr.vocabulary import TransferOutcome as Outcome
from sim.ground_truth import (
    GroundTruth,
    Talk,
    TruthCall,
    TruthReturn,
    TruthTransfer,
    TruthVisit,
    VisitResult,
    came_back_from,
)
from sim.twilio import Call
from sim.twilio.transcript import (
    Bridged,
    Dequeued,
    DialEnded,
    DialStarted,
    Enqueued,
    Entry,
    HungUp,
    Pressed,
    QueueResult,
)

MOBILE = re.compile(r"\+47[49]\d{7}")  # SMS goes only to Norwegian mobiles (ivr/phone.py)
QUEUE_CALLBACK_KEY, QUEUE_SMS_KEY = "1", "2"
UNBRIDGED: dict[str, Outcome] = {
    "busy": "busy",
    "no-answer": "no_answer",
    "failed": "failed",
    "completed": "declined",  # answered, but no one accepted in the whisper
}


@dataclass
class Records:
    """What the traffic generator itself did, which the calls alone do not show."""

    scenarios: dict[str, str] = field(default_factory=dict)  # call sid -> what was meant
    # call sid -> (when, department) of each agent transfer Twilio took
    agent_transfers: dict[str, list[tuple[datetime, str]]] = field(default_factory=dict)
    # follow-up call sid -> the transfer (department leg sid) it comes back from, or None
    links: dict[str, str | None] = field(default_factory=dict)
    api_statuses: list[int] = field(default_factory=list)  # every agent transfer request's


@dataclass(frozen=True)
class Leg:
    """A Dial to a department that connected; `ended_at` None while the two still talk."""

    id: str  # the department leg's CallSid
    call_sid: str
    connected_at: datetime | None
    ended_at: datetime | None


def connected_legs(call: Call, departments: dict[str, str]) -> list[Leg]:
    """The Dials of `call` to these department numbers that connected, so far."""
    legs: list[Leg] = []
    dialling: Call | None = None
    bridged = False
    for entry in call.transcript:
        if entry.call_sid != call.sid:
            continue
        if isinstance(entry, DialStarted):
            dialling = _leg(call, entry) if entry.target in departments else None
            bridged = False
        elif isinstance(entry, Bridged) and dialling is not None:
            bridged = bridged or entry.other == dialling.to
        elif isinstance(entry, DialEnded) and dialling is not None:
            if entry.bridged:
                legs.append(Leg(dialling.sid, call.sid, accepted_at(call, dialling), entry.at))
            dialling = None
    if dialling is not None and bridged:
        legs.append(Leg(dialling.sid, call.sid, accepted_at(call, dialling), None))
    return legs


def accepted_at(call: Call, leg: Call) -> datetime | None:
    """When the department's person pressed the key that accepted the call, in the whisper."""
    presses = [
        e.at
        for e in call.transcript
        if isinstance(e, Pressed) and e.call_sid == leg.sid and e.who == "CALLEE"
    ]
    return presses[-1] if presses else None


def _leg(call: Call, started: DialStarted) -> Call:
    return next(c for c in call.children if c.to == started.target and c.started_at == started.at)


@dataclass
class _Visit:
    queue: Literal["main", "returns"]
    joined: datetime
    answered_after: int | None = None
    keys: list[str] = field(default_factory=list)
    # Moved to an agent's queue by a queue member update: one visit all along, whose wait is
    # the time queued in each queue it was in (`earlier`: those it was moved out of).
    moved: bool = False
    earlier: int = 0

    def since_joined(self, entry: Dequeued | QueueResult) -> int:
        return self.earlier + entry.waited


def _moved(end: QueueResult, following: list[Entry]) -> bool:
    """Whether the queue `end` reports is left for an agent's queue, or from one back to a
    switchboard queue: `redirected`, and the next thing the call does is join that queue."""
    from_agent = end.queue.startswith(AGENT_QUEUE_PREFIX)
    if end.result != "redirected" and not (end.result == "leave" and from_agent):
        return False
    for entry in following:
        if isinstance(entry, DialStarted):
            return False
        if isinstance(entry, Enqueued):
            return from_agent or entry.queue.startswith(AGENT_QUEUE_PREFIX)
    return False


class TruthRecorder:
    def __init__(self, *, config: Config, hours: Hours, records: Records) -> None:
        self.config = config
        self.hours = hours
        self.records = records
        self.main = config.municipality.main_number
        self.departments = {d.number: d.id for d in config.departments}
        self.on_call = {d.on_call.number: d.id for d in config.departments if d.on_call}
        self.queues = {twilio: name for name, twilio in TWILIO_QUEUES.items()}
        self.closed_keys = {target: key for key, target in config.menus.closed.items()}

    def read(self, calls: list[Call]) -> GroundTruth:
        truth = GroundTruth()
        inbound = [c for c in calls if c.to == self.main and c.parent is None]
        for call in sorted(inbound, key=lambda c: c.started_at):
            self._read_call(truth, call)
        self._find_returns(truth)
        return truth

    def _open(self, at: datetime) -> bool:
        return self.hours.is_open(SWITCHBOARD, at)

    def _read_call(self, truth: GroundTruth, call: Call) -> None:
        requests = list(self.records.agent_transfers.get(call.sid, []))
        entries = [e for e in call.transcript if e.call_sid == call.sid]
        dialling: DialStarted | None = None
        visit: _Visit | None = None
        queued = False
        keys: list[str] = []
        transferred = on_call = sms = callback = served = False
        mobile = bool(MOBILE.fullmatch(call.from_))
        for index, entry in enumerate(entries):
            if isinstance(entry, DialStarted):
                on_call = on_call or entry.target in self.on_call
                dialling = entry if entry.target in self.departments else None
            elif isinstance(entry, DialEnded) and dialling is not None:
                transfer = self._transfer(call, dialling, entry, entries, requests)
                dialling = None
                if transfer is not None:
                    transferred = True
                    served = served or transfer.outcome == "connected"
                    self._add_transfer(truth, transfer)
            elif isinstance(entry, Enqueued):
                if visit is not None and visit.moved:
                    visit.moved = False
                    continue  # the same visit, in an agent's queue (or back in its own)
                visit = _Visit(queue=self._queue(entry.queue), joined=entry.at)
            elif isinstance(entry, Dequeued) and visit is not None:
                visit.answered_after = visit.since_joined(entry)
            elif isinstance(entry, Pressed) and entry.who == "CALLER":
                keys.append(entry.digits)
                if visit is not None and visit.answered_after is None:
                    visit.keys.append(entry.digits)
            elif isinstance(entry, QueueResult) and visit is not None:
                visit.moved = _moved(entry, entries[index + 1 :])
                if visit.moved:
                    visit.earlier += entry.waited
                    continue  # a member update moved the caller on: the visit goes on
                result = self._visit_result(visit, entry)
                wait = visit.answered_after if result == "answered" else visit.since_joined(entry)
                truth.visits.append(
                    TruthVisit(
                        call_sid=call.sid,
                        queue=visit.queue,
                        joined_at=visit.joined,
                        wait_seconds=int(wait if wait is not None else entry.waited),
                        result=result,
                        in_hours=self._open(visit.joined),
                    )
                )
                sms = sms or (mobile and QUEUE_SMS_KEY in visit.keys)
                # A callback asked for in the queue is requested even when an agent answers
                # while the confirmation is still being read (the Dequeue cuts the waitUrl short).
                callback = callback or result == "callback" or QUEUE_CALLBACK_KEY in visit.keys
                served = served or result == "answered"
                queued = True
                visit = None
        scenario = self.records.scenarios.get(call.sid, "unknown")
        if scenario == "after_hours_sms":
            sms = sms or (mobile and self.closed_keys.get("sms") in keys)
        if scenario == "after_hours_callback":
            callback = callback or self.closed_keys.get("callback") in keys
        after_hours = not self._open(call.started_at)
        got = None
        if after_hours:
            flags = {
                "department": transferred,
                "on_call": on_call,
                "callback": callback,
                "sms": sms,
                "queue": queued,
            }
            got = next((name for name, flag in flags.items() if flag), "hung_up")
        truth.calls.append(
            TruthCall(
                sid=call.sid,
                caller=call.from_,
                started_at=call.started_at,
                ended_at=call.ended_at,
                after_hours=after_hours,
                scenario=scenario,
                got=got,
                sms=sms,
                callback=callback,
                served=served,
            )
        )

    def _queue(self, twilio_name: str) -> Literal["main", "returns"]:
        return self.queues[twilio_name]

    @staticmethod
    def _visit_result(visit: _Visit, end: QueueResult) -> VisitResult:
        if visit.answered_after is not None:
            return "answered"
        if QUEUE_CALLBACK_KEY in visit.keys:
            return "callback"
        if end.result == "hangup":
            return "abandoned"
        if end.result == "leave":
            return "closing"
        if end.result.startswith("redirected"):
            return "redirected"
        return "other"

    def _transfer(
        self,
        call: Call,
        started: DialStarted,
        ended: DialEnded,
        entries: list[Entry],
        requests: list[tuple[datetime, str]],
    ) -> TruthTransfer | None:
        department = self.departments[started.target]
        leg = _leg(call, started)
        hung_up = any(
            isinstance(e, HungUp) and e.who == "CALLER" and started.at <= e.at <= ended.at
            for e in entries
        )
        outcome: Outcome
        if ended.bridged:
            outcome = "connected"
        elif hung_up:
            outcome = "caller_hung_up"
        elif ended.status in UNBRIDGED:
            outcome = UNBRIDGED[ended.status]
        else:
            return None  # cancelled by a redirect: the traffic generator does not do that
        initiator: Initiator = "ivr"
        for index, (at, wanted) in enumerate(requests):
            if at <= started.at and wanted == department:
                initiator = "agent"
                del requests[index]
                break
        return TruthTransfer(
            id=leg.sid,
            call_sid=call.sid,
            department=department,
            initiator=initiator,
            outcome=outcome,
            started_at=started.at,
            ended_at=ended.at,
            connected_at=accepted_at(call, leg) if outcome == "connected" else None,
        )

    def _add_transfer(self, truth: GroundTruth, transfer: TruthTransfer) -> None:
        truth.transfers.append(transfer)
        if transfer.bounced:
            truth.returns.append(
                TruthReturn(
                    kind="bounce",
                    transfer_id=transfer.id,
                    call_sid=transfer.call_sid,
                    at=transfer.ended_at,
                    cause=transfer.outcome,
                    next="queue" if self._open(transfer.ended_at) else "closed",
                )
            )

    def _find_returns(self, truth: GroundTruth) -> None:
        connected = [t for t in truth.transfers if t.outcome == "connected"]
        callers = {c.sid: c.caller for c in truth.calls}
        returned: set[str] = set()
        for call in truth.calls:
            department = self.departments.get(call.caller) or self.on_call.get(call.caller)
            if department is not None:
                candidates = [t for t in connected if t.department == department]
            elif call.caller != "anonymous":
                candidates = [t for t in connected if callers[t.call_sid] == call.caller]
            else:
                candidates = []  # a withheld number is nobody in particular
            found = came_back_from(candidates, call_sid=call.sid, at=call.started_at)
            link = found[1].id if found else None
            if call.sid in self.records.links and self.records.links[call.sid] != link:
                meant = self.records.links[call.sid]
                truth.unplanned.append(
                    f"{call.scenario} {call.sid} came back from {link}, meant {meant}"
                )
            if found is None or found[1].id in returned:
                continue  # a transfer returns once, to the first call back
            still_connected, transfer = found
            returned.add(transfer.id)
            kind: Literal["hand_back", "recall"] = (
                "hand_back" if department is not None or still_connected else "recall"
            )
            truth.returns.append(
                TruthReturn(
                    kind=kind, transfer_id=transfer.id, call_sid=call.sid, at=call.started_at
                )
            )


def clear_choice(
    candidates: Iterable[Talk],
    *,
    at: datetime,
    margin: timedelta,
    window: timedelta = RECALL_WINDOW,
) -> bool:
    """Whether `came_back_from` would choose the same anywhere within `margin` of `at`, so that
    small differences between clocks cannot change it: no candidate connects, ends or leaves
    the window that close to `at`, and the chosen one leads the next by at least `margin`."""
    talks = [c for c in candidates if c.connected_at is not None]
    instants = [c.connected_at for c in talks if c.connected_at is not None]
    ends = [c.ended_at for c in talks if c.ended_at is not None]
    instants += ends + [end + window for end in ends]
    if any(abs(instant - at) < margin for instant in instants):
        return False
    talking = [
        c.connected_at
        for c in talks
        if c.connected_at is not None
        and c.connected_at < at
        and (c.ended_at is None or c.ended_at > at)
    ]
    keys = sorted(talking) if talking else sorted(end for end in ends if end < at <= end + window)
    return len(keys) < 2 or keys[-1] - keys[-2] >= margin
