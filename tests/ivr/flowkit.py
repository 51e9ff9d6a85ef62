"""Plain helpers for driving pure flow steps at fixed instants (no app, no Redis)."""

from __future__ import annotations

import os
import xml.dom.minidom
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from ivr.call import Context, LiveView, Reply, Turn
from ivr.config import Config, Language, parse_config
from ivr.hours import Hours

OSLO = ZoneInfo("Europe/Oslo")
PUBLIC = "https://ivr.alver.example"
SNAPSHOTS = Path(__file__).parent.parent / "snapshots"
MOBILE = "+4791234567"


def oslo(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=OSLO)


def make_context(config: Config, **injected: Any) -> Context:
    """The flow's context; `injected` replaces a default, such as the PIN check."""
    return Context(config=config, hours=Hours(config), public_url=PUBLIC, **injected)


def make_turn(
    at: str,
    *,
    language: Language = "nn",
    step: int = 0,
    caller: str = MOBILE,
    live: LiveView | None = None,
    **params: str,
) -> Turn:
    return Turn(
        call_sid="CA" + "1" * 32,
        caller=caller,
        caller_id="pseudonym",
        params={"CallSid": "CA" + "1" * 32, "From": caller, "To": "+4756375000", **params},
        language=language,
        step=step,
        at=oslo(at),
        live=live or LiveView(),
    )


def spoken(reply: Reply) -> str:
    """Everything the caller hears in this reply, as one text."""
    dom = xml.dom.minidom.parseString(reply.xml())
    return " ".join(
        node.firstChild.data
        for node in dom.getElementsByTagName("Say")
        if isinstance(node.firstChild, xml.dom.minidom.Text)
    )


def pretty(xml_text: str) -> str:
    return xml.dom.minidom.parseString(xml_text).toprettyxml(indent="  ")


def assert_snapshot(name: str, reply: Reply) -> None:
    """Golden TwiML in tests/snapshots/; set UPDATE_SNAPSHOTS=1 to rewrite after review."""
    path = SNAPSHOTS / f"{name}.xml"
    actual = pretty(reply.xml())
    if os.environ.get("UPDATE_SNAPSHOTS") == "1" or not path.exists():
        if os.environ.get("CI") == "true":
            raise AssertionError(f"snapshot {path.name} is missing; generate it locally")
        path.write_text(actual, encoding="utf-8")
    assert actual == path.read_text(encoding="utf-8"), f"TwiML differs from {path.name}"


def gathers(reply: Reply) -> list[str]:
    """What the caller hears inside each <Gather> of the reply: one prompt each."""
    dom = xml.dom.minidom.parseString(reply.xml())
    return [
        " ".join(
            node.firstChild.data
            for node in gather.getElementsByTagName("Say")
            if isinstance(node.firstChild, xml.dom.minidom.Text)
        )
        for gather in dom.getElementsByTagName("Gather")
    ]


def early_departments_yaml(alver_yaml: str) -> str:
    """Alver with every department open 08:00-16:00 on weekdays and the switchboard only
    10:00-15:00: between 08:00 and 10:00 the closed menu has all six departments open."""
    data = yaml.safe_load(alver_yaml)
    weekdays = ("mon", "tue", "wed", "thu", "fri")
    data["switchboard"]["hours"] = dict.fromkeys(weekdays, "10:00-15:00")
    for department in data["departments"]:
        department["hours"] = dict.fromkeys(weekdays, "08:00-16:00")
    return str(yaml.safe_dump(data, allow_unicode=True))


def early_departments(alver_yaml: str) -> Config:
    """`early_departments_yaml`, parsed."""
    return parse_config(early_departments_yaml(alver_yaml))
