"""The Queues resource through the twilio SDK: finding a queue's SID by its name, and moving a
chosen caller out of a queue by updating its member (docs/twilio.md, Queues)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from sim.twilio import SimulatedRest, hang_up_after

from .conftest import CALLER, MAIN, PUBLIC, START, TOKEN, twiml

ACCOUNT = "AC" + "0" * 32
CALLER_2 = "+4791111111"


@pytest.fixture
def rest(make_sim, server):
    server.on(
        "/voice",
        twiml('<Enqueue action="/done" waitUrl="/wait">sentralbord</Enqueue>'),
    )
    server.on("/wait", twiml("<Play>/musikk.mp3</Play>"))
    server.on("/done", twiml("<Say>Ignorert</Say>"))
    server.on("/moved", twiml('<Enqueue action="/done2" waitUrl="/wait">agent-kari</Enqueue>'))
    server.on("/done2", None)
    server.on("/status", None)
    sim = make_sim()
    return SimulatedRest(account_sid=ACCOUNT, auth_token=TOKEN, sim=sim)


def client(rest: SimulatedRest) -> Client:
    return Client(ACCOUNT, TOKEN, http_client=rest)


def queue_sid(rest: SimulatedRest, name: str) -> str:
    return next(q.sid for q in client(rest).queues.list() if q.friendly_name == name)


def test_the_queue_list_gives_each_queue_its_sid_and_size(rest):
    sim = rest.sim
    sim.place_call(from_=CALLER, to=MAIN, script=[hang_up_after(60)])
    sim.place_call(from_=CALLER_2, to=MAIN, script=[hang_up_after(60)])
    sim.run_until(START + timedelta(seconds=5))

    [queue] = client(rest).queues.list()

    assert (queue.friendly_name, queue.current_size) == ("sentralbord", 2)
    assert queue.sid == sim.queue("sentralbord").sid
    assert rest.requests[0].url.endswith(f"/Accounts/{ACCOUNT}/Queues.json")


def test_updating_a_member_moves_that_caller_out_of_order(rest, server):
    sim = rest.sim
    first = sim.place_call(from_=CALLER, to=MAIN, script=[hang_up_after(120)])
    second = sim.place_call(
        from_=CALLER_2, to=MAIN, script=[hang_up_after(120)], at=START + timedelta(seconds=1)
    )
    sim.run_until(START + timedelta(seconds=10))
    sid = queue_sid(rest, "sentralbord")

    member = client(rest).queues(sid).members(second.sid).update(url=f"{PUBLIC}/moved")
    sim.run_until(START + timedelta(seconds=20))

    assert (member.call_sid, member.position) == (second.sid, 2)
    assert [m.call.sid for m in sim.queue("sentralbord").members] == [first.sid]
    assert [m.call.sid for m in sim.queue("agent-kari").members] == [second.sid]
    # The old Enqueue's action is told the caller was moved out, and its TwiML is not run.
    [done] = server.to("/done")
    assert (done.form["CallSid"], done.form["QueueResult"]) == (second.sid, "redirected")
    assert "Ignorert" not in second.transcript_text()
    assert len(server.to("/moved")) == 1


def test_front_moves_the_head_of_the_queue(rest):
    sim = rest.sim
    first = sim.place_call(from_=CALLER, to=MAIN, script=[hang_up_after(120)])
    sim.run_until(START + timedelta(seconds=5))

    sid = queue_sid(rest, "sentralbord")
    client(rest).queues(sid).members("Front").update(url=f"{PUBLIC}/moved", method="POST")
    sim.run_until(START + timedelta(seconds=10))

    assert [m.call.sid for m in sim.queue("agent-kari").members] == [first.sid]


def test_a_caller_who_is_no_longer_in_the_queue_is_twilios_404(rest):
    sim = rest.sim
    gone = sim.place_call(from_=CALLER, to=MAIN, script=[hang_up_after(3)])
    sim.place_call(from_=CALLER_2, to=MAIN, script=[hang_up_after(120)])
    sim.run_until(START + timedelta(seconds=10))
    sid = queue_sid(rest, "sentralbord")

    with pytest.raises(TwilioRestException) as raised:
        client(rest).queues(sid).members(gone.sid).update(url=f"{PUBLIC}/moved")

    assert (raised.value.status, raised.value.code) == (404, 20404)
    assert rest.requests[-1].status == 404


def test_a_bad_url_is_refused_and_nobody_moves(rest):
    sim = rest.sim
    caller = sim.place_call(from_=CALLER, to=MAIN, script=[hang_up_after(120)])
    sim.run_until(START + timedelta(seconds=5))
    sid = queue_sid(rest, "sentralbord")

    with pytest.raises(TwilioRestException) as raised:
        client(rest).queues(sid).members(caller.sid).update(url="/moved")

    assert (raised.value.status, raised.value.code) == (400, 21205)
    assert [m.call.sid for m in sim.queue("sentralbord").members] == [caller.sid]


def test_a_scripted_twilio_failure_moves_nobody(rest):
    sim = rest.sim
    caller = sim.place_call(from_=CALLER, to=MAIN, script=[hang_up_after(120)])
    sim.run_until(START + timedelta(seconds=5))
    sid = sim.queue("sentralbord").sid
    rest.fail_next(status=500, code=20500, message="Internal Server Error")

    with pytest.raises(TwilioRestException) as raised:
        client(rest).queues(sid).members(caller.sid).update(url=f"{PUBLIC}/moved")

    assert raised.value.status == 500
    assert [m.call.sid for m in sim.queue("sentralbord").members] == [caller.sid]
