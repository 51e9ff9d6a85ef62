"""Transfers: the Dial with its whisper, the whisper itself, and the outcome of the Dial."""

from __future__ import annotations

import pytest

from ivr.call import LiveView, MarkAccepted
from ivr.transfer import transfer_outcome, transfer_result, whisper, whisper_answer
from tests.ivr.flowkit import assert_snapshot, make_context, make_turn, spoken

TID = "CA" + "1" * 32 + ".1"


@pytest.fixture
def ctx(alver):
    return make_context(alver)


def _result(ctx, alver, *, at="2026-11-25T11:00", accepted=None, returns=0, **params):
    live = LiveView(whisper_accepted=accepted, returns_waiting=returns)
    turn = make_turn(at, step=2, live=live, **params)
    return transfer_result(
        ctx, turn, department=alver.department("byggesak"), transfer_id=TID, initiator="ivr"
    )


def test_transfer_dial_snapshot_has_whisper_and_child_status_events(ctx):
    from ivr.menu import handle_open_menu

    reply = handle_open_menu(ctx, make_turn("2026-11-25T11:00", step=1, Digits="1"))
    assert_snapshot("transfer_byggesak_nn", reply)
    xml = reply.xml()
    assert "Du blir sett over til byggesak, plan og oppmåling." in spoken(reply)
    assert 'statusCallbackEvent="initiated ringing answered completed"' in xml
    assert "/twilio/whisper?t=" in xml
    assert [e.kind for e in reply.events] == ["menu_choice", "transfer_started"]
    assert reply.events[1].data["initiator"] == "ivr"


def test_whisper_gathers_then_declines_so_silence_never_bridges(ctx, alver):
    reply = whisper(
        ctx, make_turn("2026-11-25T11:00"), department=alver.department("nav"), transfer_id=TID
    )
    assert_snapshot("whisper_nn", reply)
    xml = reply.xml()
    assert xml.index("</Gather>") < xml.index("Samtalen går tilbake") < xml.index("<Hangup")
    assert "Trykk 1 for å ta imot samtalen" in spoken(reply)


def test_whisper_accept_records_the_transfer_and_lets_twilio_bridge(ctx):
    reply = whisper_answer(ctx, make_turn("2026-11-25T11:00", Digits="1"), transfer_id=TID)
    assert reply.changes == [MarkAccepted(transfer_id=TID)]
    assert [e.kind for e in reply.events] == ["whisper_accepted"]
    assert "<Hangup" not in reply.xml()


def test_whisper_other_key_declines(ctx):
    reply = whisper_answer(ctx, make_turn("2026-11-25T11:00", Digits="2"), transfer_id=TID)
    assert reply.changes == []
    assert "<Hangup" in reply.xml()


@pytest.mark.parametrize(
    ("dial_status", "bridged", "accepted", "gone", "outcome"),
    [
        ("completed", True, True, False, "connected"),
        ("completed", True, None, False, "connected"),  # whisper record unreadable
        ("completed", False, False, False, "declined"),  # voicemail or refused whisper
        ("completed", False, None, False, "declined"),
        ("no-answer", False, False, False, "no_answer"),
        ("busy", False, False, False, "busy"),
        ("failed", False, False, False, "failed"),
        ("no-answer", False, False, True, "caller_hung_up"),
        ("completed", True, True, True, "connected"),
    ],
)
def test_outcome_never_comes_from_dial_call_status_alone(
    dial_status, bridged, accepted, gone, outcome
):
    assert (
        transfer_outcome(
            dial_status=dial_status, bridged=bridged, accepted=accepted, caller_gone=gone
        )
        == outcome
    )


@pytest.mark.parametrize(
    ("status", "cause"),
    [("no-answer", "no_answer"), ("busy", "busy"), ("failed", "failed"), ("completed", "declined")],
)
def test_each_bounce_cause_tells_the_caller_and_queues_them_first(ctx, alver, status, cause):
    reply = _result(
        ctx,
        alver,
        DialCallStatus=status,
        DialBridged="false",
        DialCallSid="CA" + "2" * 32,
        CallStatus="in-progress",
    )
    result = reply.events[0]
    assert result.kind == "transfer_result"
    assert result.data["outcome"] == cause
    assert result.data["bounce"] is True
    assert result.data["next"] == "queue"
    assert result.dedupe_key == "dial:CA" + "2" * 32
    assert ">sentralbord-retur</Enqueue>" in reply.xml()
    assert "du står først i køen" in spoken(reply)
    assert reply.events[1].data["bounced_from"] == TID


