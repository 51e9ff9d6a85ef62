"""Queue visits from a call's events: the unit service level is counted in (docs/glossary.md).

A visit (`<CallSid>.<step>`) starts with `queue_joined` and ends, in this order of precedence:
- `answered` at its `queue_answered`, the `<Queue url>` request made when an agent takes the
  caller. That event carries no visit id: it belongs to the caller's visit to that queue that
  was open `queue_time_seconds` before it (docs/events.md);
- `callback` when a `callback_requested` follows it before the caller moves on, or the caller
  left to key in a callback number;
- `closing` when the queue closed on the caller after the grace period;
- `redirected` for `redirected*` results, or when the caller moved on without a `queue_left`
  (an agent took them out of the queue): not an abandon;
- `abandoned` for a hang-up in the queue (`queue_left` with `QueueResult=hangup`) without an
  answer, and `error` for Twilio's queue errors;
- `not_joined` when the call ended with neither a `queue_left` nor an answer: `queue_joined`
  is emitted when the Enqueue TwiML is served, so a caller who hung up during the prompt before
  it never joined, and Twilio never requested the Enqueue action. A caller who hangs up in the
  queue always has a `queue_left` (Twilio requests the action with `QueueResult=hangup`). Such
  a visit is no queue visit: it is left out of offered and of the service level.
Until then `ended` is None: the caller is still waiting, or the report is late.

A visit an agent took out of order (`queue_moved`: the caller's queue member was moved to the
agent's own queue, ivr/handover.py) stays one visit. The old queue's `queue_left` with
`QueueResult=redirected` is the move, not the end (nor is a `leave` from the agent's queue when
the agent had gone, after which the caller joins their own queue again); the visit ends with
the last queue's `queue_left`, and is answered at its `queue_answered`, which names the visit.
Twilio's QueueTime restarts in the new queue, so a moved visit's wait is the sum of its
QueueTimes: in each queue it was moved out of (the moves' `queue_left`), and in the last.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from ivr.config import SWITCHBOARD
from ivr.events import Event
from ivr.hours import Hours

ANSWERED_RESULTS = frozenset({"bridged", "bridging-in-process"})
REDIRECTED_RESULTS = frozenset({"redirected", "redirected-from-bridged"})
NOT_JOINED = "not_joined"  # the call ended before the caller was in the queue
# Our queue_joined is stamped when we answer the webhook; Twilio starts QueueTime a moment later.
ANSWER_SLACK = timedelta(seconds=5)

# The local day, hour and weekday columns of an instant.
Buckets = Callable[[datetime], dict[str, Any]]


def text_value(value: Any) -> str | None:
    """A non-empty string from event data, else None: event data is never trusted to be typed."""
    return value if isinstance(value, str) and value else None


def seconds_value(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if value >= 0 else None


@dataclass(frozen=True)
class VisitRow:
    visit_id: str
    call_sid: str
    queue: str
    joined_at: datetime
    answered_at: datetime | None
    queue_time_seconds: float | None
    left_at: datetime | None
    wait_seconds: float | None
    ended: str | None
    leave_result: str | None
    in_opening_hours: bool
    bounced_from: str | None
    day_local: date
    hour_local: int
    weekday_local: int


def project_visits(
    *,
    call_sid: str,
    ordered: Sequence[Event],
    end: Event | None,
    hours: Hours,
    buckets: Buckets,
) -> tuple[list[VisitRow], tuple[tuple[str, str], ...]]:
    """A call's queue visits, and the visit each of its callback requests ended."""
    of: dict[str, list[Event]] = {}
    for event in ordered:
        of.setdefault(event.kind, []).append(event)
    joins = of.get("queue_joined", [])
    moved = {text_value(e.data.get("visit")) for e in of.get("queue_moved", [])} - {None}
    lefts: dict[str, Event] = {}
    earlier: dict[str, float] = {}  # a moved visit's time in the queues it was moved out of
    for event in of.get("queue_left", []):
        visit = text_value(event.data.get("visit")) or ""
        result = event.data.get("result")
        if visit in moved and (
            result == "redirected" or (result == "leave" and event.data.get("agent"))
        ):
            # A move to an agent's queue, or back from it: not the end of the visit.
            waited = seconds_value(event.data.get("queue_time_seconds")) or 0.0
            earlier[visit] = earlier.get(visit, 0.0) + waited
            continue
        lefts.setdefault(visit, event)
    visit_ids = [text_value(j.data.get("visit")) or j.dedupe_key for j in joins]
    answers = _match_answers(joins, visit_ids, of.get("queue_answered", []))
    # The visit ends, at the latest, when the caller moves on to another visit or transfer.
    boundaries = sorted(e.at for e in ordered if e.kind in ("queue_joined", "transfer_started"))
    callbacks = of.get("callback_requested", [])
    rows: list[VisitRow] = []
    links: list[tuple[str, str]] = []
    for join, visit_id in zip(joins, visit_ids, strict=True):
        boundary = next((at for at in boundaries if at > join.at), None)
        left = lefts.get(visit_id)
        answer = answers.get(visit_id)
        callback = next(
            (c for c in callbacks if join.at <= c.at and (boundary is None or c.at < boundary)),
            None,
        )
        if callback is not None and answer is None:
            links.append((callback.id, visit_id))
        rows.append(
            _visit(
                call_sid=call_sid,
                visit_id=visit_id,
                join=join,
                left=left,
                answer=answer,
                callback=callback is not None,
                earlier=earlier.get(visit_id, 0.0) if visit_id in moved else None,
                boundary=boundary,
                end=end,
                hours=hours,
                buckets=buckets,
            )
        )
    return rows, tuple(links)


