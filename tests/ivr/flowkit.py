"""Plain helpers for driving pure flow steps at fixed instants (no app, no Redis)."""

from __future__ import annotations

import os
import xml.dom.minidom
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ivr.call import Context, LiveView, Reply, Turn
from ivr.config import Config, Language
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
