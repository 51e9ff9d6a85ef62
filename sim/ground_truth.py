"""Ground truth: what really happened in simulated traffic, counted by the glossary's terms.

The traffic generator (`sim.traffic`) records it from the simulated world: the calls
placed, the Dials to department numbers and how the department's person acted, the queue
visits as Twilio held them, and which transfers agents asked for. Nothing here comes from our
events or SQL, so the statistics (`switchboard.stats.aggregates`) can be checked against it.

Definitions, as in docs/glossary.md and the glossary (`switchboard.stats.glossary`):
- a *transfer* is a Dial to a department (IVR or agent); its outcome is `connected` only when a
  person accepted in the whisper and the call was bridged;
- a *return* is linked to one transfer: `bounce` (same call, not connected; the cause and
  whether the caller went on to the queue or the closed flow), `hand_back` or `recall`, by
  `came_back_from`: a call from a department's number comes back from the transfer to that
  department that was connected most recently and still in progress when it started, else from
  the one that ended most recently within 24 h before (a hand-back); a citizen's call the same
  way among their own transfers (a hand-back while one is in progress, else a recall). The
  window counts from the transfer's end. A transfer returns once, to the first call back;
- *return rate* = transfers with a return / transfers;
- a *queue visit* is a stay in the queue: a caller who hung up during the prompt before the
  Enqueue never joined, and makes none;
- *service level* counts queue visits that start while the switchboard is open: the share
  answered within 20 s, where abandons shorter than 5 s and visits that ended in a callback
  request (or that an agent moved out of the queue) are left out;
- *abandoned* visits are hang-ups in the queue after 5 s or more; *abandonment rate* =
  abandoned / (queue visits - short abandons);
- after-hours calls by what they got, the best first: `department` (a transfer), `on_call`,
  `callback`, `sms`, `queue` (the switchboard opened meanwhile), else `hung_up`;
- a *deflection* is a call that got the SMS link and was neither answered in the queue nor
  connected to a department.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal, Protocol, TypeVar

from ivr.vocabulary import (
    AFTER_HOURS_RESULTS,
    BOUNCE_CAUSES,
    INITIATORS,
    RECALL_WINDOW,
    RETURN_KINDS,
    SERVICE_LEVEL_SECONDS,
    SHORT_ABANDON_SECONDS,
    Initiator,
    ReturnKind,
    TransferOutcome,
)

VisitResult = Literal["answered", "abandoned", "callback", "closing", "redirected", "other"]


@dataclass(frozen=True)
class TruthCall:
    sid: str
    caller: str  # the raw From: a citizen, a department's number, or "anonymous"
    started_at: datetime
    ended_at: datetime | None
    after_hours: bool  # the switchboard was closed when the call came in
    scenario: str  # what the generator meant the caller to do
    got: str | None = None  # after hours: one of AFTER_HOURS_RESULTS
    sms: bool = False  # got the self-service SMS link
    callback: bool = False
    served: bool = False  # answered in the queue, or connected to a department

    @property
    def deflected(self) -> bool:
        return self.sms and not self.served


@dataclass(frozen=True)
class TruthTransfer:
    id: str  # the department leg's CallSid (Twilio's DialCallSid)
    call_sid: str
    department: str
    initiator: Initiator
    outcome: TransferOutcome
    started_at: datetime
    ended_at: datetime
    connected_at: datetime | None = None  # when the person accepted (connected only)

    @property
    def bounced(self) -> bool:
        return self.outcome in BOUNCE_CAUSES


@dataclass(frozen=True)
class TruthReturn:
    kind: ReturnKind
    transfer_id: str
    call_sid: str  # the call the caller came back on (a bounce: the transfer's own call)
    at: datetime
    cause: str | None = None  # bounce: the transfer's outcome
    next: Literal["queue", "closed"] | None = None  # bounce: where the caller went


@dataclass(frozen=True)
class TruthVisit:
    call_sid: str
    queue: Literal["main", "returns"]
    joined_at: datetime
    wait_seconds: int  # until answered, or until the visit ended (Twilio's whole seconds)
    result: VisitResult
    in_hours: bool

    @property
    def short_abandon(self) -> bool:
        return self.result == "abandoned" and self.wait_seconds < SHORT_ABANDON_SECONDS


@dataclass(frozen=True)
class Rate:
    numerator: int
    denominator: int

    @property
    def value(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None


@dataclass(frozen=True)
class RateRow:
    department: str  # "*" for all
    initiator: str  # "*" for both
    transfers: int
    returned: int  # transfers with at least one return
    by_kind: dict[ReturnKind, int]  # returns of each kind

    @property
    def rate(self) -> Rate:
        return Rate(self.returned, self.transfers)


@dataclass(frozen=True)
class QueueTotals:
    offered: int  # queue visits
    answered: int
    abandoned: int  # after 5 s or more: short abandons are left out
    short_abandoned: int
    callbacks: int
    closing: int  # left at closing time without a callback
    other: int  # redirected or otherwise ended
    sl: Rate  # in-hours visits answered within SERVICE_LEVEL_SECONDS / those that count (see above)
    asa_seconds: float | None  # average wait of answered visits

    @property
    def abandonment(self) -> Rate:
        return Rate(self.abandoned, self.offered - self.short_abandoned)


@dataclass
class GroundTruth:
    calls: list[TruthCall] = field(default_factory=list)
    transfers: list[TruthTransfer] = field(default_factory=list)
    returns: list[TruthReturn] = field(default_factory=list)
    visits: list[TruthVisit] = field(default_factory=list)
    # Follow-up calls that did not come back from the transfer the generator meant.
    unplanned: list[str] = field(default_factory=list)

    # --- transfers and returns ----------------------------------------------------------

    def transfer(self, transfer_id: str) -> TruthTransfer:
        for item in self.transfers:
            if item.id == transfer_id:
                return item
        raise KeyError(transfer_id)

    def transfers_by(self, *keys: str) -> Counter[tuple[str, ...]]:
        """Transfers counted by attributes: department, initiator, outcome."""
        return Counter(tuple(str(getattr(t, key)) for key in keys) for t in self.transfers)

    def returns_by(self, *keys: str) -> Counter[tuple[str, ...]]:
        """Returns counted by their kind or cause, or their transfer's department or initiator."""
        by_id = {t.id: t for t in self.transfers}
        counts: Counter[tuple[str, ...]] = Counter()
        for item in self.returns:
            transfer = by_id[item.transfer_id]
            counts[tuple(str(_attribute(item, transfer, key)) for key in keys)] += 1
        return counts

    def returned_transfers(self, kind: ReturnKind | None = None) -> set[str]:
        return {r.transfer_id for r in self.returns if kind is None or r.kind == kind}

    def return_rate(
        self,
        *,
        department: str | None = None,
        initiator: Initiator | None = None,
        kind: ReturnKind | None = None,
    ) -> Rate:
        chosen = [
            t
            for t in self.transfers
            if department in (None, t.department) and initiator in (None, t.initiator)
        ]
        returned = self.returned_transfers(kind)
        return Rate(sum(1 for t in chosen if t.id in returned), len(chosen))

    def return_rate_table(self) -> list[RateRow]:
        """Rows per department and initiator, then per department, per initiator and in all."""
        departments = sorted({t.department for t in self.transfers})
        rows = [self._row(d, i) for d in departments for i in INITIATORS]
        rows = [row for row in rows if row.transfers]
        rows += [self._row(d, None) for d in departments]
        rows += [self._row(None, i) for i in INITIATORS]
        rows.append(self._row(None, None))
        return rows

    def _row(self, department: str | None, initiator: Initiator | None) -> RateRow:
        def chosen(t: TruthTransfer) -> bool:
            return department in (None, t.department) and initiator in (None, t.initiator)

        ids = {t.id for t in self.transfers if chosen(t)}
        returns = [r for r in self.returns if r.transfer_id in ids]
        return RateRow(
            department=department or "*",
            initiator=initiator or "*",
            transfers=len(ids),
            returned=len({r.transfer_id for r in returns}),
            by_kind={kind: sum(1 for r in returns if r.kind == kind) for kind in RETURN_KINDS},
        )

    # --- queues, calls --------------------------------------------------------------------

    def queue_totals(self, *, queue: str | None = None) -> QueueTotals:
        visits = [v for v in self.visits if queue in (None, v.queue)]
        results = Counter(v.result for v in visits)
        answered = [v for v in visits if v.result == "answered"]
        short = sum(1 for v in visits if v.short_abandon)
        # Out of SL: visits outside opening hours, callbacks, visits an agent moved out of
        # the queue unanswered, and abandons within 5 s. Everything else not answered within
        # T counts against it, as do visits still waiting at closing time.
        counted = [
            v
            for v in visits
            if v.in_hours and v.result not in {"callback", "redirected"} and not v.short_abandon
        ]
        within = sum(
            1 for v in counted if v.result == "answered" and v.wait_seconds <= SERVICE_LEVEL_SECONDS
        )
        return QueueTotals(
            offered=len(visits),
            answered=len(answered),
            abandoned=results["abandoned"] - short,
            short_abandoned=short,
            callbacks=results["callback"],
            closing=results["closing"],
            other=results["redirected"] + results["other"],
            sl=Rate(within, len(counted)),
            asa_seconds=(
                sum(v.wait_seconds for v in answered) / len(answered) if answered else None
            ),
        )

    def after_hours_by(self) -> Counter[str]:
        """After-hours calls by what they got (AFTER_HOURS_RESULTS)."""
        return Counter(c.got or "hung_up" for c in self.calls if c.after_hours)

    def figures(self) -> dict[str, float | int | None]:
        """Every number the statistics report about these calls, by the statistics' names
        (`switchboard.stats.figures`: section.field); what `switchboard simulate` compares."""
        queue = self.queue_totals()
        out: dict[str, float | int | None] = {
            "calls.calls": len(self.calls),
            "calls.after_hours": sum(1 for c in self.calls if c.after_hours),
            "queue.offered": queue.offered,
            "queue.answered": queue.answered,
            "queue.abandoned": queue.abandoned,
            "queue.short_abandons": queue.short_abandoned,
            "queue.callbacks": queue.callbacks,
            "queue.closing": queue.closing,
            "queue.answered_within": queue.sl.numerator,
            "queue.service_level_base": queue.sl.denominator,
            "queue.asa_seconds": queue.asa_seconds,
            "queue.abandonment_rate": queue.abandonment.value,
            "transfers.transfers": len(self.transfers),
        }
        outcomes = self.transfers_by("outcome")
        out |= {f"transfers.{o}": outcomes[(o,)] for o in BOUNCE_CAUSES | {"connected"}}
        out["transfers.caller_hung_up"] = outcomes[("caller_hung_up",)]
        out["transfers.returned"] = len(self.returned_transfers())
        kinds = self.returns_by("kind")
        out |= {f"transfers.{kind}s": kinds[(kind,)] for kind in RETURN_KINDS}
        out["transfers.return_rate"] = self.return_rate().value
        got = self.after_hours_by()
        out["after_hours.calls"] = sum(got.values())
        out |= {f"after_hours.{name}": got[name] for name in AFTER_HOURS_RESULTS}
        out["callbacks.requested"] = sum(1 for c in self.calls if c.callback)
        out["sms.requested"] = sum(1 for c in self.calls if c.sms)
        out["sms.deflections"] = sum(1 for c in self.calls if c.deflected)
        return dict(sorted(out.items()))

    # --- consistency ------------------------------------------------------------------------

    def problems(self) -> list[str]:
        """What contradicts the definitions; empty when the truth is consistent."""
        found: list[str] = list(self.unplanned)
        calls = {c.sid: c for c in self.calls}
        by_id = {t.id: t for t in self.transfers}
        if len(by_id) != len(self.transfers):
            found.append("two transfers share an id")
        for t in self.transfers:
            if t.call_sid not in calls:
                found.append(f"transfer {t.id} belongs to no call")
            bounces = [r for r in self.returns if r.transfer_id == t.id and r.kind == "bounce"]
            if len(bounces) != (1 if t.bounced else 0):
                found.append(f"transfer {t.id} ({t.outcome}) has {len(bounces)} bounces")
        for r in self.returns:
            found += _return_problems(r, by_id.get(r.transfer_id), calls)
        for v in self.visits:
            if v.call_sid not in calls:
                found.append(f"a queue visit of {v.call_sid} belongs to no call")
        totals = self.queue_totals()
        parts = totals.answered + totals.abandoned + totals.short_abandoned
        parts += totals.callbacks + totals.closing
        if parts + totals.other != totals.offered:
            found.append("queue visits do not add up")
        if totals.sl.numerator > totals.sl.denominator:
            found.append("service level above 100%")
        for keys in (("department",), ("initiator",), ("outcome",)):
            if sum(self.transfers_by(*keys).values()) != len(self.transfers):
                found.append(f"transfers by {keys[0]} do not add up")
        if sum(self.returns_by("kind").values()) != len(self.returns):
            found.append("returns by kind do not add up")
        return found