@pytest.mark.parametrize(
    ("returns", "expected"),
    [
        (0, "og du står først i køen."),
        (2, "og du har forrang i køen."),
        (None, "og du har forrang i køen."),
    ],
)
def test_a_bounced_caller_hears_first_only_when_no_returned_caller_waits(
    ctx, alver, returns, expected
):
    reply = _result(ctx, alver, returns=returns, DialCallStatus="no-answer", DialBridged="false")
    text = spoken(reply)
    assert expected in text
    assert ("først" in text) == (returns == 0)


def test_connected_transfer_ends_the_call_quietly(ctx, alver):
    reply = _result(
        ctx,
        alver,
        accepted=True,
        DialCallStatus="completed",
        DialBridged="true",
        CallStatus="in-progress",
    )
    assert reply.events[0].data["outcome"] == "connected"
    assert "<Say" not in reply.xml()
    assert "<Enqueue" not in reply.xml()


@pytest.mark.parametrize("at", ["2026-11-25T15:00:05", "2026-11-25T15:09:59"])
def test_bounce_within_the_closing_grace_goes_to_the_returns_queue(ctx, alver, at):
    """Like a caller already in the queue at 15:00, served for closing_grace_seconds (600 s)."""
    reply = _result(
        ctx, alver, at=at, DialCallStatus="no-answer", DialBridged="false", CallStatus="in-progress"
    )
    assert reply.events[0].data["next"] == "queue"
    assert ">sentralbord-retur</Enqueue>" in reply.xml()
    assert "Sentralbordet er stengt" not in spoken(reply)


def test_bounce_after_the_closing_grace_gets_the_closed_flow(ctx, alver):
    reply = _result(
        ctx,
        alver,
        at="2026-11-25T15:10",
        DialCallStatus="no-answer",
        DialBridged="false",
        CallStatus="in-progress",
    )
    assert reply.events[0].data["next"] == "closed"
    assert "<Enqueue" not in reply.xml()
    assert "Sentralbordet er stengt" in spoken(reply)


def test_agent_redirect_is_not_a_bounce(ctx, alver):
    turn = make_turn(
        "2026-11-25T11:00",
        step=2,
        live=LiveView(whisper_accepted=False, redirected=True),
        DialCallStatus="completed",
        DialBridged="false",
    )
    reply = transfer_result(
        ctx, turn, department=alver.department("nav"), transfer_id=TID, initiator="agent"
    )
    assert reply.events[0].data["bounce"] is False
    assert "<Enqueue" not in reply.xml()


def test_loop_guard_sends_the_caller_to_a_person_after_two_automatic_transfers(ctx, alver):
    from ivr.menu import handle_open_menu

    first = handle_open_menu(ctx, make_turn("2026-11-25T11:00", step=1, Digits="2"))
    assert "x=1" in first.xml()  # the Dial action counts the transfer
    third = handle_open_menu(ctx, make_turn("2026-11-25T11:00", step=5, Digits="2", x="2"))
    assert "<Dial" not in third.xml()
    assert ">sentralbord-retur</Enqueue>" in third.xml()
    assert "x=2" in third.xml()


def test_a_late_status_callback_keeps_twilios_end_time(ctx):
    from ivr.status import call_status

    late = make_turn(
        "2026-11-25T11:00:10",
        CallStatus="completed",
        SequenceNumber="3",
        Timestamp="Wed, 25 Nov 2026 10:00:02 +0000",
    )
    event = call_status(ctx, late).events[0]
    assert event.at.isoformat() == "2026-11-25T10:00:02+00:00"  # 11:00:02 in Oslo
    garbled = call_status(ctx, make_turn("2026-11-25T11:00:10", Timestamp="yesterday"))
    assert garbled.events[0].at == late.at
