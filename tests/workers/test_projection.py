"""The projection from a call's events to its records: pure, and blind to arrival order."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest

from ivr.config import parse_config
from ivr.events import Event
from switchboard.settings import DEFAULT_CONFIG
from tests.fixtures.calls import Call, oslo
from workers.projection import CallProjection, Projector
from workers.records import load_projector


@pytest.fixture(scope="module")
def projector() -> Projector:
    return load_projector(DEFAULT_CONFIG)


def project(projector: Projector, call: Call, events: list[Event] | None = None) -> CallProjection:
    projection = projector.project_call(call.sid, call.events if events is None else events)
    assert projection is not None
    return projection


def strided(events: list[Event], stride: int) -> list[Event]:
    """A fixed reordering: every stride-th event first, then the next offset, and so on."""
    return [events[i] for offset in range(stride) for i in range(offset, len(events), stride)]


def bounced_then_answered() -> Call:
    """Byggesak does not answer; the caller waits 22 s in the returns queue and is answered."""
    call = Call(at=oslo("2026-11-25 10:00:00")).start().choose("department:byggesak")
    transfer = call.transfer("byggesak", outcome="no_answer", ring=25)
    visit = call.join("returns", bounced_from=transfer)
    call.answered("returns", after=22)
    call.left(visit, result="bridged", after=90, waited=22, queue="returns")
    return call.end()


def test_the_rows_do_not_depend_on_arrival_order_or_copies(projector: Projector) -> None:
    call = bounced_then_answered()
    expected = project(projector, call)
    orders = [list(reversed(call.events)), *(strided(call.events, k) for k in (2, 3, 5))]
    # A retried webhook: the same dedupe key again, under a new event id.
    copies = [replace(event, id=f"copy-{n}") for n, event in enumerate(call.events)]
    orders.append(copies + call.events)

    for events in orders:
        assert project(projector, call, events) == expected

    (transfer,) = expected.transfers
    assert (transfer.outcome, transfer.bounce, transfer.cause) == ("no_answer", True, "no_answer")
    (visit,) = expected.visits
    assert (visit.queue, visit.ended, visit.wait_seconds) == ("returns", "answered", 22.0)
    assert visit.bounced_from == transfer.transfer_id
    (bounce,) = expected.bounces
    assert (bounce.kind, bounce.cause, bounce.next_step) == ("bounce", "no_answer", "queue")
    assert bounce.transfer_id == transfer.transfer_id
    assert expected.call.state == "ended"
    assert (expected.call.transfers_count, expected.call.bounces_count) == (1, 1)


def test_a_transfer_is_connected_only_once_its_result_says_so(projector: Projector) -> None:
    call = Call(at=oslo("2026-11-25 10:00:00")).start().choose("department:helse_omsorg")
    call.transfer("helse_omsorg", outcome="connected", result=False)
    (pending,) = project(projector, call).transfers
    # The whisper was accepted, but only the Dial's result decides the outcome.
    assert pending.whisper_accepted_at is not None
    assert (pending.outcome, pending.bounce, pending.ended_at) == (None, False, None)

    call = Call(at=oslo("2026-11-25 10:00:00")).start().choose("department:helse_omsorg")
    call.transfer("helse_omsorg", outcome="connected", talk=95)
    projection = project(projector, call.end())
    (connected,) = projection.transfers
    assert (connected.outcome, connected.talk_seconds, connected.bridged) == ("connected", 95, True)
    assert projection.bounces == ()


def test_a_transfer_an_agent_redirected_is_not_a_bounce(projector: Projector) -> None:
    call = Call(at=oslo("2026-11-25 10:00:00")).start().choose("department:nav")
    call.transfer("nav", outcome="declined", redirected=True)
    projection = project(projector, call.end())
    (transfer,) = projection.transfers
    assert (transfer.outcome, transfer.bounce, transfer.cause) == ("declined", False, None)
    assert projection.bounces == ()


def test_two_bounces_in_one_call_make_it_a_priority(projector: Projector) -> None:
    call = Call(at=oslo("2026-11-25 10:00:00")).start().choose("department:byggesak")
    first = call.transfer("byggesak", outcome="busy")
    call.join("returns", bounced_from=first)
    call.answered("returns", after=10)
    second = call.transfer("skatt", outcome="no_answer", initiator="agent", after=30)
    call.join("returns", bounced_from=second)
    projection = project(projector, call)
    assert (projection.call.bounces_count, projection.call.priority) == (2, True)
    assert [b.cause for b in projection.bounces] == ["busy", "no_answer"]
    assert [b.initiator for b in projection.bounces] == ["ivr", "agent"]


def visit_scene(ending: str) -> tuple[Call, str]:
    call = Call(at=oslo("2026-11-25 10:00:00")).start().choose("switchboard", key="0")
    visit = call.join("main")
    if ending == "answered":
        call.answered(after=12).left(visit, result="bridged", after=100, waited=12).end()
    elif ending == "abandoned":
        call.left(visit, result="hangup", after=40).end()
    elif ending == "short":
        call.left(visit, result="hangup", after=3).end()
    elif ending == "callback":
        call.callback(after=20)
        call.left(visit, result="hangup", after=1, waited=21).end()
    elif ending == "callback_number":
        call.left(visit, result="leave", after=30, reason="callback_number")
    elif ending == "closing":
        call.left(visit, result="leave", after=700, reason="closing")
    elif ending == "redirected":
        call.left(visit, result="redirected", after=15)
    elif ending == "queue_full":
        call.left(visit, result="queue-full", after=0)
    elif ending == "hung_up_in_the_prompt":
        # queue_joined is emitted with the Enqueue TwiML; the caller hung up while its prompt
        # played, so Twilio never requested the Enqueue action: no queue_left, ever.
        call.end(after=2)
    elif ending == "moved_on_unreported":
        call.transfer("nav", outcome="connected", after=30)  # an agent moved them on
        call.end()
    return call, visit


@pytest.mark.parametrize(
    ("ending", "ended", "wait"),
    [
        ("answered", "answered", 12.0),
        ("abandoned", "abandoned", 40.0),
        ("short", "abandoned", 3.0),
        ("callback", "callback", 21.0),
        ("callback_number", "callback", 30.0),
        ("closing", "closing", 700.0),
        ("redirected", "redirected", 15.0),
        ("queue_full", "error", 0.0),
        ("hung_up_in_the_prompt", "not_joined", None),
        ("moved_on_unreported", "redirected", 30.0),
        ("waiting", None, None),
    ],
)
def test_how_a_queue_visit_ended(
    projector: Projector, ending: str, ended: str | None, wait: float | None
) -> None:
    call, visit_id = visit_scene(ending)
    projection = project(projector, call)
    (visit,) = projection.visits
    assert (visit.visit_id, visit.ended, visit.wait_seconds) == (visit_id, ended, wait)
    assert visit.in_opening_hours
    if ending == "hung_up_in_the_prompt":
        assert visit.left_at is None
        assert projection.call.ivr_seconds == 12.0  # in the menus until the hang-up
    if ending == "answered":
        assert visit.answered_at == visit.joined_at + timedelta(seconds=12)
    if ending == "callback":
        (request,) = [e for e in call.events if e.kind == "callback_requested"]
        assert projection.callback_visits == ((request.id, visit_id),)


def test_an_answer_goes_to_the_visit_open_queue_time_before_it(projector: Projector) -> None:
    call = Call(at=oslo("2026-11-25 10:00:00")).start().choose("switchboard", key="0")
    first = call.join("main")
    call.answered(after=20)
    call.left(first, result="redirected-from-bridged", after=40, waited=20)
    second = call.join("main", after=5)
    call.answered(after=30)
    call.left(second, result="bridged", after=60, waited=30)
    visits = {v.visit_id: v for v in project(projector, call.end()).visits}
    assert visits[first].ended == "answered"  # redirected after the answer is still answered
    assert visits[first].answered_at == visits[first].joined_at + timedelta(seconds=20)
    assert visits[second].answered_at == visits[second].joined_at + timedelta(seconds=30)
    assert (visits[first].wait_seconds, visits[second].wait_seconds) == (20.0, 30.0)


@pytest.mark.parametrize(
    ("joined", "inside"),
    [
        ("2026-11-25 08:59:59", False),
        ("2026-11-25 09:00:00", True),
        ("2026-11-25 14:59:59", True),
        ("2026-11-25 15:00:00", False),
        ("2026-12-24 10:00:00", False),  # julaftan: closed all day
        ("2026-12-25 10:00:00", False),  # a public holiday
    ],
)
def test_visits_are_in_opening_hours_by_the_scheduled_hours(
    projector: Projector, joined: str, inside: bool
) -> None:
    call = Call(at=oslo(joined)).start()
    call.join("main")
    (visit,) = project(projector, call).visits
    assert visit.in_opening_hours is inside


def test_closed_now_does_not_rewrite_past_visits() -> None:
    # The override closes the line now; re-projecting an older call meanwhile must not move
    # its visits out of opening hours.
    config = parse_config(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    calendar = config.calendar.model_copy(
        update={"closed_now": config.calendar.closed_now.model_copy(update={"active": True})}
    )
    overridden = Projector(config.model_copy(update={"calendar": calendar}))
    call = Call(at=oslo("2026-11-25 10:00:00")).start()
    call.join("main")
    (visit,) = project(overridden, call).visits
    assert visit.in_opening_hours


def test_a_call_moves_forward_from_active_to_ended(projector: Projector) -> None:
    call = Call(at=oslo("2026-11-25 10:00:00")).start().choose("switchboard", key="0")
    assert project(projector, call).call.state == "active"
    call.end(status="unresolved", key="rest", after=3600)  # the sweep gave up on it
    unresolved = project(projector, call).call
    assert (unresolved.state, unresolved.status) == ("unresolved", "unresolved")
    call.end(status="completed", key="0", after=60)  # ...and then Twilio's own end came in
    ended = project(projector, call).call
    assert (ended.state, ended.status) == ("ended", "completed")


@pytest.mark.parametrize(
    ("scene", "got"),
    [
        ("sms", "sms"),
        ("callback", "callback"),
        ("open_department", "department"),
        ("on_call", "on_call"),
        ("nothing", "hung_up"),
        ("still_in_menu", None),
    ],
)
def test_after_hours_calls_say_what_they_got(
    projector: Projector, scene: str, got: str | None
) -> None:
    call = Call(at=oslo("2026-11-25 08:30:00")).start(switchboard_open=False)
    if scene == "sms":
        call.choose("sms", menu="closed", key="7").sms().end()
    elif scene == "callback":
        call.choose("callback", menu="closed", key="8").callback()
        call.end()
    elif scene == "open_department":
        call.choose("department:helse_omsorg", menu="closed", key="3")
        call.transfer("helse_omsorg", outcome="connected")
        call.end()
    elif scene == "on_call":
        call.choose("department:vatn_veg", menu="closed", key="5").end(after=120)
    elif scene == "nothing":
        call.end(after=20)
    projection = project(projector, call)
    assert projection.call.switchboard_open is False
    assert projection.call.after_hours_result == got


def test_open_calls_have_no_after_hours_result(projector: Projector) -> None:
    call = Call(at=oslo("2026-11-25 10:00:00")).start().end(after=20)
    assert project(projector, call).call.after_hours_result is None


@pytest.mark.parametrize(
    ("instant", "day", "hour", "weekday"),
    [
        (datetime.fromisoformat("2026-03-29T01:30:00+00:00"), date(2026, 3, 29), 3, 6),
        (datetime.fromisoformat("2026-10-25T00:30:00+00:00"), date(2026, 10, 25), 2, 6),
        (datetime.fromisoformat("2026-11-24T23:30:00+00:00"), date(2026, 11, 25), 0, 2),
    ],
)
def test_buckets_are_oslo_days_and_hours(
    projector: Projector, instant: datetime, day: date, hour: int, weekday: int
) -> None:
    call = Call(at=instant).start()
    row = project(projector, call).call
    assert (row.day_local, row.hour_local, row.weekday_local) == (day, hour, weekday)


def test_time_in_the_menus_ends_at_the_first_queue_or_transfer(projector: Projector) -> None:
    call = Call(at=oslo("2026-11-25 10:00:00")).start().choose("switchboard", key="0", after=25)
    call.join("main")
    assert project(projector, call).call.ivr_seconds == 25.0
    hung_up = Call(at=oslo("2026-11-25 10:00:00")).start().end(after=14)
    assert project(projector, hung_up).call.ivr_seconds == 14.0


def test_odd_event_data_does_not_stop_the_projection(projector: Projector) -> None:
    call = Call(at=oslo("2026-11-25 10:00:00"))
    call.add("call_started", f"{call.sid}:started", from_kind="mobile")
    call.add("queue_joined", f"{call.sid}:2:enqueue", after=5)
    call.add("transfer_result", f"{call.sid}:3:result", after=5, transfer_id="T1", outcome=7)
    call.add("queue_answered", f"{call.sid}:QU:CA:answered", after=5, queue_time_seconds="x")
    projection = project(projector, call)
    assert projection.call.caller is None
    assert projection.call.switchboard_open is None
    assert projection.transfers == ()  # no department: nothing to count it under yet
    (visit,) = projection.visits
    assert (visit.visit_id, visit.queue, visit.ended) == (
        f"{call.sid}:2:enqueue",
        "main",
        "answered",
    )


def moved_scene(ending: str) -> tuple[Call, str]:
    """A returned caller waits 40 s; an agent takes them out of order (the member is moved to
    the agent's queue, ivr/handover.py); then the agent answers, or the caller hangs up."""
    call = Call(at=oslo("2026-11-25 10:00:00")).start().choose("department:byggesak")
    transfer = call.transfer("byggesak", outcome="busy", ring=5)
    visit = call.join("returns", bounced_from=transfer)
    call.left(visit, result="redirected", after=40, waited=40, queue="returns")  # the move
    call.add("queue_moved", f"{call.sid}:99:moved", queue="returns", visit=visit, agent="kari")
    if ending == "answered":
        call.add(
            "queue_answered",
            f"{call.sid}:QUagent:CAkari:answered",
            after=4,
            queue="returns",
            queue_time_seconds=3,  # Twilio's QueueTime restarts in the agent's queue
            agent_call_sid="CAkari",
            visit=visit,
        )
        call.left(visit, result="bridged", after=120, waited=3, queue="returns")
    else:
        call.left(visit, result="hangup", after=10, waited=10, queue="returns")
    return call.end(), visit


# The wait adds up Twilio's QueueTimes: 40 s in the returns queue, then 3 s (answered) or 10 s
# (hung up) in the agent's queue.
@pytest.mark.parametrize(("ending", "wait"), [("answered", 43.0), ("abandoned", 50.0)])
def test_a_visit_moved_to_an_agents_queue_is_one_visit_counted_from_its_join(
    projector: Projector, ending: str, wait: float
) -> None:
    call, visit_id = moved_scene(ending)
    for events in (call.events, list(reversed(call.events)), strided(call.events, 3)):
        (visit,) = project(projector, call, events).visits
        assert (visit.visit_id, visit.queue, visit.ended) == (visit_id, "returns", ending)
        assert visit.wait_seconds == wait  # never "redirected", and not the 3 s QueueTime
