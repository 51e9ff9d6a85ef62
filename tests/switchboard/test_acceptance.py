"""Acceptance (issue 3): with faults, every statistic equals the ground truth, on both databases.

A seeded run of 300 calls through the real app (`switchboard simulate`'s own
`simulated_service`: the app, a simulated Twilio and its REST API, the ingest consumer and the
reconciliation sweep) against the database under test. The traffic has IVR and agent
transfers, every bounce cause, hand-backs (from a department's number while the first leg is
still connected, and after it; from the citizen while still connected), recalls (one just
inside the window, which counts from the conversation's end, and a call just outside it),
queue callbacks, abandons (short ones too), callers who hang up before the queue, SMS and
after-hours calls. The faults: 10% of status callbacks and action requests duplicated, every
delivery delayed up to 10 s (so reordered), 5% of status callbacks lost, recovered by the sweep.

The ground truth is read from the simulated world, never from our events or SQL
(`sim.truth_recorder`). The scenario mix is asserted too, so that the equalities cannot
hold for want of traffic.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine

from ivr.vocabulary import AFTER_HOURS_RESULTS, BOUNCE_CAUSES, RETURN_KINDS
from sim.ground_truth import GroundTruth
from sim.simulation import (
    Simulated,
    simulated_service,
    statistics_figures,
    statistics_rows,
)
from sim.traffic import TrafficPlan
from switchboard.settings import DEFAULT_CONFIG
from switchboard.stats import aggregates as stats

PLAN = TrafficPlan(calls=300, seed=7, faults=True)
DAY = timedelta(hours=24)  # the recall window

# The statistics the issue names, by `switchboard.stats.figures` section and field.
NAMED = {
    "calls.calls",
    "queue.offered",
    "queue.answered",
    "queue.abandoned",
    "queue.short_abandons",
    "queue.answered_within",  # SL numerator
    "queue.service_level_base",  # SL denominator
    "queue.asa_seconds",
    "queue.abandonment_rate",
    "transfers.transfers",
    "transfers.returned",
    "transfers.return_rate",
    *(f"transfers.{kind}s" for kind in RETURN_KINDS),
    *(f"after_hours.{got}" for got in AFTER_HOURS_RESULTS),
    "callbacks.requested",
    "sms.deflections",
}


@pytest.fixture
def run(db_url: str) -> Iterator[tuple[Simulated, Engine]]:
    with simulated_service(PLAN, config_path=DEFAULT_CONFIG, database_url=db_url) as played:
        yield played


def test_every_statistic_equals_the_ground_truth(run: tuple[Simulated, Engine]) -> None:
    outcome, engine = run
    truth = outcome.truth
    assert truth.problems() == []
    start, end = outcome.start, outcome.end

    expected = truth.figures()
    assert set(expected) >= NAMED
    found = statistics_figures(engine, start=start, end=end)
    assert {name: found[name] for name in expected} == expected
    assert (found["calls.in_progress"], found["queue.waiting"]) == (0, 0)  # all settled

    # The return-rate table: by department and initiator, by department, by initiator, all.
    assert statistics_rows(engine, start=start, end=end) == truth.return_rate_table()
    with engine.connect() as connection:
        by_kind = stats.transfer_stats(connection, start=start, end=end, group_by="kind")
        by_department = stats.transfer_stats(
            connection, start=start, end=end, group_by="department"
        )
    kinds = truth.returns_by("kind")
    assert {g.key: g.figures.returned for g in by_kind.groups} == {
        k: n for (k,), n in kinds.items()
    }
    assert {g.key: g.figures.return_rate for g in by_kind.groups} == {
        kind: truth.return_rate(kind=kind).value for kind in RETURN_KINDS if (kind,) in kinds
    }
    outcomes = truth.transfers_by("department", "outcome")
    assert {
        (g.key, outcome): getattr(g.figures, outcome)
        for g in by_department.groups
        for outcome in (*BOUNCE_CAUSES, "connected", "caller_hung_up")
        if getattr(g.figures, outcome)
    } == dict(outcomes)

    assert_the_mix_occurred(outcome, truth)
    assert (found["queue.not_joined"] or 0) > 0  # callers who hung up before the queue: no visits


def assert_the_mix_occurred(outcome: Simulated, truth: GroundTruth) -> None:
    assert set(truth.transfers_by("initiator")) == {("ivr",), ("agent",)}
    assert set(truth.returns_by("initiator")) == {("ivr",), ("agent",)}
    bounces = [r for r in truth.returns if r.kind == "bounce"]
    assert {r.cause for r in bounces} == BOUNCE_CAUSES

    transfers = {t.id: t for t in truth.transfers}
    calls = {c.sid: c for c in truth.calls}
    crossing = Counter(
        (
            r.kind,
            calls[r.call_sid].scenario,
            "first leg connected" if transfers[r.transfer_id].ended_at > r.at else "after",
        )
        for r in truth.returns
        if r.kind != "bounce"
    )
    assert crossing[("hand_back", "hand_back", "first leg connected")] > 0  # the PBX
    assert crossing[("hand_back", "hand_back", "after")] > 0
    assert crossing[("hand_back", "hand_back_citizen", "first leg connected")] > 0
    assert crossing[("recall", "recall", "after")] > 0
    # A day after the conversation began, but within 24 h of its end: still a recall.
    late = [r for r in truth.returns if calls[r.call_sid].scenario == "late_recall"]
    assert late
    for r in late:
        assert r.kind == "recall"
        assert r.at - transfers[r.transfer_id].started_at > DAY
    # Just over 24 h after the end: no return.
    outside = {c.sid for c in truth.calls if c.scenario == "late_call"}
    assert outside
    assert not [r for r in truth.returns if r.call_sid in outside]

    queue = truth.queue_totals()
    assert queue.answered > 0
    assert queue.abandoned > 0
    assert queue.short_abandoned > 0
    assert queue.callbacks > 0
    assert queue.sl.denominator > queue.sl.numerator > 0
    figures = truth.figures()
    assert (figures["callbacks.requested"] or 0) > queue.callbacks  # after hours too
    assert (figures["sms.deflections"] or 0) > 0
    after_hours = truth.after_hours_by()
    assert {"department", "on_call", "callback", "sms", "hung_up"} <= set(after_hours)
    assert set(outcome.api_statuses) == {202}  # the agents' transfers went through the API

    # The faults happened: copies were delivered and stored once, status callbacks were lost,
    # and the sweep settled the calls whose end was lost.
    assert outcome.duplicates > 0
    assert outcome.callbacks_lost > 0
    assert outcome.sweep.ended > 0
    assert outcome.sweep.unresolved == 0
