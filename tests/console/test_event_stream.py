"""The console's Server-Sent Events as a raw HTTP client sees them: a snapshot on connect,
then deltas with ids, and a reconnect with Last-Event-ID gets only what it missed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from sim.twilio import TwilioSimulator, hang_up_after, press
from tests.console.conftest import AGENT_USER, MAIN, Console, at, run_until_queued
from tests.pages.site import sign_in

FIRST, SECOND = "+4791234567", "+4798765432"


@dataclass(frozen=True)
class Event:
    id: str
    kind: str
    data: dict[str, Any]


def events(lines: Iterator[str]) -> Iterator[Event]:
    """The events of a text/event-stream, comments and `retry` left out."""
    fields: dict[str, str] = {}
    for line in lines:
        if line == "":
            if "data" in fields:
                data = json.loads(fields["data"])
                yield Event(fields.get("id", ""), fields.get("event", ""), data)
            fields = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")


def next_event(stream: Iterator[Event], kind: str) -> Event:
    return next(event for event in stream if event.kind == kind)


def signed_in(console: Console) -> httpx.Client:
    client = httpx.Client(base_url=console.url, timeout=httpx.Timeout(10, read=20))
    assert sign_in(client, AGENT_USER).status_code == 303
    return client


def caller(sim: TwilioSimulator, number: str, *, after: float, stays: float) -> Any:
    return sim.place_call(
        from_=number, to=MAIN, script=[hang_up_after(stays), press("0")], at=at(after)
    )


def test_a_snapshot_then_deltas_and_a_resume_gets_only_what_was_missed(
    console: Console,
) -> None:
    sim = console.simulator()
    early = caller(sim, FIRST, after=0, stays=60)
    run_until_queued(sim, early, "sentralbord", within=60)
    client = signed_in(console)

    with client.stream("GET", "/agent/events") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        stream = events(response.iter_lines())
        snapshot = next(stream)
        assert snapshot.kind == "snapshot"
        assert [c["call_sid"] for c in snapshot.data["waiting"]] == [early.sid]
        [waiting] = snapshot.data["waiting"]
        assert (waiting["queue"], waiting["department"]) == ("main", "")
        assert len(waiting["caller"]) == 6  # a pseudonym's short form, never the number
        assert waiting["caller"] not in FIRST

        late = caller(sim, SECOND, after=20, stays=200)
        run_until_queued(sim, late, "sentralbord", within=60)
        joined = next_event(stream, "join")
        assert joined.data["call_sid"] == late.sid
        assert joined.id > snapshot.id

    # Away: the early caller hangs up while nobody listens.
    sim.run_until(at(90))
    with client.stream("GET", "/agent/events", headers={"Last-Event-ID": joined.id}) as response:
        stream = events(response.iter_lines())
        missed = next(stream)
        assert (missed.kind, missed.data["call_sid"]) == ("leave", early.sid)
        assert missed.id > joined.id

    # An id the feed no longer has (or never had) gets a snapshot: only the late caller.
    with client.stream("GET", "/agent/events", headers={"Last-Event-ID": "1-0"}) as response:
        stream = events(response.iter_lines())
        again = next(stream)
        assert again.kind == "snapshot"
        assert [c["call_sid"] for c in again.data["waiting"]] == [late.sid]


def test_the_events_are_for_signed_in_agents_and_managers_only(console: Console) -> None:
    with httpx.Client(base_url=console.url) as anonymous:
        refused = anonymous.get("/agent/events")
    assert refused.status_code == 303
    assert refused.headers["location"].startswith("/agent/login")
    with httpx.Client(base_url=console.url) as operator:
        assert sign_in(operator, "otto").status_code == 303
        assert operator.get("/agent/events").status_code == 403
    with httpx.Client(base_url=console.url) as manager:
        assert sign_in(manager, "mona").status_code == 303
        with manager.stream("GET", "/agent/events") as response:
            assert next(events(response.iter_lines())).kind == "snapshot"
