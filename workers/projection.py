"""Call records from call events: a pure function, whatever order the events arrived in.

`Projector.project_call` turns the set of one call's events into its rows for `calls`,
`transfers`, `queue_visits` and its bounces in `returns`. It sorts and de-duplicates its input
first, so the rows depend only on which events exist, never on their arrival order: a late event
is simply included the next time the call is projected (workers/records.py does the I/O).

Bounces are found here, per call; returns that span calls (hand-back, recall) need other calls
and are matched by `workers.returns`.

Rules worth knowing (docs/events.md):
- A transfer's outcome comes from its `transfer_result` alone; until then it is pending.
- A queue visit ends `answered` at its `queue_answered` (the `<Queue url>` request), matched to
  the visit open `queue_time_seconds` before; `redirected*` results are not abandons; a visit
  followed by a `callback_requested` ended in a callback; `reason=closing` is `closing`; a
  hang-up in the queue without an answer is `abandoned`; a visit with neither a `queue_left`
  nor an answer in a call that has ended never joined the queue (`not_joined`: the caller hung
  up during the prompt before the Enqueue), and is no queue visit.
- A call's outcome (`calls.outcome`, which the exporter and `/api/stats` count) is the first
  that applies in `call_outcome`; a callback or SMS counts from the caller's request.
- A call's state moves forward only: `active`, then `ended` (a final status callback) or
  `unresolved` (a reconciliation sweep gave up on it; Twilio's own end still wins later).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from ivr.config import Config
from ivr.events import STAFF_KINDS, Event
from ivr.hours import Hours
from ivr.vocabulary import (
    INITIATORS,
    NOT_BOUNCE_OUTCOMES,
    RECALL_WINDOW,
    TRANSFER_OUTCOMES,
    CallOutcome,
)
from workers.returns import (
    CallFacts,
    ReturnRow,
    TransferFacts,
    match_returns,
)
from workers.visits import (
    NOT_JOINED,
    VisitRow,
    between,
    project_visits,
    seconds_value,
    text_value,
)

FINAL_STATUSES = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
# A reconciliation sweep that gave up on a call ends it with this status; Twilio's end wins.
UNRESOLVED = "unresolved"
TRANSFER_KINDS = frozenset({"transfer_started", "whisper_accepted", "transfer_result"})


@dataclass(frozen=True)
class CallRow:
    call_sid: str
    caller: str | None
    started_at: datetime
    ended_at: datetime | None
    status: str | None
    state: str
    outcome: CallOutcome
    switchboard_open: bool | None
    after_hours_result: str | None
    ivr_seconds: float | None
    from_department: str | None
    language: str | None
    transfers_count: int
    bounces_count: int
    priority: bool
    last_event_at: datetime
    day_local: date
    hour_local: int
    weekday_local: int


@dataclass(frozen=True)
class TransferRow:
    transfer_id: str
    call_sid: str
    caller: str | None
    department: str
    initiator: str
    started_at: datetime
    whisper_accepted_at: datetime | None
    outcome: str | None
    cause: str | None
    dial_status: str | None
    bridged: bool | None
    redirected: bool
    bounce: bool
    next_step: str | None
    ended_at: datetime | None
    talk_seconds: float | None
    day_local: date
    hour_local: int
    weekday_local: int


@dataclass(frozen=True)
class CallProjection:
    call: CallRow
    transfers: tuple[TransferRow, ...]
    visits: tuple[VisitRow, ...]
    bounces: tuple[ReturnRow, ...]
    # (callback_requested event id, visit id): the visit each queue callback request ended.
    callback_visits: tuple[tuple[str, str], ...]


def _distinct(events: Iterable[Event]) -> list[Event]:
    """One event per dedupe key (the earliest copy), in a total order: time, then key."""
    chosen: dict[str, Event] = {}
    for event in events:
        seen = chosen.get(event.dedupe_key)
        if seen is None or (event.at, event.id) < (seen.at, seen.id):
            chosen[event.dedupe_key] = event
    return sorted(chosen.values(), key=lambda e: (e.at, e.dedupe_key))


def _is_final_end(event: Event) -> bool:
    final = event.data.get("final")
    status = event.data.get("status")
    if isinstance(final, bool):
        return final
    return status in FINAL_STATUSES or status == UNRESOLVED


class Projector:
    """Projects calls for one municipality: its time zone, opening hours and recall window."""

    def __init__(
        self,
        config: Config,
        *,
        recall_window: timedelta = RECALL_WINDOW,
        unidentified: Iterable[str] = (),
    ) -> None:
        self.zone = config.zone
        self.default_language = config.municipality.default_language
        self.recall_window = recall_window
        # Pseudonyms of withheld numbers ("anonymous" and the like): shared by strangers, so
        # such calls keep no caller and never count as the same caller calling again.
        self.unidentified = frozenset(unidentified)
        # Scheduled hours only: the "closed now" override holds for the present instant, and
        # would otherwise turn every past visit re-projected meanwhile into an after-hours one.
        calendar = config.calendar
        scheduled = config.model_copy(
            update={
                "calendar": calendar.model_copy(
                    update={"closed_now": calendar.closed_now.model_copy(update={"active": False})}
                )
            }
        )
        self.hours = Hours(scheduled)

    def buckets(self, at: datetime) -> dict[str, Any]:
        local = at.astimezone(self.zone)
        return {
            "day_local": local.date(),
            "hour_local": local.hour,
            "weekday_local": local.weekday(),
        }

    # -- one call ----------------------------------------------------------------------------

    def project_call(self, call_sid: str, events: Iterable[Event]) -> CallProjection | None:
        ordered = [
            e for e in _distinct(events) if e.call_sid == call_sid and e.kind not in STAFF_KINDS
        ]
        if not ordered:
            return None
        of = _by_kind(ordered)
        started = next(iter(of.get("call_started", [])), None)
        caller = text_value(started.data.get("caller")) if started else None
        if caller is None:
            caller = next((c for e in ordered if (c := text_value(e.data.get("caller")))), None)
        if caller in self.unidentified:
            caller = None
        started_at = started.at if started else ordered[0].at
        ends = [e for e in of.get("call_ended", []) if _is_final_end(e)]
        real_ends = [e for e in ends if e.data.get("status") != UNRESOLVED]
        end = next(iter(real_ends or ends), None)
        state = "ended" if real_ends else UNRESOLVED if ends else "active"
        transfers = self._transfers(call_sid, caller, ordered)
        visits, callback_visits = project_visits(
            call_sid=call_sid, ordered=ordered, end=end, hours=self.hours, buckets=self.buckets
        )
        queued = [v.joined_at for v in visits if v.ended != NOT_JOINED]
        firsts = [e.at for e in ordered if e.kind == "transfer_started"] + queued
        firsts += [end.at] if end else []
        switchboard_open = started.data.get("switchboard_open") if started else None
        bounces = tuple(self._bounce(t) for t in transfers if t.bounce)
        call = CallRow(
            call_sid=call_sid,
            caller=caller,
            started_at=started_at,
            ended_at=end.at if end else None,
            status=text_value(end.data.get("status")) if end else None,
            state=state,
            outcome=call_outcome(state, of, transfers=transfers, visits=visits),
            switchboard_open=switchboard_open if isinstance(switchboard_open, bool) else None,
            after_hours_result=(
                _after_hours_result(of, ended=end is not None, queued=bool(queued))
                if switchboard_open is False
                else None
            ),
            ivr_seconds=between(started_at, min(firsts)) if firsts else None,
            from_department=text_value(started.data.get("from_department")) if started else None,
            language=self._language(ordered),
            transfers_count=len(transfers),
            bounces_count=len(bounces),
            priority=len(bounces) >= 2,
            last_event_at=ordered[-1].at,
            **self.buckets(started_at),
        )
        return CallProjection(call, tuple(transfers), tuple(visits), bounces, callback_visits)

    def _language(self, ordered: Sequence[Event]) -> str:
        spoken = [lang for e in ordered if (lang := text_value(e.data.get("language")))]
        if spoken:
            return spoken[-1]
        english = any(e.data.get("target") == "english" for e in ordered)
        return "en" if english else self.default_language

    def _transfers(
        self, call_sid: str, caller: str | None, ordered: Sequence[Event]
    ) -> list[TransferRow]:
        groups: dict[str, list[Event]] = {}
        for event in ordered:
            transfer_id = text_value(event.data.get("transfer_id"))
            if event.kind in TRANSFER_KINDS and transfer_id:
                groups.setdefault(transfer_id, []).append(event)
        rows = []
        for transfer_id, group in sorted(groups.items()):
            start = next((e for e in group if e.kind == "transfer_started"), None)
            results = [e for e in group if e.kind == "transfer_result"]
            # A sweep's reconstructed result yields to Twilio's own, whenever that arrives.
            result = max(results, key=lambda e: (not e.data.get("reconciled"), e.at), default=None)
            source = start or result
            department = text_value(source.data.get("department")) if source else None
            if department is None:
                continue  # known only from the whisper so far: no department to count it under
            initiator = source.data.get("initiator") if source else None
            data = result.data if result else {}
            outcome = text_value(data.get("outcome"))
            outcome = outcome if outcome in TRANSFER_OUTCOMES else None
            redirected = data.get("redirected") is True
            bounce = outcome is not None and outcome not in NOT_BOUNCE_OUTCOMES and not redirected
            accepted = next((e.at for e in group if e.kind == "whisper_accepted"), None)
            started_at = start.at if start else group[0].at
            bridged = data.get("bridged")
            talk = seconds_value(data.get("duration_seconds"))
            rows.append(
                TransferRow(
                    transfer_id=transfer_id,
                    call_sid=call_sid,
                    caller=caller,
                    department=department,
                    initiator=initiator if initiator in INITIATORS else "ivr",
                    started_at=started_at,
                    whisper_accepted_at=accepted,
                    outcome=outcome,
                    cause=outcome if bounce else None,
                    dial_status=text_value(data.get("dial_status")),
                    bridged=bridged if isinstance(bridged, bool) else None,
                    redirected=redirected,
                    bounce=bounce,
                    next_step=text_value(data.get("next")) if bounce else None,
                    ended_at=result.at if result else None,
                    talk_seconds=talk if outcome == "connected" else None,
                    **self.buckets(started_at),
                )
            )
        return rows

    def _bounce(self, transfer: TransferRow) -> ReturnRow:
        detected = transfer.ended_at or transfer.started_at
        return ReturnRow(
            transfer_id=transfer.transfer_id,
            call_sid=transfer.call_sid,
            transfer_call_sid=transfer.call_sid,
            kind="bounce",
            cause=transfer.cause,
            next_step=transfer.next_step,
            detected_at=detected,
            department=transfer.department,
            initiator=transfer.initiator,
            **self.buckets(detected),
        )

    def match_returns(
        self, *, calls: Iterable[CallFacts], transfers: Iterable[TransferFacts]
    ) -> list[ReturnRow]:
        """Hand-backs and recalls among these calls and transfers (workers/returns.py)."""
        return match_returns(
            calls=calls, transfers=transfers, window=self.recall_window, zone=self.zone
        )


def _by_kind(ordered: Sequence[Event]) -> dict[str, list[Event]]:
    of: dict[str, list[Event]] = {}
    for event in ordered:
        of.setdefault(event.kind, []).append(event)
    return of


def call_outcome(
    state: str,
    of: dict[str, list[Event]],
    *,
    transfers: Sequence[TransferRow],
    visits: Sequence[VisitRow],
) -> CallOutcome:
    """What the call came to: the first that applies (ivr/vocabulary.py `CallOutcome`).

    A callback or an SMS counts when the caller asked for one (its `callback_requested` or
    `sms_requested` event), whatever became of it afterwards.
    """
    if state == "active":
        return "in_progress"
    if state == UNRESOLVED:
        return "unresolved"
    if any(t.outcome == "connected" for t in transfers):
        return "transferred"
    if any(v.ended == "answered" for v in visits):
        return "answered"
    if of.get("callback_requested"):
        return "callback"
    if of.get("sms_requested"):
        return "sms"
    if any(v.ended == "abandoned" for v in visits):
        return "abandoned"
    return "ivr"


def _after_hours_result(of: dict[str, list[Event]], *, ended: bool, queued: bool) -> str | None:
    """What a call that came in while the switchboard was closed got, the best thing first."""
    if of.get("transfer_started"):
        return "department"
    for choice in of.get("menu_choice", []):
        menu = str(choice.data.get("menu") or "")
        target = str(choice.data.get("target") or "")
        if menu.startswith("department_closed:") and choice.data.get("key") == "5":
            return "on_call"
        if menu == "closed" and target.startswith("department:"):
            # A closed department with an on-call line is dialled without a transfer event.
            return "on_call"
    if of.get("callback_requested"):
        return "callback"
    if of.get("sms_requested"):
        return "sms"
    if queued:
        return "queue"
    return "hung_up" if ended else None
