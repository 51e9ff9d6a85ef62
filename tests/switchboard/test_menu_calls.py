"""The menus' two levels in whole calls: the Twilio simulator against the real app.

A caller who wants a department the top level does not name presses * ("andre avdelingar")
and then its usual key; an experienced caller presses the key straight away; speech works at
both levels; and a closed switchboard keeps open departments under their keys on the second
level too."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from sim.call_trial import simulator_for
from sim.twilio import press, say
from switchboard.app import load_config
from switchboard.settings import DEFAULT_CONFIG
from tests.ivr.flowkit import early_departments_yaml
from tests.switchboard.apphost import make_app, make_settings

OSLO = ZoneInfo("Europe/Oslo")
MOBILE = "+4791234567"
MAIN = "+4756375000"


@pytest.fixture
def service(tmp_path, redis_url):
    settings = make_settings(tmp_path, redis_url)
    with TestClient(make_app(settings)) as client:
        yield client, settings


def call(service, at: str, script):
    client, settings = service
    start = datetime.fromisoformat(at).replace(tzinfo=OSLO)
    sim = simulator_for(
        http=client, settings=settings, config=load_config(settings.config), start=start
    )
    placed = sim.place_call(from_=MOBILE, to=MAIN, script=script)
    sim.run()
    return placed.transcript_text()


def test_other_departments_then_a_key_reaches_that_department(service):
    text = call(service, "2026-11-25T10:00", [press("*"), press("1")])
    assert "For andre avdelingar, trykk stjerne." in text
    assert "For byggesak, plan og oppmåling, trykk 1." in text.split("CALLER presses *", 1)[1]
    assert "Du blir sett over til byggesak, plan og oppmåling." in text
    assert "CONNECTED with +4756375101" in text


def test_english_other_departments_then_a_key(service):
    text = call(service, "2026-11-25T10:00", [press("9"), press("*"), press("6")])
    assert "For other departments, press star." in text
    assert "You are being transferred to NAV Alver, the welfare office." in text
    assert "CONNECTED with +4756375106" in text


def test_a_key_the_top_level_does_not_name_still_works(service):
    text = call(service, "2026-11-25T11:00", [press("4")])
    top = text.split("CALLER presses 4", 1)[0]
    assert "skatt, gebyr og faktura" not in top
    assert "CONNECTED with +4756375104" in text


@pytest.mark.parametrize(
    ("script", "heard"),
    [
        ([say("eg har ein byggesøknad")], "CONNECTED with +4756375101"),
        ([say("eg treng legevakt")], "Treng du legevakt, ring 116 117."),
        ([press("*"), say("det gjeld vasslekkasje")], "CONNECTED with +4756375105"),
        ([press("*"), say("eg treng legevakt")], "Treng du legevakt, ring 116 117."),
    ],
)
def test_speech_routes_at_both_levels(service, script, heard):
    text = call(service, "2026-11-25T11:00", script)
    assert "Sei kort kva det gjeld." in text
    assert heard in text


def test_closed_with_open_departments_keeps_their_keys_on_the_second_level(tmp_path, redis_url):
    path = tmp_path / "early.yaml"
    path.write_text(early_departments_yaml(DEFAULT_CONFIG.read_text(encoding="utf-8")))
    settings = make_settings(tmp_path, redis_url, config=path)
    with TestClient(make_app(settings)) as client:
        text = call((client, settings), "2026-12-07T09:00", [press("*"), press("6")])
    assert "Sentralbordet er stengt no. Vi opnar att i dag klokka ti." in text
    assert "For andre avdelingar, trykk stjerne." in text
    assert "For NAV Alver, trykk 6." in text.split("CALLER presses *", 1)[1]
    assert "CONNECTED with +4756375106" in text
