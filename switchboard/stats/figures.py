"""What the statistics return: figures per section, a total and groups
(switchboard/stats/aggregates.py).

Each figure is a field whose metadata names its glossary entry (`term`, an anchor in
`switchboard.stats.glossary`) and says in a line what it counts (`doc`, for the OpenAPI schema).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, Generic, Literal, TypeVar, get_args

Grouping = Literal["department", "initiator", "kind", "reason", "hour", "weekday", "day"]
GROUPINGS: tuple[Grouping, ...] = get_args(Grouping)
Key = str | int
F = TypeVar("F")


def figure(term: str, doc: str) -> Any:
    """A figure's field: `term` is its glossary anchor, `doc` a one-line description."""
    return field(metadata={"term": term, "doc": doc})


@dataclass(frozen=True)
class CallFigures:
    calls: int = figure("call", "Inbound calls to the main number.")
    after_hours: int = figure("after-hours", "Calls that came in while the switchboard was closed.")
    in_progress: int = figure("in-progress", "Calls not ended yet.")
    priority: int = figure("priority", "Calls with two bounced transfers.")
    ivr_seconds: float | None = figure("ivr-time", "Mean seconds in the menus.")
    # By outcome, the first that applies (ivr/vocabulary.py CallOutcome; in_progress above).
    outcome_transferred: int = figure("call-outcome", "Ended calls: a transfer connected.")
    outcome_answered: int = figure("call-outcome", "Ended calls: answered in a queue.")
    outcome_callback: int = figure("call-outcome", "Ended calls: a callback asked for.")
    outcome_sms: int = figure("call-outcome", "Ended calls: an SMS asked for.")
    outcome_abandoned: int = figure("call-outcome", "Ended calls: hung up in a queue.")
    outcome_ivr: int = figure("call-outcome", "Ended calls: ended in the menus.")
    outcome_unresolved: int = figure("call-outcome", "Calls the reconciliation gave up on.")


@dataclass(frozen=True)
class QueueFigures:
    offered: int = figure("offered", "Queue visits started (callers who joined the queue).")
    answered: int = figure("answered", "Visits answered by an agent.")
    abandoned: int = figure("abandoned", "Hang-ups in the queue after 5 s or more.")
    short_abandons: int = figure("short-abandon", "Hang-ups in the queue within 5 s.")
    callbacks: int = figure("queue-callback", "Visits that ended in a callback request.")
    closing: int = figure("closing", "Visits ended by the switchboard closing.")
    redirected: int = figure("redirected", "Visits an agent moved out of the queue unanswered.")
    errors: int = figure("queue-error", "Visits ended by a queue error or a full queue.")
    waiting: int = figure("waiting", "Visits not ended yet.")
    not_joined: int = figure("not-joined", "Hung up before joining the queue; not offered.")
    answered_within: int = figure("answered-within", "In-hours visits answered within T.")
    service_level_base: int = figure("service-level-base", "The service level's denominator.")
    service_level: float | None = figure("service-level", "Share answered within T (0-1).")
    asa_seconds: float | None = figure("asa", "Mean wait of answered visits, seconds.")
    abandonment_rate: float | None = figure("abandonment-rate", "Abandoned / (offered - short).")


@dataclass(frozen=True)
class TransferFigures:
    transfers: int = figure("transfer", "Transfers started (grouped by kind: all of them).")
    connected: int = figure("connected", "Transfers a person accepted.")
    no_answer: int = figure("transfer-outcome", "Outcome no_answer.")
    busy: int = figure("transfer-outcome", "Outcome busy.")
    failed: int = figure("transfer-outcome", "Outcome failed.")
    declined: int = figure("transfer-outcome", "Outcome declined (whisper refused or timed out).")
    caller_hung_up: int = figure("transfer-outcome", "Outcome caller_hung_up.")
    pending: int = figure("transfer-outcome", "No result yet.")
    returned: int = figure("returned-transfer", "Transfers the caller came back from.")
    bounces: int = figure("bounce", "Returns of kind bounce.")
    hand_backs: int = figure("hand-back", "Returns of kind hand_back.")
    recalls: int = figure("recall", "Returns of kind recall.")
    return_rate: float | None = figure("return-rate", "Returned / transfers (0-1).")


@dataclass(frozen=True)
class AfterHoursFigures:
    calls: int = figure("after-hours", "Calls while the switchboard was closed.")
    department: int = figure("after-hours", "Got a department that was open.")
    on_call: int = figure("after-hours", "Got a department's on-call line.")
    callback: int = figure("after-hours", "Asked for a callback.")
    sms: int = figure("after-hours", "Got the self-service SMS.")
    queue: int = figure("after-hours", "Queued: the switchboard opened meanwhile.")
    hung_up: int = figure("after-hours", "Got none of those before hanging up.")


@dataclass(frozen=True)
class CallbackFigures:
    requested: int = figure("callback", "Callback requests.")
    done: int = figure("callback", "Callbacks made.")
    cancelled: int = figure("callback", "Callbacks cancelled.")
    pending: int = figure("callback", "Callbacks still owed.")
    median_seconds_to_done: float | None = figure("callback-time", "Median seconds until done.")


@dataclass(frozen=True)
class SmsFigures:
    requested: int = figure("sms", "Self-service SMS requested.")
    sent: int = figure("sms", "Sent by Twilio.")
    failed: int = figure("sms", "Failed, or not a Norwegian mobile.")
    deflections: int = figure("deflection", "Calls served by the SMS link instead of a person.")


@dataclass(frozen=True)
class Group(Generic[F]):
    key: Key | None  # None only for returns no agent has tagged yet (grouped by reason)
    figures: F


@dataclass(frozen=True)
class Section(Generic[F]):
    group_by: Grouping | None  # None when not asked for, or when this section has no such key
    total: F
    groups: list[Group[F]]


@dataclass(frozen=True)
class Report:
    start: datetime
    end: datetime
    group_by: Grouping | None
    calls: Section[CallFigures]
    queue: Section[QueueFigures]
    transfers: Section[TransferFigures]
    after_hours: Section[AfterHoursFigures]
    callbacks: Section[CallbackFigures]
    sms: Section[SmsFigures]


def figure_fields(figures: type[Any]) -> list[tuple[str, str, str]]:
    """(name, glossary anchor, description) of each figure of a figures class."""
    return [(f.name, f.metadata["term"], f.metadata["doc"]) for f in fields(figures)]
