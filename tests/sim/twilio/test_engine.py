"""The engine: many calls on one virtual clock, reproducible runs, REST control, safety nets."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from sim.twilio import Department, SimulationError, Timing, press

from .conftest import CALLER, MAIN, PUBLIC, START, twiml

MENU = twiml('<Gather numDigits="1" action="/menu"><Say>Trykk</Say></Gather>')
DEPT = "+4756375101"


def at(seconds: float) -> datetime:
    return START + timedelta(seconds=seconds)


def test_calls_progress_concurrently_on_one_clock(server, make_sim):
    """Calls interleave on the virtual clock: B is answered before A has chosen."""
    server.on("/voice", MENU)
    server.on("/menu", twiml("<Hangup/>"))
    sim = make_sim()
    a = sim.place_call(from_=CALLER, to=MAIN, script=[press("1")])
    b = sim.place_call(from_="+4790000002", to=MAIN, script=[press("2")], at=at(1))
    sim.run()

    fetches = [r for r in server.received if r.path != "/status"]
    assert [(r.form["CallSid"], r.path, r.headers["x-simulated-time"]) for r in fetches] == [
        (a.sid, "/voice", at(0).isoformat()),
        (b.sid, "/voice", at(1).isoformat()),
        (a.sid, "/menu", at(2).isoformat()),
        (b.sid, "/menu", at(3).isoformat()),
    ]
    assert sim.now == at(3)


def test_the_same_seed_replays_the_same_calls(server, make_sim):
    """SIDs come from the seed, so a run can be reproduced exactly."""
    server.on("/voice", MENU)
    server.on("/menu", twiml("<Hangup/>"))
    sids = []
    for seed in (1, 1, 2):
        sim = make_sim(seed=seed)
        sids.append(sim.place_call(from_=CALLER, to=MAIN, script=[press("1")]).sid)
        sim.run()
    assert sids[0] == sids[1] != sids[2]


def test_run_until_stops_at_an_instant_and_run_resumes(server, make_sim):
    server.on("/voice", MENU)
    server.on("/menu", twiml("<Hangup/>"))
    sim = make_sim()
    call = sim.place_call(from_=CALLER, to=MAIN, script=[press("1")])

    sim.run_until(at(1.5))
    assert sim.now == at(1.5)
    assert not call.ended
    assert server.to("/menu") == []

    sim.run()
    assert call.ended
    assert len(server.to("/menu")) == 1


def test_transcript_text_can_show_times_and_requests(server, make_sim):
    server.on("/voice", MENU)
    server.on("/menu", twiml('<Say language="nb-NO">Du valde byggesak</Say>'))
    server.on("/status", None)
    sim = make_sim()
    call = sim.place_call(from_=CALLER, to=MAIN, script=[press("1")])
    sim.run()

    assert call.transcript_text(times=True, requests=True).splitlines() == [
        f"[00:00.0] → POST {PUBLIC}/voice [voice] 200",
        "[00:00.0] IVR  (en-US): Trykk",
        "[00:02.0] CALLER presses 1",
        f"[00:02.0] → POST {PUBLIC}/menu [gather-action] 200",
        "[00:02.0] IVR  (nb-NO): Du valde byggesak",
        "[00:03.2] IVR hangs up",
        "[00:03.2] CALL ENDS completed after 3 s",
        f"[00:03.2] → POST {PUBLIC}/status [status-callback] 204",
    ]


def test_twiml_that_loops_without_waiting_is_an_error(server, make_sim):
    """A Redirect loop never lets time pass; the simulator stops it instead of spinning."""
    server.on("/voice", twiml("<Redirect>/voice</Redirect>"))
    sim = make_sim(timing=Timing(max_requests_per_call=50))
    sim.place_call(from_=CALLER, to=MAIN)

    with pytest.raises(SimulationError, match="50 requests"):
        sim.run()


def test_a_caller_gives_up_after_max_call_seconds(server, make_sim):
    """A safety net: a caller nobody serves hangs up, with QueueResult=hangup (docs/twilio.md,
    Queues)."""
    server.on("/voice", twiml('<Enqueue action="/enqueue-done">sentralbord</Enqueue>'))
    server.on("/enqueue-done", twiml("<Say>Aldri</Say>"))
    sim = make_sim(timing=Timing(max_call_seconds=600))
    call = sim.place_call(from_=CALLER, to=MAIN)
    sim.run()

    (action,) = server.to("/enqueue-done")
    assert (action.form["QueueResult"], action.form["QueueTime"]) == ("hangup", "600")
    assert call.transcript_text().splitlines() == [
        "ENQUEUE sentralbord (position 1)",
        "NOTE waits in queue sentralbord with Twilio's default hold music",
        "NOTE the caller gives up (max_call_seconds)",
        "CALLER hangs up",
        "QUEUE sentralbord → hangup (waited 600 s)",
        "CALL ENDS completed after 600 s",
    ]


def test_rest_redirect_moves_a_call_to_new_twiml(server, make_sim):
    """A call updated with a URL stops what it does and runs the new TwiML."""
    server.on("/voice", twiml('<Pause length="60"/>', "<Say>Aldri</Say>"))
    server.on("/moved", twiml("<Say>Flytta</Say>"))
    sim = make_sim()
    call = sim.place_call(from_=CALLER, to=MAIN)
    sim.at(at(10), lambda: sim.redirect_call(call.sid, f"{PUBLIC}/moved"))
    sim.run()

    (moved,) = server.to("/moved")
    assert moved.headers["x-simulated-time"] == at(10).isoformat()
    assert "Aldri" not in call.transcript_text()
    assert "IVR  (en-US): Flytta" in call.transcript_text()


def test_rest_redirect_during_dial_requests_the_action_and_ignores_it(server, make_sim):
    """The Dial action is still requested, its TwiML ignored; the bridge ends."""
    server.on("/voice", twiml(f'<Dial action="/dial-done">{DEPT}</Dial>'))
    server.on("/dial-done", twiml("<Say>Ignorert</Say>"))
    server.on("/moved", twiml("<Say>Tilbake hos sentralbordet</Say>"))
    sim = make_sim(departments={DEPT: Department.answers(ring_seconds=2, talk_seconds=300)})
    call = sim.place_call(from_=CALLER, to=MAIN)
    sim.at(at(30), lambda: sim.redirect_call(call.sid, f"{PUBLIC}/moved"))
    sim.run()

    (action,) = server.to("/dial-done")
    assert (action.form["DialCallStatus"], action.form["DialBridged"]) == ("completed", "true")
    assert action.form["DialCallDuration"] == "28"
    assert "Ignorert" not in call.transcript_text()
    assert "IVR  (en-US): Tilbake hos sentralbordet" in call.transcript_text()
    assert call.children[0].status == "completed"


def test_rest_hang_up_ends_the_call(server, make_sim):
    server.on("/voice", twiml('<Pause length="60"/>'))
    server.on("/status", None)
    sim = make_sim()
    call = sim.place_call(from_=CALLER, to=MAIN)
    sim.at(at(5), lambda: sim.hang_up_call(call.sid))
    sim.run()

    assert call.transcript_text().splitlines()[-2:] == [
        "API hangs up",
        "CALL ENDS completed after 5 s",
    ]
    assert server.to("/status")[0].form["CallDuration"] == "5"
