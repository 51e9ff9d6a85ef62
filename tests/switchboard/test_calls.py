"""Whole calls, played by the Twilio simulator against the real app, at fixed instants.

Each test reads like a call: who calls when, what they do, and what they hear or where they go.
The app runs with real Redis and SQLite; events are read back from the Redis Stream.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from ivr import queue
from sim.call_trial import AGENT_LINE, simulator_for
from sim.twilio import Department, hang_up_after, press, say, silence, talk
from sim.twilio.transcript import NoInput, Played, Pressed, Said
from tests.fixtures.agents import CLIENT_AGENT
from tests.switchboard.apphost import make_app, make_settings

OSLO = ZoneInfo("Europe/Oslo")
MOBILE = "+4791234567"
OTHER_MOBILE = "+4741234567"


@pytest.fixture
def service(tmp_path, redis_url):
    settings = make_settings(tmp_path, redis_url)
    app = make_app(settings)
    with TestClient(app) as client:
        yield client, settings, app.state.services.ctx.config


def simulate(service, at: str, **kwargs):
    client, settings, config = service
    start = datetime.fromisoformat(at).replace(tzinfo=OSLO)
    return simulator_for(http=client, settings=settings, config=config, start=start, **kwargs)


def events(redis_client, call_sid: str | None = None) -> list[dict]:
    rows = []
    for _id, fields in redis_client.xrange("switchboard:events"):
        decoded = {k.decode(): v.decode() for k, v in fields.items()}
        decoded["data"] = json.loads(decoded["data"])
        if call_sid is None or decoded["call_sid"] == call_sid:
            rows.append(decoded)
    return rows


def kinds(redis_client, call_sid: str) -> list[str]:
    """The call's event kinds, without the transfer leg's progress reports."""
    return [e["kind"] for e in events(redis_client, call_sid) if e["kind"] != "transfer_progress"]


def agent_joins(sim, *, after: float, stays: float = 600.0):
    return sim.place_call(
        from_=CLIENT_AGENT,
        to=AGENT_LINE,
        script=[hang_up_after(stays)],
        at=sim.now + timedelta(seconds=after),
    )


def test_open_call_to_a_department_that_accepts_is_connected(service, redis_client):
    sim = simulate(service, "2026-11-25T10:00")
    call = sim.place_call(from_=MOBILE, to="+4756375000", script=[press("1")])
    sim.run()
    text = call.transcript_text()
    assert "Du blir sett over til byggesak, plan og oppmåling." in text
    assert "CONNECTED with +4756375101" in text
    assert kinds(redis_client, call.sid) == [
        "call_started",
        "menu_choice",
        "transfer_started",
        "whisper_accepted",
        "transfer_result",
        "call_ended",
    ]
    result = next(e for e in events(redis_client, call.sid) if e["kind"] == "transfer_result")[
        "data"
    ]
    assert result["outcome"] == "connected"
    assert result["whisper_accepted"] is True


@pytest.mark.parametrize(
    ("behaviour", "cause"),
    [
        (Department.no_answer(), "no_answer"),
        (Department.busy(), "busy"),
        (Department.failed(), "failed"),
        (Department.declines(), "declined"),
    ],
)
def test_each_bounce_cause_is_served_before_first_time_callers(
    service, redis_client, behaviour, cause
):
    sim = simulate(service, "2026-11-25T10:00", departments={"+4756375102": behaviour})
    # Callers end their conversations with the agent, who then takes the next one.
    first_timer = sim.place_call(
        from_=OTHER_MOBILE, to="+4756375000", script=[press("0"), talk(20)]
    )
    bounced = sim.place_call(
        from_=MOBILE,
        to="+4756375000",
        script=[press("2"), talk(20)],
        at=sim.now + timedelta(seconds=5),
    )
    agent_joins(sim, after=90, stays=300)
    sim.run()
    result = next(e for e in events(redis_client, bounced.sid) if e["kind"] == "transfer_result")
    assert result["data"]["outcome"] == cause
    assert result["data"]["bounce"] is True
    assert "du står først i køen" in bounced.transcript_text()
    answered = [e for e in events(redis_client) if e["kind"] == "queue_answered"]
    assert [e["call_sid"] for e in answered] == [bounced.sid, first_timer.sid]
    assert answered[0]["data"]["queue"] == "returns"


def test_bounce_after_the_switchboard_closed_gets_the_closed_flow(service, redis_client):
    # After the closing grace (600 s from 15:00; within it see test_calls_at_the_edges.py).
    sim = simulate(
        service, "2026-11-25T15:09:30", departments={"+4756375103": Department.no_answer()}
    )
    call = sim.place_call(from_=MOBILE, to="+4756375000", script=[press("3")])
    sim.run()
    text = call.transcript_text()
    assert "Vi fekk dessverre ikkje svar hjå helse og omsorg." in text
    assert "Sentralbordet er stengt no. Vi opnar att i morgon klokka ni." in text
    assert "ENQUEUE" not in text


def test_every_department_key_reaches_its_number(service):
    _client, _settings, config = service
    for department in config.departments:
        sim = simulate(service, "2026-11-25T11:00")
        call = sim.place_call(from_=MOBILE, to="+4756375000", script=[press(department.key)])
        sim.run()
        assert f"CONNECTED with {department.number}" in call.transcript_text(), department.id


def test_department_open_while_the_switchboard_is_closed(service):
    sim = simulate(service, "2026-11-25T08:30")
    call = sim.place_call(from_=MOBILE, to="+4756375000", script=[press("3")])
    sim.run()
    text = call.transcript_text()
    assert "Sentralbordet er stengt no. Vi opnar att i dag klokka ni." in text
    assert "CONNECTED with +4756375103" in text


def test_queue_callback_for_a_mobile_caller(service, redis_client):
    sim = simulate(service, "2026-11-25T10:00")
    call = sim.place_call(from_=MOBILE, to="+4756375000", script=[press("0"), press("1")])
    sim.run()
    assert "sluttar på 4 5 6 7, så snart ein medarbeidar er ledig" in call.transcript_text()
    callback = next(e for e in events(redis_client, call.sid) if e["kind"] == "callback_requested")
    # The number travels sealed; the ingest, holding the key, opens it.
    sealed = callback["data"]["number"]
    assert MOBILE not in json.dumps(callback)
    assert service[1].number_seal.open(sealed, field="number") == MOBILE
    left = next(e for e in events(redis_client, call.sid) if e["kind"] == "queue_left")
    assert left["data"]["result"] == "hangup"


def test_queue_callback_for_an_anonymous_caller_keys_in_a_number(service, redis_client):
    sim = simulate(service, "2026-11-25T10:00")
    call = sim.place_call(
        from_="anonymous",
        to="+4756375000",
        script=[press("0"), press("1"), press("55123456#"), press("1")],
    )
    sim.run()
    text = call.transcript_text()
    assert "Du tasta 5 5 1 2, 3 4 5 6." in text
    assert "sluttar på 3 4 5 6" in text
    callback = next(e for e in events(redis_client, call.sid) if e["kind"] == "callback_requested")
    assert service[1].number_seal.open(callback["data"]["number"], field="number") == "+4755123456"
    left = next(e for e in events(redis_client, call.sid) if e["kind"] == "queue_left")
    assert left["data"]["result"] == "leave"
    assert left["data"]["reason"] == "callback_number"


def test_english_invalid_key_and_silence(service):
    sim = simulate(service, "2026-11-25T10:00")
    call = sim.place_call(
        from_=MOBILE, to="+4756375000", script=[press("9"), press("8"), silence()]
    )
    sim.run()
    text = call.transcript_text()
    assert "For the switchboard, press 0." in text
    assert "Sorry, that is not a valid choice." in text
    assert "You are being transferred to the switchboard." in text
    assert "You are number 1 in the queue." in text


def test_silence_twice_goes_to_the_switchboard_queue(service):
    sim = simulate(service, "2026-11-25T10:00")
    call = sim.place_call(
        from_=MOBILE, to="+4756375000", script=[silence(), silence(), hang_up_after(20)]
    )
    sim.run()
    text = call.transcript_text()
    assert text.count("For sentralbordet, trykk 0.") == 2
    assert "ENQUEUE sentralbord " in text or "ENQUEUE sentralbord (" in text


@pytest.mark.parametrize(
    ("speech", "number"),
    [
        ("eg lurer på ein byggesøknad", "+4756375101"),  # nn
        ("det gjelder barnehageplass", "+4756375102"),  # nb
        ("I have a question about my tax bill", "+4756375104"),  # en
    ],
)
def test_speech_in_nn_nb_and_en_reaches_the_department(service, speech, number):
    sim = simulate(service, "2026-11-25T11:00")
    call = sim.place_call(from_=MOBILE, to="+4756375000", script=[say(speech)])
    sim.run()
    assert f"CONNECTED with {number}" in call.transcript_text()


def test_callers_still_queued_at_closing_are_offered_a_callback_after_the_grace(
    service, redis_client
):
    sim = simulate(service, "2026-11-25T14:58")
    call = sim.place_call(
        from_=MOBILE, to="+4756375000", script=[press("0"), silence(), hang_up_after(1800)]
    )
    sim.run()
    text = call.transcript_text()
    assert (
        "Sentralbordet har stengt for i dag. Trykk 1 for å bli ringt opp i morgon klokka ni" in text
    )
    assert "Ved fare for liv eller helse" in text  # the closed flow after leaving the queue
    left = next(e for e in events(redis_client, call.sid) if e["kind"] == "queue_left")
    assert left["data"]["reason"] == "closing"


def test_the_fallback_serves_the_caller_when_the_primary_refuses(tmp_path, redis_url):
    # A misconfigured token: every signed route answers 403, Twilio goes to the fallback URL.
    settings = make_settings(tmp_path, redis_url, twilio_auth_token="not-what-twilio-uses")
    app = make_app(settings)
    with TestClient(app) as client:
        sim = simulator_for(
            http=client,
            settings=make_settings(tmp_path, redis_url),
            config=app.state.services.ctx.config,
            start=datetime(2026, 11, 25, 10, tzinfo=OSLO),
            default_department=Department.accepts("1"),
        )
        call = sim.place_call(from_=MOBILE, to="+4756375000")
        sim.run()
    text = call.transcript_text()
    assert "Orsak, vi har eit teknisk problem." in text
    assert "CONNECTED with +4756375090" in text


def test_agent_takes_a_waiting_caller_and_the_queue_time_is_recorded(service, redis_client):
    sim = simulate(service, "2026-11-25T10:00")
    call = sim.place_call(from_=MOBILE, to="+4756375000", script=[press("0"), talk(30)])
    agent_joins(sim, after=40)
    sim.run()
    answered = next(e for e in events(redis_client, call.sid) if e["kind"] == "queue_answered")
    waited = re.search(r"DEQUEUED from sentralbord by \S+ after (\d+) s", call.transcript_text())
    assert waited is not None
    assert answered["data"]["queue_time_seconds"] == int(waited.group(1))
    assert answered["data"]["queue_time_seconds"] > 0


def test_queue_wait_plays_hold_music_between_announcements(service):
    """Announcement, then the configured track for its known length, then the next
    announcement: never more silence than the Gather timeout after the music."""
    music = service[2].switchboard.queue.hold_music
    sim = simulate(service, "2026-11-25T10:00")
    call = sim.place_call(from_=MOBILE, to="+4756375000", script=[press("0"), hang_up_after(300)])
    sim.run()
    plays = [e for e in call.transcript if isinstance(e, Played)]
    positions = [e for e in call.transcript if isinstance(e, Said) and "i køen" in e.text]
    assert len(plays) >= 3
    assert all(p.url == music.url for p in plays)
    for play, after in zip(plays, positions[1:], strict=False):
        assert after.at > play.at  # the next announcement follows this play
        gap = (after.at - play.at).total_seconds()
        assert gap == music.seconds + queue.HOLD_GATHER_TIMEOUT
    quiet = [e for e in call.transcript if isinstance(e, NoInput)]
    assert quiet
    assert all(e.seconds == queue.HOLD_GATHER_TIMEOUT for e in quiet)


def test_a_key_pressed_during_the_hold_music_is_honoured(service, redis_client):
    sim = simulate(service, "2026-11-25T10:00")
    script = [press("0"), silence(), press("2"), hang_up_after(600)]
    call = sim.place_call(from_=MOBILE, to="+4756375000", script=script)
    sim.run()
    entries = call.transcript
    second_play = [i for i, e in enumerate(entries) if isinstance(e, Played)][1]
    pressed = entries[second_play + 1]
    assert isinstance(pressed, Pressed)
    assert pressed.digits == "2"
    assert "Du held plassen din i køen." in call.transcript_text()
    assert "sms_requested" in kinds(redis_client, call.sid)
