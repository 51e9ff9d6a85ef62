"""The simulator's REST API through the twilio SDK: fetch, redirect and hang up calls
(docs/twilio.md, The REST API)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from sim.twilio import SimulatedRest

from .conftest import CALLER, MAIN, PUBLIC, START, TOKEN, twiml

ACCOUNT = "AC" + "0" * 32


@pytest.fixture
def rest(make_sim, server):
    server.on("/voice", twiml('<Say>Vent litt</Say><Pause length="60"/>'))
    server.on("/moved", twiml("<Say>Flytta</Say>"))
    server.on("/status", None)
    sim = make_sim()
    return SimulatedRest(account_sid=ACCOUNT, auth_token=TOKEN, sim=sim)


def client(rest: SimulatedRest, token: str = TOKEN) -> Client:
    return Client(ACCOUNT, token, http_client=rest)


def test_fetch_reports_a_live_call_then_its_end(rest):
    sim = rest.sim
    call = sim.place_call(from_=CALLER, to=MAIN)
    sim.run_until(START + timedelta(seconds=10))

    live = client(rest).calls(call.sid).fetch()
    assert (live.status, live.end_time, live.duration) == ("in-progress", None, None)
    sim.run()
    ended = client(rest).calls(call.sid).fetch()

    assert (ended.status, ended.direction, ended.to) == ("completed", "inbound", MAIN)
    assert ended.end_time == call.ended_at.replace(microsecond=0)
    assert ended.duration == str(call.duration)
    assert [(r.method, r.status) for r in rest.requests] == [("GET", 200), ("GET", 200)]


def test_update_with_a_url_redirects_the_live_call(rest, server):
    sim = rest.sim
    call = sim.place_call(from_=CALLER, to=MAIN)
    sim.run_until(START + timedelta(seconds=10))

    client(rest).calls(call.sid).update(url=f"{PUBLIC}/moved", method="POST")
    sim.run()

    assert len(server.to("/moved")) == 1
    assert "Flytta" in call.transcript_text()
    assert rest.requests[0].data == {"Url": f"{PUBLIC}/moved", "Method": "POST"}


def test_update_with_status_completed_hangs_up(rest):
    sim = rest.sim
    call = sim.place_call(from_=CALLER, to=MAIN)
    sim.run_until(START + timedelta(seconds=10))

    client(rest).calls(call.sid).update(status="completed")
    sim.run()

    assert call.hung_up_by == "API"
    assert call.ended_at < START + timedelta(seconds=20)


def refused(action) -> TwilioRestException:
    with pytest.raises(TwilioRestException) as caught:
        action()
    return caught.value


def test_a_call_that_has_ended_cannot_be_redirected(rest):
    sim = rest.sim
    call = sim.place_call(from_=CALLER, to=MAIN)
    sim.run()

    error = refused(lambda: client(rest).calls(call.sid).update(url=f"{PUBLIC}/moved"))

    assert (error.status, error.code) == (400, 21220)
    assert "not in-progress" in error.msg


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [({"url": "/relative"}, 21205), ({"url": f"{PUBLIC}/moved", "method": "PUT"}, 21200)],
)
def test_a_bad_redirect_is_refused_and_the_call_goes_on(rest, server, kwargs, code):
    sim = rest.sim
    call = sim.place_call(from_=CALLER, to=MAIN)
    sim.run_until(START + timedelta(seconds=10))

    error = refused(lambda: client(rest).calls(call.sid).update(**kwargs))
    sim.run()

    assert (error.status, error.code) == (400, code)
    assert server.to("/moved") == []


def test_unknown_calls_wrong_accounts_and_wrong_tokens(rest):
    sim = rest.sim
    call = sim.place_call(from_=CALLER, to=MAIN)
    sim.run()

    unknown = refused(lambda: client(rest).calls("CA" + "9" * 32).fetch())
    stranger = Client("AC" + "1" * 32, TOKEN, http_client=rest)
    other = refused(lambda: stranger.calls(call.sid).fetch())
    bad_token = refused(lambda: client(rest, token="wrong").calls(call.sid).fetch())

    assert (unknown.status, unknown.code) == (404, 20404)
    assert (other.status, other.code) == (401, 20003)  # its token is not this account's
    assert (bad_token.status, bad_token.code) == (401, 20003)


def test_scripted_failures_come_in_twilios_error_format(rest):
    sim = rest.sim
    call = sim.place_call(from_=CALLER, to=MAIN)
    sim.run()
    rest.fail_next(status=503, code=20503, message="Service unavailable")

    error = refused(lambda: client(rest).calls(call.sid).fetch())

    assert (error.status, error.code) == (503, 20503)
    assert error.msg.endswith("Service unavailable")
    assert client(rest).calls(call.sid).fetch().status == "completed"  # once only
