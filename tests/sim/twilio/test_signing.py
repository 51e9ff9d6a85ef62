"""What every request looks like on the wire: signature, URL, standard parameters
(docs/twilio.md: Requests, Signatures)."""

from __future__ import annotations

import re
from datetime import timedelta

from sim.twilio import PhoneNumberConfig, press

from .conftest import CALLER, MAIN, PUBLIC, START, twiml

MENU = twiml(
    '<Gather numDigits="1" action="/menu?s=2&amp;lang=nn">'
    '<Say language="nb-NO">Trykk ein</Say></Gather>'
)


def test_requests_are_signed_and_validate(server, make_sim):
    """The signature covers the public URL with its raw query and every form field."""
    server.on("/voice", MENU)
    server.on("/menu", twiml("<Hangup/>"))
    server.on("/status", None)
    sim = make_sim(
        numbers={
            MAIN: PhoneNumberConfig(
                voice_url=f"{PUBLIC}/voice?s=1", status_callback_url=f"{PUBLIC}/status"
            )
        }
    )
    sim.place_call(from_=CALLER, to=MAIN, script=[press("1")])
    sim.run()

    assert [(r.path, r.query) for r in server.received] == [
        ("/voice", "s=1"),
        ("/menu", "s=2&lang=nn"),
        ("/status", ""),
    ]
    assert all(r.signature_valid for r in server.received)
    assert all(r.status == 200 or r.status == 204 for r in sim.requests)


def test_fragment_is_not_signed_nor_sent(server, make_sim):
    """Connection overrides in a #fragment are neither sent nor part of the signature."""
    server.on("/voice", twiml("<Redirect>/next?s=2#rt=5000&amp;rc=2</Redirect>"))
    server.on("/next", twiml("<Hangup/>"))
    sim = make_sim(numbers={MAIN: PhoneNumberConfig(voice_url=f"{PUBLIC}/voice#ct=1000&rt=3000")})
    sim.place_call(from_=CALLER, to=MAIN)
    sim.run()

    assert [r.url for r in server.received] == [f"{PUBLIC}/voice", f"{PUBLIC}/next?s=2"]
    assert all(r.signature_valid for r in server.received)
    assert all("#" not in r.url for r in sim.requests)


def test_blank_geo_fields_are_sent(server, make_sim):
    """Geo fields Twilio could not look up arrive present and empty; they are signed too."""
    server.on("/voice", twiml("<Hangup/>"))
    sim = make_sim()
    sim.place_call(from_=CALLER, to=MAIN)
    sim.run()

    (voice,) = server.to("/voice")
    items = dict(voice.items)
    for prefix in ("From", "To", "Caller", "Called"):
        for field in ("City", "State", "Zip"):
            assert items[prefix + field] == ""
    assert items["FromCountry"] == items["ToCountry"] == "NO"
    assert items["Caller"] == CALLER
    assert items["Called"] == MAIN
    assert voice.signature_valid


def test_standard_parameters_on_every_fetch(server, make_sim):
    """CallSid/AccountSid formats, ApiVersion, Direction; ringing first, then in-progress."""
    server.on("/voice", MENU)
    server.on("/menu", twiml("<Hangup/>"))
    sim = make_sim()
    call = sim.place_call(from_=CALLER, to=MAIN, script=[press("1")])
    sim.run()

    (voice,), (menu,) = server.to("/voice"), server.to("/menu")
    for request in (voice, menu):
        assert re.fullmatch(r"CA[0-9a-f]{32}", request.form["CallSid"])
        assert request.form["CallSid"] == call.sid
        assert re.fullmatch(r"AC[0-9a-f]{32}", request.form["AccountSid"])
        assert request.form["ApiVersion"] == "2010-04-01"
        assert request.form["Direction"] == "inbound"
        assert request.form["From"] == CALLER
        assert request.form["To"] == MAIN
    assert voice.form["CallStatus"] == "ringing"
    assert menu.form["CallStatus"] == "in-progress"
    assert menu.form["Digits"] == "1"


def test_simulated_time_is_sent_with_every_request(server, make_sim):
    """The app under test reads the virtual clock from X-Simulated-Time (ISO 8601, UTC)."""
    server.on("/voice", MENU)
    server.on("/menu", twiml("<Hangup/>"))
    sim = make_sim()
    sim.place_call(from_=CALLER, to=MAIN, script=[press("1")], at=START + timedelta(minutes=5))
    sim.run()

    (voice,), (menu,) = server.to("/voice"), server.to("/menu")
    assert voice.headers["x-simulated-time"] == "2026-12-01T09:35:00+00:00"
    # "Trykk ein" takes 1 s to say, the caller thinks 1 s, numDigits=1 ends at the key.
    assert menu.headers["x-simulated-time"] == "2026-12-01T09:35:02+00:00"


def test_get_method_sends_parameters_in_the_signed_query(server, make_sim):
    """A GET carries its parameters in the query string, and the URL is signed."""
    server.on("/voice", twiml('<Redirect method="GET">/next?s=2</Redirect>'))
    server.on("/next", twiml("<Hangup/>"))
    sim = make_sim()
    call = sim.place_call(from_=CALLER, to=MAIN)
    sim.run()

    nxt = server.to("/next")[0]
    assert nxt.method == "GET"
    assert nxt.query.startswith("s=2&CallSid=" + call.sid)
    assert nxt.form == {}
    assert nxt.signature_valid
