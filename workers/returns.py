"""Returned transfers (retur): which transfer each caller came back from, and how.

- **bounce**: in the same call, the transfer did not connect and was not redirected by an agent;
  its cause is the outcome. Found per call by `workers.projection`.
- **hand_back** and **recall**: a later call comes back from ONE connected transfer of another
  call. Whose transfers count depends on who calls: a call whose `from_department` is set (a
  department's or on-call number) looks at the connected transfers *to that department*, any
  other call at the connected transfers *of the same caller* (keyed pseudonym; withheld numbers
  have none). Among those, the call comes back from:
  1. the most recently connected transfer that was still in progress when the call started
     (the department's person had accepted it, and neither it nor its call had ended): a
     **hand_back**;
  2. else the transfer that ended most recently, if it ended within the recall window (24 h)
     before the call started: a **hand_back** when a department calls, else a **recall**.
  The window counts from the transfer's end, when the caller left the department.

`match_returns` applies this to a set of calls and connected transfers. It is pure. Calls are
taken in start order; a transfer returns at most once, to the first call that came back from
it (a later call that identifies the same transfer adds no return). Only connected transfers
return across calls, and the outcome comes from the transfer's result alone, so a hand-back
that arrives while the first leg is still connected is linked once that leg's result is in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from ivr.vocabulary import RECALL_WINDOW

DEFAULT_RECALL_WINDOW = RECALL_WINDOW  # ivr/vocabulary.py


@dataclass(frozen=True)
class ReturnRow:
    transfer_id: str
    call_sid: str  # the call that came back: the same call for a bounce
    transfer_call_sid: str
    kind: str
    cause: str | None
    next_step: str | None
    detected_at: datetime
    department: str
    initiator: str
    day_local: date
    hour_local: int
    weekday_local: int


@dataclass(frozen=True)
class CallFacts:
    """What matching needs of a call (a projected `calls` row)."""

    call_sid: str
    caller: str | None
    started_at: datetime
    from_department: str | None


@dataclass(frozen=True)
class TransferFacts:
    """What matching needs of a transfer (a projected `transfers` row), with its call's end."""

    transfer_id: str
    call_sid: str
    caller: str | None
    department: str
    initiator: str
    started_at: datetime
    ended_at: datetime | None
    outcome: str | None
    call_ended_at: datetime | None
    accepted_at: datetime | None = None  # when the department's person took the call

    @property
    def connected_at(self) -> datetime:
        """When the department's person took the call (its start if that is unknown)."""
        return self.accepted_at or self.started_at

    @property
    def left_at(self) -> datetime | None:
        """When the caller left the department: the transfer's end, or its call's if sooner."""
        ends = [end for end in (self.ended_at, self.call_ended_at) if end is not None]
        return min(ends) if ends else None

    def in_progress_at(self, at: datetime) -> bool:
        """Whether the department was talking with the caller at `at`."""
        left = self.left_at
        return self.connected_at <= at and (left is None or left > at)


def return_row(
    *,
    transfer: TransferFacts,
    call_sid: str,
    kind: str,
    detected_at: datetime,
    zone: ZoneInfo,
    cause: str | None = None,
    next_step: str | None = None,
) -> ReturnRow:
    local = detected_at.astimezone(zone)
    return ReturnRow(
        transfer_id=transfer.transfer_id,
        call_sid=call_sid,
        transfer_call_sid=transfer.call_sid,
        kind=kind,
        cause=cause,
        next_step=next_step,
        detected_at=detected_at,
        department=transfer.department,
        initiator=transfer.initiator,
        day_local=local.date(),
        hour_local=local.hour,
        weekday_local=local.weekday(),
    )


def match_returns(
    *,
    calls: Iterable[CallFacts],
    transfers: Iterable[TransferFacts],
    window: timedelta = DEFAULT_RECALL_WINDOW,
    zone: ZoneInfo,
) -> list[ReturnRow]:
    """Hand-backs and recalls among these calls and transfers, in a deterministic order."""
    by_caller: dict[str, list[TransferFacts]] = {}
    by_department: dict[str, list[TransferFacts]] = {}
    unique = {t.transfer_id: t for t in transfers if t.outcome == "connected"}
    for transfer in unique.values():
        if transfer.caller:
            by_caller.setdefault(transfer.caller, []).append(transfer)
        by_department.setdefault(transfer.department, []).append(transfer)
    rows: dict[str, ReturnRow] = {}
    distinct = {call.call_sid: call for call in calls}.values()
    for call in sorted(distinct, key=lambda c: (c.started_at, c.call_sid)):
        if call.from_department:
            candidates = by_department.get(call.from_department, [])
        elif call.caller:
            candidates = by_caller.get(call.caller, [])
        else:
            continue
        found = choose(call, candidates, window=window)
        if found is None:
            continue
        kind, transfer = found
        # The first call back wins; a later one that chose the same transfer returns nothing.
        rows.setdefault(
            transfer.transfer_id,
            return_row(
                transfer=transfer,
                call_sid=call.call_sid,
                kind=kind,
                detected_at=call.started_at,
                zone=zone,
            ),
        )
    return sorted(rows.values(), key=lambda row: (row.detected_at, row.transfer_id))


def choose(
    call: CallFacts, candidates: Sequence[TransferFacts], *, window: timedelta
) -> tuple[str, TransferFacts] | None:
    """The transfer this call comes back from, if any, and how (the rule in the docstring).

    `candidates` are the connected transfers to the department the call comes from, or of the
    same caller. Ties on time go to the larger id, so that the choice never depends on the
    order of the input.
    """
    at = call.started_at
    others = [t for t in candidates if t.call_sid != call.call_sid]
    talking = [t for t in others if t.in_progress_at(at)]
    if talking:
        return "hand_back", max(talking, key=lambda t: (t.connected_at, t.transfer_id))
    ended = [
        (left, t) for t in others if (left := t.left_at) is not None and left <= at <= left + window
    ]
    if not ended:
        return None
    _, latest = max(ended, key=lambda pair: (pair[0], pair[1].transfer_id))
    return ("hand_back" if call.from_department else "recall"), latest