def _return_problems(
    r: TruthReturn, transfer: TruthTransfer | None, calls: dict[str, TruthCall]
) -> list[str]:
    if transfer is None:
        return [f"a {r.kind} links no transfer"]
    if r.kind == "bounce":
        if r.call_sid != transfer.call_sid or r.cause != transfer.outcome:
            return [f"bounce of {transfer.id} is not its own call's, or not its cause"]
        return []
    found = []
    if transfer.outcome != "connected":
        found.append(f"{r.kind} on {r.call_sid} links a transfer that did not connect")
    if r.call_sid == transfer.call_sid or r.call_sid not in calls:
        found.append(f"{r.kind} on {r.call_sid} is not a later call")
    if r.kind == "recall" and not transfer.ended_at <= r.at <= transfer.ended_at + RECALL_WINDOW:
        found.append(f"recall on {r.call_sid} is outside the window")
    return found


def _attribute(item: TruthReturn, transfer: TruthTransfer, key: str) -> object:
    if key in ("department", "initiator"):
        return getattr(transfer, key)
    return getattr(item, key)


# --- which transfer a call comes back from ---------------------------------------------------


class Talk(Protocol):
    """A connected transfer as the return rule sees it; `ended_at` None: still going on."""

    @property
    def id(self) -> str: ...
    @property
    def call_sid(self) -> str: ...
    @property
    def connected_at(self) -> datetime | None: ...
    @property
    def ended_at(self) -> datetime | None: ...


T = TypeVar("T", bound=Talk)


def came_back_from(
    candidates: Iterable[T], *, call_sid: str, at: datetime, window: timedelta = RECALL_WINDOW
) -> tuple[bool, T] | None:
    """The transfer a call at `at` comes back from, and whether it was still in progress.

    `candidates` are the connected transfers to the department the call comes from, or the
    citizen's own. The most recently connected one still in progress at `at`; else the one
    that ended last, if it ended within `window` before `at`.
    """
    others = [
        c
        for c in candidates
        if c.call_sid != call_sid and c.connected_at is not None and c.connected_at <= at
    ]
    talking = [c for c in others if c.ended_at is None or c.ended_at > at]
    if talking:
        return True, max(talking, key=lambda c: (c.connected_at or at, c.id))
    ended = [
        c for c in others if c.ended_at is not None and c.ended_at <= at <= c.ended_at + window
    ]
    if ended:
        return False, max(ended, key=lambda c: (c.ended_at or at, c.id))
    return None
