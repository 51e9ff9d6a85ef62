"""<Enqueue>, the waitUrl loop, <Leave>, and agents taking callers with <Dial><Queue>
(docs/twilio.md, Queues)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sim.twilio import Call, Timing, TwilioSimulator, hang_up_after, press, talk
from sim.twilio.scripts import Action

from .conftest import CALLER, MAIN, PUBLIC, START, TwimlServer, twiml

QUEUE = "sentralbord"
AGENT = "+4799900001"
CALLER_2 = "+4791111111"
AGENT_LINE = "+4756375099"


def at(seconds: float) -> datetime:
    return START + timedelta(seconds=seconds)


def serve_queue(
    server: TwimlServer,
    *,
    action: str | None = "/enqueue-done",
    wait: str = "/wait",
    timeout: int = 30,
) -> None:
    action_attr = f' action="{action}"' if action else ""
    server.on(
        "/voice",
        twiml(
            f'<Enqueue{action_attr} waitUrl="{wait}">{QUEUE}</Enqueue>',
            '<Say language="nb-NO">Etter køen</Say>',
        ),
    )
    server.on("/wait", twiml("<Play>/musikk.mp3</Play>"))
    server.on("/enqueue-done", twiml('<Say language="nb-NO">Takk for at du ringde</Say>'))
    server.on(
        "/agent",
        twiml(
            f'<Dial action="/agent-done" timeout="{timeout}">'
            f'<Queue url="/announce">{QUEUE}</Queue></Dial>'
        ),
    )
    server.on(
        "/announce", twiml('<Say language="nb-NO">Du blir no sett over til ein sakshandsamar</Say>')
    )
    server.on("/agent-done", twiml("<Say>Neste</Say>"))
    server.on("/status", None)


def start_agent(sim: TwilioSimulator, *, seconds: float, script: tuple[Action, ...] = ()) -> Call:
    return sim.start_call(
        from_=AGENT, to=AGENT_LINE, voice_url=f"{PUBLIC}/agent", script=script, at=at(seconds)
    )


def test_enqueue_waiturl_loops(server, make_sim):
    """The waitUrl is requested again each time it runs out, with the queue parameters."""
    serve_queue(server)
    sim = make_sim()
    call = sim.place_call(from_=CALLER, to=MAIN, script=[hang_up_after(35)])
    sim.run()

    waits = server.to("/wait")
    assert [w.headers["x-simulated-time"] for w in waits] == [
        at(s).isoformat() for s in (0, 10, 20, 30)
    ]
    assert [w.form["QueueTime"] for w in waits] == ["0", "10", "20", "30"]
    first = waits[0].form
    assert first["QueueSid"].startswith("QU")
    assert (first["QueuePosition"], first["CurrentQueueSize"]) == ("1", "1")
    assert (first["MaxQueueSize"], first["AvgQueueTime"]) == ("1000", "0")
    (action,) = server.to("/enqueue-done")
    assert (action.form["QueueResult"], action.form["QueueTime"]) == ("hangup", "35")
    assert action.form["CallStatus"] == "completed"
    assert "Takk for at du ringde" not in call.transcript_text()


def test_leave_fires_enqueue_action_with_leave(server, make_sim):
    """A Gather in the waitUrl posts its action; <Leave/> there ends the wait at once."""
    serve_queue(server)
    server.on(
        "/wait",
        twiml(
            '<Gather numDigits="1" action="/wait-choice">'
            "<Say>Trykk ein for å bli ringt opp</Say></Gather>"
        ),
    )
    server.on("/wait-choice", twiml("<Leave/>"))
    sim = make_sim()
    call = sim.place_call(from_=CALLER, to=MAIN, script=[press("1")])
    sim.run()

    assert server.to("/wait-choice")[0].form["Digits"] == "1"
    (action,) = server.to("/enqueue-done")
    assert action.form["QueueResult"] == "leave"
    assert action.form["QueueTime"] == "4"  # 7 words (2.8 s) + 1 s to press
    assert action.form["CallStatus"] == "in-progress"
    assert sim.queue(QUEUE).members == []
    text = call.transcript_text()
    assert "IVR  (nb-NO): Takk for at du ringde" in text
    assert "Etter køen" not in text  # the action's TwiML runs, not the verb after <Enqueue>


def test_leave_without_action_continues_after_enqueue(server, make_sim):
    """Without an action, the call goes on with the verb after <Enqueue>."""
    serve_queue(server, action=None)
    server.on("/wait", twiml("<Say>Ein augneblink</Say>", "<Leave/>"))
    sim = make_sim()
    call = sim.place_call(from_=CALLER, to=MAIN)
    sim.run()

    assert "IVR  (nb-NO): Etter køen" in call.transcript_text()
    assert f"QUEUE {QUEUE} → leave (waited 1 s)" in call.transcript_text()


def test_gather_action_in_waiturl_runs_in_the_wait_context(server, make_sim):
    """The answer to a waitUrl Gather runs while still queued; then the loop goes on."""
    serve_queue(server)
    server.on(
        "/wait",
        twiml('<Gather numDigits="1" action="/wait-choice"><Say>Trykk ein</Say></Gather>'),
    )
    server.on("/wait-choice", twiml("<Say>Du står framleis i kø</Say>"))
    sim = make_sim()
    call = sim.place_call(from_=CALLER, to=MAIN, script=[press("2"), hang_up_after(8)])
    sim.run()

    assert len(server.to("/wait-choice")) == 1
    assert len(server.to("/wait")) == 2
    (action,) = server.to("/enqueue-done")
    assert action.form["QueueResult"] == "hangup"
    assert "IVR  (en-US): Du står framleis i kø" in call.transcript_text()


def test_queue_url_runs_on_dequeued_caller_with_queue_time(server, make_sim):
    """The <Queue url> document is fetched and played for the *caller*, then the bridge;
    the caller's Enqueue action (bridged) fires only when the conversation ends."""
    serve_queue(server)
    sim = make_sim()
    caller = sim.place_call(from_=CALLER, to=MAIN)
    agent = start_agent(sim, seconds=42, script=(talk(120),))
    sim.run()

    (announce,) = server.to("/announce")
    assert announce.form["CallSid"] == caller.sid
    assert announce.form["QueueTime"] == "42"
    assert announce.form["DequeingCallSid"] == agent.sid
    assert announce.form["QueueSid"] == server.to("/wait")[0].form["QueueSid"]
    assert announce.headers["x-simulated-time"] == at(42).isoformat()
    assert "sakshandsamar" in caller.transcript_text()
    assert "sakshandsamar" not in agent.transcript_text()

    bridged_at = 42 + 3.2  # the announcement has 8 words
    (enqueue_done,) = server.to("/enqueue-done")
    assert enqueue_done.headers["x-simulated-time"] == at(bridged_at + 120).isoformat()
    assert (enqueue_done.form["QueueResult"], enqueue_done.form["QueueTime"]) == ("bridged", "42")
    assert enqueue_done.form["CallStatus"] == "in-progress"
    assert caller.transcript_text().splitlines()[-8:] == [
        f"DEQUEUED from {QUEUE} by {AGENT} after 42 s",
        "IVR  (nb-NO): Du blir no sett over til ein sakshandsamar",
        f"CONNECTED with {AGENT}",
        f"{AGENT} hangs up",
        f"QUEUE {QUEUE} → bridged (waited 42 s)",
        "IVR  (nb-NO): Takk for at du ringde",
        "IVR hangs up",
        "CALL ENDS completed after 167 s",
    ]

    (agent_done,) = server.to("/agent-done")
    assert agent_done.form["CallSid"] == agent.sid
    assert (agent_done.form["DialCallStatus"], agent_done.form["DialBridged"]) == (
        "completed",
        "true",
    )
    assert agent_done.form["DialCallSid"] == caller.sid
    assert agent_done.form["DialCallDuration"] == "120"
    assert agent_done.form["CallStatus"] == "completed"  # the agent hung up: TwiML ignored
    assert "Neste" not in agent.transcript_text()


