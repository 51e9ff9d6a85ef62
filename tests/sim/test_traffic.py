"""The traffic generator: a small seeded day through the real service, with faults.

One run serves the module (`switchboard simulate`'s own `simulated_service`: the app, a
simulated Twilio and its REST API, the ingest and the sweep). Its ground truth must be
consistent with itself, contain every kind of traffic, and agree with the events the app
recorded, which it was read independently of.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.vocabulary import INITIATORS, RETURN_KINDS
from sim.ground_truth import came_back_from
from sim.simulation import simulated_service
from sim.traffic import DAY, TrafficPlan
from sim.truth_recorder import clear_choice
from switchboard.models import CallEvent
from switchboard.settings import DEFAULT_CONFIG

# Seed 47 gives every kind below in 45 calls; a lone agent makes the queue wait at lunch.
PLAN = TrafficPlan(calls=45, seed=47, agents=1, faults=True)


@pytest.fixture(scope="module")
def run():
    with simulated_service(PLAN, config_path=DEFAULT_CONFIG) as (outcome, engine):
        with Session(engine) as session:
            events = list(session.scalars(select(CallEvent)))
        yield outcome, events


def of_kind(events, kind):
    return [e for e in events if e.kind == kind]


def test_the_ground_truth_is_consistent(run):
    outcome, _events = run
    assert outcome.truth.problems() == []


def test_every_kind_of_traffic_occurs(run):
    outcome, _events = run
    truth = outcome.truth
    assert {kind for (kind,) in truth.returns_by("kind")} == set(RETURN_KINDS)
    assert {initiator for (initiator,) in truth.returns_by("initiator")} == set(INITIATORS)
    assert {outcome for (outcome,) in truth.transfers_by("outcome")} == {
        "connected",
        "no_answer",
        "busy",
        "failed",
        "declined",
        "caller_hung_up",
    }
    queue = truth.queue_totals()
    assert queue.abandoned > 0
    assert queue.short_abandoned > 0
    assert queue.callbacks > 0
    assert queue.sl.denominator > queue.sl.numerator > 0
    assert sum(truth.after_hours_by().values()) > 0
    assert truth.figures()["sms.requested"] > 0
    scenarios = Counter(c.scenario for c in truth.calls)
    assert scenarios["hand_back"] + scenarios["hand_back_citizen"] > 0
    assert set(outcome.api_statuses) == {202}  # the agents' transfers went through the API


def test_the_counts_add_up(run):
    outcome, _events = run
    truth = outcome.truth
    table = truth.return_rate_table()
    cells = [row for row in table if "*" not in (row.department, row.initiator)]
    overall = table[-1]
    assert (overall.department, overall.initiator) == ("*", "*")
    assert sum(row.transfers for row in cells) == overall.transfers == len(truth.transfers)
    assert sum(row.returned for row in cells) == overall.returned
    assert sum(overall.by_kind.values()) == len(truth.returns) >= overall.returned
    for row in table:
        assert row.returned <= row.transfers
        assert sum(row.by_kind.values()) >= row.returned
    for initiator in INITIATORS:
        rate = truth.return_rate(initiator=initiator)
        row = next(r for r in table if (r.department, r.initiator) == ("*", initiator))
        assert (rate.numerator, rate.denominator) == (row.returned, row.transfers)
    queue = truth.queue_totals()
    assert queue.offered == len(truth.visits)
    bounces = [r for r in truth.returns if r.kind == "bounce"]
    assert len(bounces) == sum(1 for t in truth.transfers if t.bounced)


def test_the_truth_agrees_with_what_the_app_recorded(run):
    outcome, events = run
    truth = outcome.truth
    results = {e.dedupe_key: e.data for e in of_kind(events, "transfer_result")}
    for transfer in truth.transfers:
        result = results[f"dial:{transfer.id}"]
        assert (result["department"], result["initiator"], result["outcome"]) == (
            transfer.department,
            transfer.initiator,
            transfer.outcome,
        )
        assert result["bounce"] is transfer.bounced
    assert len(results) == len(truth.transfers)
    assert len(of_kind(events, "call_started")) == len(truth.calls)
    # A visit is a caller who joined: the Enqueue action reports each (never one who hung up
    # during the prompt before the Enqueue, whose queue_joined has no queue_left).
    assert len({e.data["visit"] for e in of_kind(events, "queue_left")}) == len(truth.visits)
    answered = truth.queue_totals().answered
    assert len({(e.call_sid, e.dedupe_key) for e in of_kind(events, "queue_answered")}) == answered


def test_calls_whose_end_was_lost_are_settled_by_the_sweep(run):
    outcome, events = run
    assert outcome.callbacks_lost > 0
    assert outcome.sweep.ended > 0
    assert outcome.sweep.unresolved == 0
    ended = {e.call_sid for e in of_kind(events, "call_ended") if e.data["final"]}
    assert ended == {call.sid for call in outcome.truth.calls}
    swept = [e for e in of_kind(events, "call_ended") if ":rest:" in e.dedupe_key]
    assert len(swept) == outcome.sweep.ended


def test_the_same_seed_plays_the_same_traffic():
    # A short morning keeps it quick: the calls come 09-10, the agent leaves at 10:15.
    plan = TrafficPlan(
        calls=6, seed=3, agents=1, day_hours=(9, 10), shift=(time(8, 58), time(10, 15))
    )

    def played():
        with simulated_service(plan, config_path=DEFAULT_CONFIG) as (outcome, _engine):
            truth = outcome.truth
            return (
                [(c.sid, c.caller, c.started_at, c.scenario) for c in truth.calls],
                truth.transfers,
                truth.returns,
                truth.visits,
            )

    assert played() == played()


@dataclass(frozen=True)
class Talked:
    id: str
    call_sid: str
    connected_at: datetime | None
    ended_at: datetime | None


def test_the_truths_return_rule_is_the_glossarys() -> None:
    # The same rule as workers.returns, on the simulated world's instants: the most recently
    # connected conversation still going on; else the one that ended last, within 24 h.
    at = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)

    def talk(name: str, connected: float, ended: float | None) -> Talked:
        end = None if ended is None else at + timedelta(minutes=ended)
        return Talked(name, f"CA-{name}", at + timedelta(minutes=connected), end)

    def chosen(*talks: Talked) -> tuple[bool, str] | None:
        found = came_back_from(talks, call_sid="CA-new", at=at)
        return (found[0], found[1].id) if found else None

    earlier, later = talk("earlier", -20, 5), talk("later", -10, None)
    assert chosen(earlier, later) == (True, "later")  # both going on: the latest connected
    assert chosen(talk("long", -30, -1), talk("short", -20, -15)) == (False, "long")
    assert chosen(talk("ringing", 1, None)) is None  # not yet accepted
    assert chosen(talk("day", -1500, -24 * 60 + 1)) == (False, "day")  # 24 h from the end
    assert chosen(talk("gone", -1500, -24 * 60 - 1)) is None
    late = talk("late", -25 * 60, -23 * 60)
    assert clear_choice([late], at=at, margin=timedelta(seconds=3))
    assert late.ended_at is not None
    assert not clear_choice([late], at=late.ended_at + DAY, margin=timedelta(seconds=3))
