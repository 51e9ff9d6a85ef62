"""Whole calls across the switchboard's 09:00 opening and 15:00 closing, played by the Twilio
simulator against the real app with signed requests: each webhook judges opening at its own
instant, an answer to the open menu keeps its meaning for `menu_grace_seconds`, and a bounce
after closing gets the queue's closing grace."""

from __future__ import annotations

from dataclasses import replace

from sim.twilio import Department, press, silence
from tests.switchboard.test_calls import MOBILE, events, service, simulate

__all__ = ["service"]  # the fixture, shared with test_calls


def test_silent_caller_at_08_59_30_is_queued_after_nine_and_never_hung_up(service, redis_client):
    sim = simulate(service, "2026-11-25T08:59:30")
    call = sim.place_call(
        from_=MOBILE, to="+4756375000", script=[silence(), silence(), silence(), silence()]
    )
    sim.run()
    text = call.transcript_text()
    assert "Sentralbordet er stengt no. Vi opnar att i dag klokka ni." in text
    assert "ENQUEUE sentralbord" in text
    assert "Takk for at du ringde" not in text.split("ENQUEUE", 1)[0]
    joined = [e for e in events(redis_client, call.sid) if e["kind"] == "queue_joined"]
    assert [e["data"]["queue"] for e in joined] == ["main"]


def test_key_pressed_at_15_00_05_keeps_its_open_menu_meaning(service, redis_client):
    sim = simulate(service, "2026-11-25T14:59:50")
    call = sim.place_call(from_=MOBILE, to="+4756375000", script=[press("2")])
    sim.run()
    text = call.transcript_text()
    assert "For barnehage og skule, trykk 2." in text
    assert "Du blir sett over til barnehage og skule." in text
    assert "CONNECTED with +4756375102" in text
    assert "ugyldig" not in text
    choice = next(e for e in events(redis_client, call.sid) if e["kind"] == "menu_choice")
    assert choice["data"]["menu"] == "open"
    assert choice["data"]["target"] == "department:barnehage_skule"
    assert choice["data"]["late"] is True


def test_key_pressed_at_15_01_30_hears_just_closed_and_the_closed_options(service, redis_client):
    sim = simulate(service, "2026-11-25T14:59:50")
    # The caller thinks long: the open menu ends at about 15:00:08, the key comes at 15:01:30.
    sim.timing = replace(sim.timing, think_seconds=82.0)
    call = sim.place_call(from_=MOBILE, to="+4756375000", script=[press("2"), silence()])
    sim.run()
    text = call.transcript_text()
    after_key = text.split("CALLER presses 2", 1)[1]
    assert after_key.lstrip().startswith("IVR  (nb-NO): Sentralbordet stengde no nettopp.")
    assert "Sentralbordet er stengt no. Vi opnar att i morgon klokka ni." in after_key
    assert "ugyldig" not in text
    assert "DIAL" not in text
    started = [e["at"] for e in events(redis_client, call.sid) if e["kind"] == "menu_choice"]
    assert started[0].startswith("2026-11-25T14:01:3")  # UTC


def test_bounce_within_the_closing_grace_joins_the_returns_queue(service, redis_client):
    sim = simulate(
        service, "2026-11-25T14:59:30", departments={"+4756375103": Department.no_answer()}
    )
    call = sim.place_call(from_=MOBILE, to="+4756375000", script=[press("3")])
    sim.run()
    text = call.transcript_text()
    assert "Vi fekk dessverre ikkje svar hjå helse og omsorg." in text
    assert "du står først i køen" in text
    assert "ENQUEUE sentralbord-retur" in text
    result = next(e for e in events(redis_client, call.sid) if e["kind"] == "transfer_result")
    assert result["data"]["next"] == "queue"


# After the grace: test_calls.py, test_bounce_after_the_switchboard_closed_gets_the_closed_flow.
