"""Reading the ground truth off the simulated world, as a telephone network would know it.

Each call to the main number is read from its simulator transcript: its Dials to department
numbers (how the department's person acted, whether the call was bridged, whether the caller
hung up meanwhile), its visits to the switchboard queues (when an agent took it, or how it
ended), and the keys the caller pressed. Our own events and SQL are never read: this is what
the statistics are checked against. The generator adds what only it knows (`Records`): which
agent transfers it asked for, and which transfer a hand-back or recall follows.

Returns are then found by BRIEF §5's rules over all calls in time order: a call from a
department's number, or from a caller whose connected transfer is still up, is a hand-back;
otherwise a caller's call within 24 h of their connected transfer is a recall.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from ivr.call import TWILIO_QUEUES
from ivr.config import SWITCHBOARD, Config
from ivr.hours import Hours
from switchboard.groundtruth import (
    RECALL_WINDOW,
    GroundTruth,
    Initiator,
    Outcome,
    TruthCall,
    TruthReturn,
    TruthTransfer,
    TruthVisit,
    VisitResult,
)
from switchboard.simulator import Call
from switchboard.simulator.transcript import (
    Dequeued,
    DialEnded,
    DialStarted,
    Enqueued,
    Entry,
    HungUp,
    Pressed,
    QueueResult,
)

MOBILE = re.compile(r"\+47[49]\d{7}")  # SMS goes only to Norwegian mobiles (BRIEF §6)
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
    links: dict[str, str] = field(default_factory=dict)  # follow-up call sid -> transfer id
    api_statuses: list[int] = field(default_factory=list)  # every agent transfer request's


@dataclass
class _Visit:
    queue: Literal["main", "returns"]
    joined: datetime
    answered_after: int | None = None
    keys: list[str] = field(default_factory=list)


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
        keys: list[str] = []
        transferred = on_call = sms = callback = False
        mobile = bool(MOBILE.fullmatch(call.from_))
        for entry in entries:
            if isinstance(entry, DialStarted):
                on_call = on_call or entry.target in self.on_call
                dialling = entry if entry.target in self.departments else None
            elif isinstance(entry, DialEnded) and dialling is not None:
                transfer = self._transfer(call, dialling, entry, entries, requests)
                dialling = None
                if transfer is not None:
                    transferred = True
                    self._add_transfer(truth, transfer)
            elif isinstance(entry, Enqueued):
                visit = _Visit(queue=self._queue(entry.queue), joined=entry.at)
            elif isinstance(entry, Dequeued) and visit is not None:
                visit.answered_after = entry.waited
            elif isinstance(entry, Pressed) and entry.who == "CALLER":
                keys.append(entry.digits)
                if visit is not None and visit.answered_after is None:
                    visit.keys.append(entry.digits)
            elif isinstance(entry, QueueResult) and visit is not None:
                result = self._visit_result(visit, entry)
                wait = visit.answered_after if result == "answered" else entry.waited
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
                callback = callback or result == "callback"
                visit = None
        scenario = self.records.scenarios.get(call.sid, "unknown")
        if scenario == "after_hours_sms":
            sms = sms or (mobile and self.closed_keys.get("sms") in keys)
        if scenario == "after_hours_callback":
            callback = callback or self.closed_keys.get("callback") in keys
        after_hours = not self._open(call.started_at)
        got = None
        if after_hours:
            flags = (("transfer", transferred), ("on_call", on_call), ("sms", sms))
            got = next(
                (name for name, flag in flags if flag), "callback" if callback else "nothing"
            )
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
        leg = next(
            c for c in call.children if c.to == started.target and c.started_at == started.at
        )
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
        for call in truth.calls:
            earlier = [t for t in connected if t.started_at < call.started_at]
            department = self.departments.get(call.caller) or self.on_call.get(call.caller)
            if department is not None:
                planned = self.records.links.get(call.sid)
                theirs = [
                    t
                    for t in earlier
                    if t.department == department
                    and call.started_at - t.started_at <= RECALL_WINDOW
                ]
                still_up = [t for t in theirs if t.ended_at > call.started_at]
                link = planned if planned in {t.id for t in theirs} else None
                chosen = link or _latest(still_up or theirs, call.started_at)
                self._add_return(truth, "hand_back", chosen, call)
                continue
            if call.caller == "anonymous":
                continue
            mine = [t for t in earlier if callers[t.call_sid] == call.caller]
            still_up = [t for t in mine if t.ended_at > call.started_at]
            if still_up:
                self._add_return(truth, "hand_back", _latest(still_up, call.started_at), call)
                continue
            recent = [t for t in mine if call.started_at - t.started_at <= RECALL_WINDOW]
            self._add_return(truth, "recall", _latest(recent, call.started_at), call)

    @staticmethod
    def _add_return(
        truth: GroundTruth, kind: Literal["hand_back", "recall"], link: str | None, call: TruthCall
    ) -> None:
        if link is not None:
            truth.returns.append(
                TruthReturn(kind=kind, transfer_id=link, call_sid=call.sid, at=call.started_at)
            )


def _latest(transfers: list[TruthTransfer], before: datetime) -> str | None:
    """The most recent of `transfers` started before `before`, by its id."""
    chosen = [t for t in transfers if t.started_at < before]
    return max(chosen, key=lambda t: t.started_at).id if chosen else None
