"""Returned transfers (retur): which transfer each caller came back from, and how (BRIEF §5).

- **bounce**: in the same call, the transfer did not connect and was not redirected by an agent;
  its cause is the outcome. Found per call by `workers.projection`.
- **hand_back**: a later call whose `from_department` is set returns a connected transfer to
  that department that started within the window: the latest one the department was still
  talking on when it called, else the latest that had ended; or a later call by the same
  caller while one of their connected transfers in another call is still open.
- **recall**: the same caller calls again within the window after a connected transfer ended.

`match_returns` finds the last two among a set of calls and connected transfers. It is pure.
Calls are taken in start order and each chooses at most one transfer (hand-back before recall):
a department's call among that department's transfers it has not chosen before, a caller's call
among their own. A transfer returns at most once, to the first call that chose it. Only
connected transfers return across calls; the outcome comes from the transfer's result alone,
so a hand-back that arrives while the first leg is still connected is linked once that leg's
result is in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

DEFAULT_RECALL_WINDOW = timedelta(hours=24)


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

    def open_at(self, at: datetime) -> bool:
        """Whether the leg was still up at `at`: neither the transfer nor its call had ended."""
        ends = [end for end in (self.ended_at, self.call_ended_at) if end is not None]
        return not ends or min(ends) > at

    @property
    def anchor(self) -> datetime:
        """Where the recall window starts: the transfer's end, or its start if that is unknown."""
        return self.ended_at or self.started_at


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
    for transfer in sorted(unique.values(), key=lambda t: (t.started_at, t.transfer_id)):
        if transfer.caller:
            by_caller.setdefault(transfer.caller, []).append(transfer)
        by_department.setdefault(transfer.department, []).append(transfer)
    # Transfers already chosen by an earlier call of the same chooser: the same department's
    # phone, or the same caller. A choice never depends on the other kind of chooser, so a
    # transfer's return is settled by its own caller's calls and its department's hand-backs.
    taken: dict[str, set[str]] = {}
    rows: dict[str, ReturnRow] = {}
    distinct = {call.call_sid: call for call in calls}.values()
    for call in sorted(distinct, key=lambda c: (c.started_at, c.call_sid)):
        if call.from_department:
            chooser = f"department:{call.from_department}"
            candidates = by_department.get(call.from_department, [])
        elif call.caller:
            chooser = f"caller:{call.caller}"
            candidates = by_caller.get(call.caller, [])
        else:
            continue
        free = [t for t in candidates if t.transfer_id not in taken.get(chooser, set())]
        found = choose(call, free, window=window)
        if found is None:
            continue
        kind, transfer = found
        taken.setdefault(chooser, set()).add(transfer.transfer_id)
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
    call: CallFacts, free: Sequence[TransferFacts], *, window: timedelta
) -> tuple[str, TransferFacts] | None:
    """The transfer this call comes back from, if any, and how.

    `free` are the connected transfers this call's chooser has not chosen before: to the
    department the call comes from, or of the same caller. Ties on time go to the larger id,
    so that the choice never depends on the order of the input.
    """
    at = call.started_at

    def before(t: TransferFacts) -> bool:
        return t.call_sid != call.call_sid and at - window <= t.started_at < at

    if call.from_department:
        handed = [t for t in free if before(t)]
        if not handed:
            return None
        return "hand_back", max(handed, key=lambda t: _handed_back_from(t, at))
    still_open = [t for t in free if before(t) and t.open_at(at)]
    if still_open:
        return "hand_back", max(still_open, key=lambda t: (t.started_at, t.transfer_id))
    recent = [
        t
        for t in free
        if t.call_sid != call.call_sid
        and t.started_at < at
        and not t.open_at(at)
        and t.anchor <= at <= t.anchor + window
    ]
    if recent:
        return "recall", max(recent, key=lambda t: (t.anchor, t.started_at, t.transfer_id))
    return None


def _handed_back_from(transfer: TransferFacts, at: datetime) -> tuple[int, datetime, str]:
    """How likely the department's call at `at` hands back this transfer's caller, as a sort key.

    A department can only hand back a caller it has talked to: first a transfer it was still
    talking on, then one that had ended (a PBX may drop the first leg as it calls back), and a
    transfer not yet accepted at that moment last of all; within each, the latest started.
    """
    if (transfer.accepted_at or transfer.started_at) > at:
        return 0, transfer.started_at, transfer.transfer_id
    return (2 if transfer.open_at(at) else 1), transfer.started_at, transfer.transfer_id
