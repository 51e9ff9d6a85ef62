"""The switchboard queues, callbacks from the queue and the fallback (agents: test_agent.py)."""

from __future__ import annotations

import pytest

from ivr import contact, queue
from ivr.call import LiveView, QueueJoin, QueueLeave, SetLeaveReason
from ivr.fallback import error_reply, fallback_twiml
from ivr.phrases import describe_days
from tests.ivr.flowkit import MOBILE, assert_snapshot, make_context, make_turn, spoken

VISIT = "CA" + "1" * 32 + ".3"


@pytest.fixture
def ctx(alver):
    return make_context(alver)


def _wait(ctx, at="2026-11-25T11:00", *, q="main", live=None, **params):
    turn = make_turn(at, live=live, **params)
    return queue.wait(ctx, turn, queue=q, visit=VISIT)


def test_wait_announces_position_and_expected_wait_and_offers_callback(ctx):
    reply = _wait(ctx, QueuePosition="3", QueueTime="40")
    assert_snapshot("queue_wait_nn", reply)
    text = spoken(reply)
    assert "Du er nummer 3 i køen." in text
    assert "Ventetida er om lag 5 minutt." in text  # 3 x 90 s, rounded up
    assert "Trykk 1 om du heller vil at vi ringjer deg opp." in text
    assert reply.changes == [QueueJoin(queue="main", call_sid="CA" + "1" * 32)]


def test_returned_callers_count_ahead_of_the_main_queue(ctx):
    reply = _wait(ctx, QueuePosition="1", live=LiveView(returns_waiting=2))
    assert "Du er nummer 3 i køen." in spoken(reply)


def test_overflow_after_max_wait_offers_callback_or_sms(ctx):
    text = spoken(_wait(ctx, QueuePosition="2", QueueTime="301"))
    assert "Det er lang ventetid no. Trykk 1 for å bli ringt opp, eller 2" in text


def test_callers_queued_at_closing_are_served_through_the_grace_period(ctx):
    assert "Du er nummer" in spoken(_wait(ctx, "2026-11-25T15:09", QueuePosition="1"))
    late = _wait(ctx, "2026-11-25T15:10", QueuePosition="1")
    assert "Sentralbordet har stengt for i dag" in spoken(late)
    assert "i morgon klokka ni" in spoken(late)
    assert SetLeaveReason(call_sid="CA" + "1" * 32, reason="closing") in late.changes
    assert late.xml().index("</Gather>") < late.xml().index("<Leave")


def test_callback_from_the_queue_for_a_mobile_confirms_and_hangs_up(ctx):
    reply = queue.choice(ctx, make_turn("2026-11-25T11:00", Digits="1"), queue="main", visit=VISIT)
    event = reply.events[0]
    assert event.kind == "callback_requested"
    assert event.data["number"] == MOBILE
    assert event.data["due_at"] is None  # open now: as soon as an agent is free
    assert "sluttar på 4 5 6 7, så snart ein medarbeidar er ledig" in spoken(reply)
    assert "<Hangup" in reply.xml()


def test_callback_from_the_queue_for_an_anonymous_caller_leaves_to_key_in_a_number(ctx):
    turn = make_turn("2026-11-25T11:00", caller="anonymous", Digits="1")
    reply = queue.choice(ctx, turn, queue="main", visit=VISIT)
    assert reply.xml().endswith("<Leave /></Response>")
    assert SetLeaveReason(call_sid="CA" + "1" * 32, reason="callback_number") in reply.changes
    done_turn = make_turn(
        "2026-11-25T11:01",
        caller="anonymous",
        step=4,
        live=LiveView(leave_reason="callback_number"),
        QueueResult="leave",
        QueueTime="60",
    )
    done = queue.done(ctx, done_turn, queue="main", visit=VISIT)
    assert done.events[0].data["result"] == "leave"
    assert QueueLeave(queue="main", call_sid="CA" + "1" * 32) in done.changes
    assert "Tast inn telefonnummeret" in spoken(done)