def test_dial_queue_on_empty_queue_waits_for_timeout(server, make_sim):
    """<Dial><Queue> on an empty queue waits for the Dial timeout."""
    serve_queue(server, timeout=20)
    sim = make_sim()
    agent = start_agent(sim, seconds=0)
    sim.run()

    (agent_done,) = server.to("/agent-done")
    assert agent_done.headers["x-simulated-time"] == at(20).isoformat()
    assert (agent_done.form["DialCallStatus"], agent_done.form["DialBridged"]) == (
        "no-answer",
        "false",
    )
    assert "DialCallSid" not in agent_done.form
    assert f"DIAL queue {QUEUE} → no-answer" in agent.transcript_text()


def test_dial_queue_takes_a_caller_who_arrives_while_waiting(server, make_sim):
    """An agent waiting on an empty queue takes the first caller who arrives."""
    serve_queue(server)
    sim = make_sim()
    start_agent(sim, seconds=0)
    caller = sim.place_call(from_=CALLER, to=MAIN, at=at(12))
    sim.run()

    (announce,) = server.to("/announce")
    assert announce.form["CallSid"] == caller.sid
    assert announce.form["QueueTime"] == "0"
    assert announce.headers["x-simulated-time"] == at(12).isoformat()


def test_queue_is_first_in_first_out(server, make_sim):
    """<Dial><Queue> always takes the head of the queue."""
    serve_queue(server)
    sim = make_sim()
    first = sim.place_call(from_=CALLER, to=MAIN, script=[talk(10)])
    second = sim.place_call(from_=CALLER_2, to=MAIN, at=at(5), script=[hang_up_after(60)])
    start_agent(sim, seconds=20)
    sim.run_until(at(25))

    assert server.to("/announce")[0].form["CallSid"] == first.sid
    assert [m.call.sid for m in sim.queue(QUEUE).members] == [second.sid]
    assert server.to("/wait")[-1].form["QueuePosition"] == "1"
    sim.run()