def _visit(
    *,
    call_sid: str,
    visit_id: str,
    join: Event,
    left: Event | None,
    answer: Event | None,
    callback: bool,
    boundary: datetime | None,
    end: Event | None,
    hours: Hours,
    buckets: Buckets,
    earlier: float | None = None,
) -> VisitRow:
    result = text_value(left.data.get("result")) if left else None
    reason = left.data.get("reason") if left else None
    left_wait = seconds_value(left.data.get("queue_time_seconds")) if left else None
    answered_at = answer.at if answer else None
    queue_time = seconds_value(answer.data.get("queue_time_seconds")) if answer else None
    if earlier is not None:  # moved: QueueTime restarted in each queue, so add them up
        queue_time = earlier + queue_time if queue_time is not None else None
        left_wait = earlier + left_wait if left_wait is not None else None
    if answer is None and result in ANSWERED_RESULTS and left_wait is not None:
        # The <Queue url> report is lost; the Enqueue action's QueueTime says when.
        answered_at, queue_time = join.at + timedelta(seconds=left_wait), left_wait
    left_at = left.at if left else None
    if left_at is None and answered_at is None:
        left_at = boundary or (end.at if end else None)
    elif left_at is None and end is not None:
        left_at = end.at
    ended: str | None
    if answered_at is not None:
        ended = "answered"
    elif callback or reason == "callback_number":
        ended = "callback"
    elif reason == "closing":
        ended = "closing"
    elif left is None and boundary is None and end is not None:
        ended, left_at = NOT_JOINED, None  # hung up before the Enqueue: never in the queue
    elif left is None:
        ended = "redirected" if boundary else None
    elif result in REDIRECTED_RESULTS:
        ended = "redirected"
    elif result == "hangup":
        ended = "abandoned"
    elif result == "leave":
        # We only <Leave> at closing or to ask for a callback number; the reason was lost.
        closed = not hours.is_open(SWITCHBOARD, left.at)
        ended = "closing" if closed else "callback"
    else:
        ended = "error"  # error, system-error, queue-full, or a result we do not know
    if answered_at is not None:
        wait = queue_time if queue_time is not None else between(join.at, answered_at)
    elif ended is not None and ended != NOT_JOINED:
        wait = left_wait if left_wait is not None else between(join.at, left_at)
    else:
        wait = None
    queue = text_value(join.data.get("queue")) or "main"
    return VisitRow(
        visit_id=visit_id,
        call_sid=call_sid,
        queue=queue,
        joined_at=join.at,
        answered_at=answered_at,
        queue_time_seconds=queue_time,
        left_at=left_at,
        wait_seconds=wait,
        ended=ended,
        leave_result=result,
        in_opening_hours=hours.is_open(SWITCHBOARD, join.at),
        bounced_from=text_value(join.data.get("bounced_from")),
        **buckets(join.at),
    )


def _match_answers(
    joins: Sequence[Event], visit_ids: Sequence[str], answers: Sequence[Event]
) -> dict[str, Event]:
    """Each queue_answered to the caller's visit to that queue open QueueTime seconds before."""
    matched: dict[str, Event] = {}
    for answer in answers:
        named = text_value(answer.data.get("visit"))
        if named is not None and named in visit_ids and named not in matched:
            matched[named] = answer  # the agent dialled their own queue for this visit
            continue
        queue = answer.data.get("queue")
        waited = seconds_value(answer.data.get("queue_time_seconds")) or 0.0
        entered = answer.at - timedelta(seconds=waited)
        free = [
            (join, visit_id)
            for join, visit_id in zip(joins, visit_ids, strict=True)
            if visit_id not in matched
            and join.at <= answer.at
            and (queue is None or join.data.get("queue") == queue)
        ]
        fitting = [pair for pair in free if pair[0].at <= entered + ANSWER_SLACK]
        if fitting:
            matched[fitting[-1][1]] = answer  # the latest visit that had begun by then
        elif free:
            matched[free[0][1]] = answer
    return matched


def between(start: datetime, end: datetime | None) -> float | None:
    """Seconds from start to end, never negative (clocks of two webhooks can disagree)."""
    return max(0.0, (end - start).total_seconds()) if end is not None else None