def test_keyed_number_is_read_back_then_confirmed(ctx):
    typed = contact.handle_number(
        ctx, make_turn("2026-11-25T11:01", caller="anonymous", Digits="55123456")
    )
    assert "Du tasta 5 5 1 2, 3 4 5 6." in spoken(typed)
    assert "number=%2B4755123456" in typed.xml()
    confirmed = contact.handle_confirm(
        ctx, make_turn("2026-11-25T11:01", caller="anonymous", Digits="1", number="+4755123456")
    )
    assert confirmed.events[0].data["number"] == "+4755123456"
    assert confirmed.events[0].data["keyed"] is True
    assert "<Hangup" in confirmed.xml()


def test_invalid_keyed_number_retries_once_then_says_goodbye(ctx):
    first = contact.handle_number(
        ctx, make_turn("2026-11-25T11:01", caller="anonymous", Digits="123")
    )
    assert "ikkje eit gyldig norsk telefonnummer" in spoken(first)
    assert "n=1" in first.xml()
    second = contact.handle_number(
        ctx, make_turn("2026-11-25T11:01", caller="anonymous", Digits="123", n="1")
    )
    assert "<Hangup" in second.xml()
    assert second.events == []


def test_sms_from_the_queue_keeps_the_place(ctx):
    reply = queue.choice(ctx, make_turn("2026-11-25T11:00", Digits="2"), queue="main", visit=VISIT)
    assert reply.events[0].kind == "sms_requested"
    assert "Du held plassen din i køen." in spoken(reply)
    assert "<Hangup" not in reply.xml()


def test_sms_is_refused_for_a_landline(ctx):
    reply = queue.choice(
        ctx,
        make_turn("2026-11-25T11:00", caller="+4756123456", Digits="2"),
        queue="main",
        visit=VISIT,
    )
    assert reply.events == []
    assert "berre sende tekstmeldingar til norske mobilnummer" in spoken(reply)


def test_queue_url_marks_the_caller_answered_with_queue_time(ctx):
    turn = make_turn(
        "2026-11-25T11:02",
        QueueSid="QU" + "3" * 32,
        QueueTime="17",
        DequeingCallSid="CA" + "4" * 32,
    )
    reply = queue.answered(ctx, turn, queue="returns")
    assert reply.events[0].kind == "queue_answered"
    assert reply.events[0].data["queue_time_seconds"] == 17
    assert QueueLeave(queue="returns", call_sid="CA" + "1" * 32) in reply.changes


def test_fallback_is_static_norwegian_and_dials_the_backup_desk(alver):
    xml = fallback_twiml(alver)
    assert "Orsak, vi har eit teknisk problem." in xml
    assert f">{alver.switchboard.fallback_number}</Number>" in xml
    assert "116 117" in xml
    assert xml == fallback_twiml(alver)


def test_error_reply_queues_when_open_and_gives_closed_path_when_closed(ctx):
    open_xml, open_events = error_reply(ctx, make_turn("2026-11-25T11:00"))
    assert ">sentralbord</Enqueue>" in open_xml
    assert [e.kind for e in open_events] == ["queue_joined"]
    closed_xml, _ = error_reply(ctx, make_turn("2026-11-25T20:00"))
    assert "<Enqueue" not in closed_xml
    assert "113" in closed_xml


def test_the_caller_hears_how_long_the_number_is_kept(alver):
    turn = make_turn("2026-11-25T11:00", Digits="1")
    reply = queue.choice(make_context(alver), turn, queue="main", visit=VISIT)
    assert (
        "så snart ein medarbeidar er ledig. Vi lagrar nummeret ditt til vi har ringt deg, "
        "og slettar det sju dagar etter. Du kan leggje på no." in spoken(reply)
    )
    longer = make_context(alver, retain_callback_days=30)
    reply = queue.choice(longer, turn, queue="main", visit=VISIT)
    assert "og slettar det 30 dagar etter." in spoken(reply)


@pytest.mark.parametrize(
    ("days", "language", "said"),
    [
        (1, "nn", "ein dag"),
        (7, "nb", "sju dager"),
        (12, "en", "twelve days"),
        (14, "nn", "14 dagar"),
    ],
)
def test_retention_days_are_spoken_as_words_up_to_twelve(days, language, said):
    assert describe_days(days, language=language) == said
