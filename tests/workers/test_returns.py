"""Returns across calls: hand-back and recall, matched among whole calls (pure)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from switchboard.pseudonym import caller_pseudonym
from switchboard.settings import DEFAULT_CONFIG
from tests.fixtures.calls import Call, oslo
from workers.projection import CallProjection, Projector
from workers.records import load_projector
from workers.returns import CallFacts, ReturnRow, TransferFacts

MORNING = oslo("2026-11-25 10:00:00")


@pytest.fixture(scope="module")
def projector() -> Projector:
    return load_projector(DEFAULT_CONFIG)


def projected(projector: Projector, *calls: Call) -> list[CallProjection]:
    projections = [projector.project_call(call.sid, call.events) for call in calls]
    assert all(p is not None for p in projections)
    return [p for p in projections if p is not None]


def returns(projector: Projector, *calls: Call) -> list[ReturnRow]:
    """Each call projected on its own, then the returns matched among them all."""
    projections = projected(projector, *calls)
    facts = [
        CallFacts(
            call_sid=p.call.call_sid,
            caller=p.call.caller,
            started_at=p.call.started_at,
            from_department=p.call.from_department,
        )
        for p in projections
    ]
    transfers = [
        TransferFacts(
            transfer_id=t.transfer_id,
            call_sid=t.call_sid,
            caller=t.caller,
            department=t.department,
            initiator=t.initiator,
            started_at=t.started_at,
            ended_at=t.ended_at,
            outcome=t.outcome,
            call_ended_at=p.call.ended_at,
            accepted_at=t.whisper_accepted_at,
        )
        for p in projections
        for t in p.transfers
    ]
    return projector.match_returns(calls=facts, transfers=transfers)


def connected_call(
    *,
    caller: str = "caller-a",
    at: datetime = MORNING,
    talk: float = 60.0,
    result: bool = True,
    department: str = "helse_omsorg",
) -> tuple[Call, str]:
    call = Call(at=at, caller=caller).start().choose(f"department:{department}")
    transfer = call.transfer(department, outcome="connected", talk=talk, result=result)
    if result:
        call.end()
    return call, transfer


def later_call(*, caller: str, at: datetime, from_department: str | None = None) -> Call:
    return Call(at=at, caller=caller).start(from_department=from_department).end(after=30)


def test_hand_back_from_a_department_while_the_first_leg_is_connected(
    projector: Projector,
) -> None:
    # Helse's PBX sends the caller back: a new call from Helse's number, two minutes into the
    # conversation. The first leg's result arrives only when that leg ends.
    first, transfer = connected_call(talk=600, result=False)
    back = later_call(
        caller="helse-pbx", at=MORNING + timedelta(minutes=3), from_department="helse_omsorg"
    )
    assert returns(projector, first, back) == []  # outcome pending: never guessed

    first.add(
        "transfer_result",
        f"dial:DL{transfer}",
        after=600,
        transfer_id=transfer,
        department="helse_omsorg",
        initiator="ivr",
        outcome="connected",
        bridged=True,
        redirected=False,
    )
    (found,) = returns(projector, first, back)
    assert (found.kind, found.transfer_id, found.call_sid) == ("hand_back", transfer, back.sid)
    assert (found.transfer_call_sid, found.department, found.initiator) == (
        first.sid,
        "helse_omsorg",
        "ivr",
    )
    assert found.detected_at == back.events[0].at


def test_hand_back_by_the_caller_while_still_connected(projector: Projector) -> None:
    first, transfer = connected_call(talk=600)
    back = later_call(caller="caller-a", at=MORNING + timedelta(minutes=4))
    (found,) = returns(projector, first, back)
    assert (found.kind, found.transfer_id, found.call_sid) == ("hand_back", transfer, back.sid)


@pytest.mark.parametrize(
    ("after_the_end", "kind"),
    [
        (timedelta(seconds=1), "recall"),
        (timedelta(hours=23, minutes=59), "recall"),
        (timedelta(hours=24), "recall"),
        (timedelta(hours=24, seconds=1), None),
    ],
)
def test_recall_window_counts_from_the_end_of_the_transfer(
    projector: Projector, after_the_end: timedelta, kind: str | None
) -> None:
    first, transfer = connected_call(talk=60)
    (result,) = [e for e in first.events if e.kind == "transfer_result"]
    again = later_call(caller="caller-a", at=result.at + after_the_end)
    found = returns(projector, first, again)
    assert [(r.kind, r.transfer_id) for r in found] == ([(kind, transfer)] if kind else [])


def test_another_callers_call_is_no_recall(projector: Projector) -> None:
    first, _transfer = connected_call()
    other = later_call(caller="caller-b", at=MORNING + timedelta(hours=1))
    assert returns(projector, first, other) == []


def test_hand_back_takes_precedence_over_recall(projector: Projector) -> None:
    # Skatt's conversation ended an hour ago; Helse's, in the call after it, is still going.
    earlier, skatt = connected_call(at=MORNING - timedelta(hours=1), department="skatt_gebyr")
    ongoing, helse = connected_call(at=MORNING, talk=900)
    back = later_call(caller="caller-a", at=MORNING + timedelta(minutes=5))
    found = returns(projector, earlier, ongoing, back)
    assert [(r.kind, r.transfer_id, r.call_sid) for r in found] == [
        ("recall", skatt, ongoing.sid),  # calling again after Skatt: a recall of Skatt
        ("hand_back", helse, back.sid),  # Helse still connected: a hand-back, not a recall
    ]


def test_a_transfer_returns_once_to_the_first_call_back(projector: Projector) -> None:
    first, transfer = connected_call()
    again = later_call(caller="caller-a", at=MORNING + timedelta(hours=1))
    and_again = later_call(caller="caller-a", at=MORNING + timedelta(hours=2))
    found = returns(projector, and_again, first, again)
    assert [(r.transfer_id, r.call_sid, r.kind) for r in found] == [(transfer, again.sid, "recall")]


def test_each_call_back_returns_the_transfer_that_ended_last(projector: Projector) -> None:
    first, helse = connected_call(at=MORNING, department="helse_omsorg")
    second, nav = connected_call(at=MORNING + timedelta(minutes=30), department="nav")
    again = later_call(caller="caller-a", at=MORNING + timedelta(hours=1))
    and_again = later_call(caller="caller-a", at=MORNING + timedelta(hours=2))
    found = returns(projector, first, second, again, and_again)
    # The second call came back from Helse and went on to NAV; the third came back from NAV,
    # the conversation that ended last; so would the fourth, but NAV has returned already.
    assert [(r.transfer_id, r.call_sid) for r in found] == [(helse, second.sid), (nav, again.sid)]


def test_a_bounced_transfer_is_no_recall(projector: Projector) -> None:
    call = Call(at=MORNING).start().choose("department:nav")
    call.transfer("nav", outcome="no_answer")
    call.end()
    again = later_call(caller="caller-a", at=MORNING + timedelta(hours=1))
    assert returns(projector, call, again) == []  # its return is the bounce, in its own call


def test_matching_does_not_depend_on_input_order(projector: Projector) -> None:
    first, _ = connected_call(talk=600)
    hand_back = later_call(caller="caller-a", at=MORNING + timedelta(minutes=4))
    second, _ = connected_call(caller="caller-b", at=MORNING + timedelta(minutes=1))
    recall = later_call(caller="caller-b", at=MORNING + timedelta(hours=3))
    calls = [first, hand_back, second, recall]
    expected = returns(projector, *calls)
    assert len(expected) == 2
    assert returns(projector, *reversed(calls)) == expected
    assert returns(projector, recall, first, hand_back, second) == expected


def test_a_department_hands_back_a_caller_it_is_talking_to(projector: Projector) -> None:
    # Helse finished with the first caller a minute before its call back came in, is still
    # talking to the second, and has not yet picked up the third (it rings until 10:02:20).
    finished, _ = connected_call(caller="caller-a", at=MORNING, talk=60)
    talking, second = connected_call(
        caller="caller-b", at=MORNING + timedelta(seconds=30), talk=900
    )
    ringing, _ = connected_call(caller="caller-c", at=MORNING + timedelta(minutes=2), talk=600)
    back = later_call(
        caller="helse-pbx",
        at=MORNING + timedelta(minutes=2, seconds=15),
        from_department="helse_omsorg",
    )
    (found,) = returns(projector, finished, talking, ringing, back)
    assert (found.kind, found.transfer_id, found.call_sid) == ("hand_back", second, back.sid)


def test_a_second_hand_back_for_the_same_transfer_adds_no_return(projector: Projector) -> None:
    # Helse talks with both callers when it calls twice: both calls identify the caller it
    # connected with last; a transfer returns once, to the first call back.
    first, _one = connected_call(caller="caller-a", at=MORNING, talk=900)
    second, other = connected_call(caller="caller-b", at=MORNING + timedelta(minutes=1), talk=900)
    backs = [
        later_call(
            caller="helse-pbx", at=MORNING + timedelta(minutes=m), from_department="helse_omsorg"
        )
        for m in (5, 6)
    ]
    found = returns(projector, first, second, *backs)
    assert [(r.transfer_id, r.call_sid) for r in found] == [(other, backs[0].sid)]


def test_after_the_conversations_a_department_hands_back_the_one_that_ended_last(
    projector: Projector,
) -> None:
    # Helse took caller A first and talked longer; B started later but ended first. Once both
    # have ended, the hand-back is of the conversation that ended most recently: A's.
    first, one = connected_call(caller="caller-a", at=MORNING, talk=300)
    second, _other = connected_call(caller="caller-b", at=MORNING + timedelta(minutes=1), talk=60)
    back = later_call(
        caller="helse-pbx", at=MORNING + timedelta(minutes=10), from_department="helse_omsorg"
    )
    (found,) = returns(projector, first, second, back)
    assert (found.kind, found.transfer_id, found.call_sid) == ("hand_back", one, back.sid)


@pytest.mark.parametrize(
    ("after_the_end", "returned"),
    [(timedelta(hours=23, minutes=59), True), (timedelta(hours=24, seconds=1), False)],
)
def test_a_hand_back_after_the_conversation_is_within_the_window_from_its_end(
    projector: Projector, after_the_end: timedelta, returned: bool
) -> None:
    first, transfer = connected_call(talk=600)
    (result,) = [e for e in first.events if e.kind == "transfer_result"]
    back = later_call(
        caller="helse-pbx", at=result.at + after_the_end, from_department="helse_omsorg"
    )
    found = returns(projector, first, back)
    assert [(r.kind, r.transfer_id) for r in found] == (
        [("hand_back", transfer)] if returned else []
    )


def test_two_callers_with_withheld_numbers_are_not_one_caller() -> None:
    projector = load_projector(DEFAULT_CONFIG, caller_key="test-key")
    withheld = caller_pseudonym("anonymous", key="test-key")
    first, _ = connected_call(caller=withheld)
    stranger = later_call(caller=withheld, at=MORNING + timedelta(hours=1))
    assert returns(projector, first, stranger) == []
    # The same two calls from a number that says who calls: a recall.
    known = caller_pseudonym("+4791234567", key="test-key")
    first, transfer = connected_call(caller=known)
    again = later_call(caller=known, at=MORNING + timedelta(hours=1))
    assert [(r.kind, r.transfer_id) for r in returns(projector, first, again)] == [
        ("recall", transfer)
    ]
