"""Statistics over the call records: the arithmetic on small known sets, and the groupings."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from switchboard.models import Callback, QueueVisit, ReturnRecord, TransferRecord
from switchboard.settings import DEFAULT_CONFIG
from switchboard.stats.aggregates import (
    callback_stats,
    queue_stats,
    report,
    transfer_stats,
)
from tests.fixtures.calls import OSLO, Call, oslo
from workers.event_rows import insert_events
from workers.records import load_projector, project_calls

DAY = oslo("2026-11-25 00:00:00")
WEEK = (DAY - timedelta(days=3), DAY + timedelta(days=4))


def buckets(at: datetime) -> dict[str, Any]:
    local = at.astimezone(OSLO)
    return {"day_local": local.date(), "hour_local": local.hour, "weekday_local": local.weekday()}


def visit(
    n: int, *, at: str, ended: str | None, wait: float | None, inside: bool = True
) -> QueueVisit:
    joined = oslo(f"2026-11-25 {at}")
    return QueueVisit(
        visit_id=f"CA{n}.1",
        call_sid=f"CA{n}",
        queue="main",
        joined_at=joined,
        ended=ended,
        wait_seconds=wait,
        in_opening_hours=inside,
        **buckets(joined),
    )


@pytest.fixture
def visits(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        session.add_all(
            [
                visit(1, at="10:00", ended="answered", wait=10),
                visit(2, at="10:10", ended="answered", wait=20),  # exactly T: within
                visit(3, at="10:20", ended="answered", wait=45),
                visit(4, at="10:30", ended="abandoned", wait=30),
                visit(5, at="10:40", ended="abandoned", wait=3),  # short: left out
                visit(6, at="11:00", ended="callback", wait=50),  # left out of SL
                visit(7, at="11:10", ended="redirected", wait=8),  # left out of SL
                visit(8, at="11:20", ended="closing", wait=700),  # a miss
                visit(9, at="08:30", ended="answered", wait=5, inside=False),  # not in SL
                visit(10, at="11:30", ended=None, wait=None),  # still waiting
                visit(11, at="11:40", ended="not_joined", wait=None),  # hung up in the prompt
            ]
        )


@pytest.mark.usefixtures("visits")
def test_service_level_asa_and_abandonment_on_a_known_set(engine: Engine) -> None:
    with engine.connect() as connection:
        total = queue_stats(connection, start=WEEK[0], end=WEEK[1]).total
    assert (total.offered, total.answered, total.abandoned, total.short_abandons) == (10, 4, 1, 1)
    assert (total.callbacks, total.redirected, total.closing, total.waiting) == (1, 1, 1, 1)
    assert total.not_joined == 1  # never in the queue: not offered, not in SL
    # In hours and ended, minus the short abandon, the callback and the redirected visit:
    # visits 1, 2, 3, 4 and 8; answered within 20 s: visits 1 and 2.
    assert (total.answered_within, total.service_level_base) == (2, 5)
    assert total.service_level == pytest.approx(0.4)
    assert total.asa_seconds == pytest.approx((10 + 20 + 45 + 5) / 4)
    assert total.abandonment_rate == pytest.approx(1 / 9)


@pytest.mark.usefixtures("visits")
def test_service_level_threshold_and_hour_groups(engine: Engine) -> None:
    with engine.connect() as connection:
        strict = queue_stats(connection, start=WEEK[0], end=WEEK[1], threshold_seconds=10).total
        hours = queue_stats(connection, start=WEEK[0], end=WEEK[1], group_by="hour")
    assert strict.service_level == pytest.approx(1 / 5)
    by_hour = {g.key: g.figures for g in hours.groups}
    assert set(by_hour) == {8, 10, 11}
    assert by_hour[10].offered == 5
    assert by_hour[10].service_level == pytest.approx(2 / 4)
    assert (by_hour[11].offered, by_hour[11].service_level) == (4, 0.0)  # only the closing counts
    assert by_hour[8].service_level is None  # outside opening hours: no base at all


@pytest.mark.usefixtures("visits")
def test_the_window_includes_its_start_and_excludes_its_end(engine: Engine) -> None:
    with engine.connect() as connection:
        at_start = queue_stats(
            connection, start=oslo("2026-11-25 10:00"), end=oslo("2026-11-25 10:30")
        ).total
        with pytest.raises(ValueError, match="before its end"):
            queue_stats(connection, start=WEEK[1], end=WEEK[0])
    assert at_start.offered == 3  # 10:00, 10:10 and 10:20; 10:30 is the next window's


def transfer(
    n: int, department: str, initiator: str, outcome: str | None, *, at: str = "10:00"
) -> TransferRecord:
    started = oslo(f"2026-11-25 {at}")
    return TransferRecord(
        transfer_id=f"CA{n}.2",
        call_sid=f"CA{n}",
        caller=f"caller-{n}",
        department=department,
        initiator=initiator,
        started_at=started,
        outcome=outcome,
        redirected=False,
        bounce=outcome in ("no_answer", "busy"),
        **buckets(started),
    )


def returned(n: int, kind: str, department: str, initiator: str) -> ReturnRecord:
    detected = oslo("2026-11-25 12:00")
    return ReturnRecord(
        transfer_id=f"CA{n}.2",
        call_sid=f"CA{n + 100}",
        transfer_call_sid=f"CA{n}",
        kind=kind,
        detected_at=detected,
        department=department,
        initiator=initiator,
        **buckets(detected),
    )


@pytest.fixture
def transfers(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        session.add_all(
            [
                transfer(1, "helse_omsorg", "ivr", "connected"),
                transfer(2, "helse_omsorg", "ivr", "no_answer"),
                transfer(3, "helse_omsorg", "agent", "connected", at="11:15"),
                transfer(4, "skatt_gebyr", "agent", "connected", at="11:30"),
                transfer(5, "skatt_gebyr", "agent", "busy", at="11:45"),
                transfer(6, "byggesak", "ivr", None, at="13:00"),
                returned(1, "recall", "helse_omsorg", "ivr"),
                returned(2, "bounce", "helse_omsorg", "ivr"),
                returned(3, "hand_back", "helse_omsorg", "agent"),
                returned(5, "bounce", "skatt_gebyr", "agent"),
            ]
        )


def grouped(engine: Engine, group_by: Any, **filters: Any) -> dict[Any, Any]:
    with engine.connect() as connection:
        section = transfer_stats(
            connection, start=WEEK[0], end=WEEK[1], group_by=group_by, **filters
        )
    assert section.group_by == group_by
    return {g.key: g.figures for g in section.groups}


@pytest.mark.usefixtures("transfers")
def test_return_rate_by_department_initiator_and_hour(engine: Engine) -> None:
    with engine.connect() as connection:
        total = transfer_stats(connection, start=WEEK[0], end=WEEK[1]).total
    assert (total.transfers, total.returned, total.connected, total.pending) == (6, 4, 3, 1)
    assert (total.bounces, total.hand_backs, total.recalls) == (2, 1, 1)
    assert total.return_rate == pytest.approx(4 / 6)

    by_department = grouped(engine, "department")
    assert {k: (f.transfers, f.returned) for k, f in by_department.items()} == {
        "byggesak": (1, 0),
        "helse_omsorg": (3, 3),
        "skatt_gebyr": (2, 1),
    }
    by_initiator = grouped(engine, "initiator")
    assert by_initiator["agent"].return_rate == pytest.approx(2 / 3)
    assert by_initiator["ivr"].return_rate == pytest.approx(2 / 3)
    by_hour = grouped(engine, "hour")
    assert {k: f.transfers for k, f in by_hour.items()} == {10: 2, 11: 3, 13: 1}
    agents_at_skatt = grouped(engine, "department", initiator="agent", department="skatt_gebyr")
    assert {k: f.return_rate for k, f in agents_at_skatt.items()} == {"skatt_gebyr": 0.5}


@pytest.mark.usefixtures("transfers")
def test_return_kinds_add_up_to_the_return_rate(engine: Engine) -> None:
    by_kind = grouped(engine, "kind")
    assert {k: (f.transfers, f.returned) for k, f in by_kind.items()} == {
        "bounce": (6, 2),
        "hand_back": (6, 1),
        "recall": (6, 1),
    }
    assert sum(f.return_rate for f in by_kind.values()) == pytest.approx(4 / 6)


def test_calls_after_hours_callbacks_and_sms_from_projected_calls(engine: Engine) -> None:
    projector = load_projector(DEFAULT_CONFIG)
    evening = oslo("2026-11-25 16:00:00")
    calls = [
        Call(at=evening, caller="a")
        .start(switchboard_open=False)
        .choose("sms", menu="closed", key="7")
        .sms()
        .end(),
        Call(at=evening, caller="b").start(switchboard_open=False).end(after=12),
    ]
    waiting = (
        Call(at=oslo("2026-11-25 10:00:00"), caller="c").start().choose("switchboard", key="0")
    )
    visit = waiting.join("main")
    waiting.callback(after=30)
    waiting.left(visit, result="hangup", after=1).end()
    calls.append(waiting)
    events = [e for call in calls for e in call.events]
    with engine.begin() as connection:
        insert_events(connection, events, caller_key="k")
        project_calls(connection, call_sids={c.sid for c in calls}, projector=projector)
        connection.execute(
            update(Callback).values(status="done", done_at=oslo("2026-11-25 10:20:40"))
        )
    with engine.connect() as connection:
        result = report(connection, start=WEEK[0], end=WEEK[1], group_by="hour")
    assert (result.calls.total.calls, result.calls.total.after_hours) == (3, 2)
    assert {g.key: g.figures.calls for g in result.calls.groups} == {10: 1, 16: 2}
    after_hours = result.after_hours.total
    assert (after_hours.calls, after_hours.sms, after_hours.hung_up) == (2, 1, 1)
    assert (result.callbacks.total.requested, result.callbacks.total.done) == (1, 1)
    assert result.callbacks.total.median_seconds_to_done == pytest.approx(20 * 60)
    assert result.sms.total.requested == 1
    assert result.sms.total.deflections == 1  # nobody answered: the link served the caller
    assert result.queue.total.callbacks == 1
    assert result.transfers.group_by == "hour"  # every section has the time groupings


def test_median_time_until_a_callback_is_done(engine: Engine) -> None:
    projector = load_projector(DEFAULT_CONFIG)
    calls = []
    for n, minutes in enumerate([10, 30, 50, 90]):
        call = Call(at=oslo(f"2026-11-2{5 + n // 2} 10:00:00"), caller=f"c{n}").start()
        call.choose("callback", key="8", menu="closed")
        request = call.callback()
        calls.append((call, request.at + timedelta(minutes=minutes)))
    with engine.begin() as connection:
        insert_events(connection, [e for c, _ in calls for e in c.events], caller_key="k")
        project_calls(connection, call_sids={c.sid for c, _ in calls}, projector=projector)
        for call, done in calls:
            connection.execute(
                update(Callback)
                .where(Callback.call_sid == call.sid)
                .values(status="done", done_at=done)
            )
    with engine.connect() as connection:
        by_day = callback_stats(connection, start=WEEK[0], end=WEEK[1], group_by="day")
    assert by_day.total.median_seconds_to_done == pytest.approx(40 * 60)  # (30 + 50) / 2
    medians = {g.key: g.figures.median_seconds_to_done for g in by_day.groups}
    assert medians == {"2026-11-25": pytest.approx(20 * 60), "2026-11-26": pytest.approx(70 * 60)}