def test_rest_dequeue_takes_a_chosen_member(server, make_sim):
    """A REST member update takes that caller out of order and runs the new URL."""
    serve_queue(server)
    server.on("/returns", twiml('<Say language="nb-NO">Velkomen tilbake</Say>'))
    sim = make_sim()
    first = sim.place_call(from_=CALLER, to=MAIN, script=[hang_up_after(40)])
    second = sim.place_call(from_=CALLER_2, to=MAIN, at=at(5))
    sim.at(at(30), lambda: sim.dequeue_member(QUEUE, second.sid, f"{PUBLIC}/returns"))
    sim.run()

    (returns,) = server.to("/returns")
    assert returns.form["CallSid"] == second.sid
    results = {r.form["CallSid"]: r.form["QueueResult"] for r in server.to("/enqueue-done")}
    assert results == {second.sid: "redirected", first.sid: "hangup"}
    assert "IVR  (nb-NO): Velkomen tilbake" in second.transcript_text()
    assert "Takk for at du ringde" not in second.transcript_text()  # redirected: TwiML ignored


def test_a_caller_who_hung_up_is_never_dequeued(server, make_sim):
    """A caller leaves the queue the moment they hang up; an agent just after finds it empty."""
    serve_queue(server, timeout=5)
    sim = make_sim()
    sim.place_call(from_=CALLER, to=MAIN, script=[hang_up_after(10)])
    start_agent(sim, seconds=10)
    sim.run()

    assert server.to("/announce") == []
    assert server.to("/agent-done")[0].form["DialCallStatus"] == "no-answer"


def test_an_agent_whose_twiml_dials_again_serves_caller_after_caller(server, make_sim):
    """With no talk() scripted the caller ends the conversation, so the agent's Dial action
    fires with the agent still on the line, and its TwiML can take the next caller."""
    serve_queue(server)
    server.on("/agent-done", twiml("<Redirect>/agent</Redirect>"))
    sim = make_sim(timing=Timing(queue_talk_seconds=30))
    callers = [sim.place_call(from_=f"+479100000{i}", to=MAIN, at=at(i)) for i in range(3)]
    agent = start_agent(sim, seconds=10, script=(hang_up_after(200),))
    sim.run()

    assert [r.form["CallSid"] for r in server.to("/announce")] == [c.sid for c in callers]
    assert [r.form["DequeingCallSid"] for r in server.to("/announce")] == [agent.sid] * 3
    assert [r.form["QueueResult"] for r in server.to("/enqueue-done")] == ["bridged"] * 3
    assert all(r.form["CallStatus"] == "in-progress" for r in server.to("/agent-done")[:3])
