"""The day the privacy scan plays does what each scenario says, whether the switchboard is open
or closed when the scan runs: played in-process on the simulated clock at both kinds of time."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from sim.call_trial import in_process_service
from switchboard.settings import Settings
from tests.privacy.workday import KEYED, Workday

OSLO = ZoneInfo("Europe/Oslo")
SMS_SENT = "Vi sender deg no ei tekstmelding"
CALLBACK = "Vi ringjer deg opp på nummeret som sluttar på"


@pytest.mark.parametrize(
    ("instant", "open_"),
    [
        (datetime(2026, 11, 23, 10, 0, tzinfo=OSLO), True),  # a Monday morning
        (datetime(2026, 11, 28, 23, 0, tzinfo=OSLO), False),  # a Saturday night
        (datetime(2026, 12, 24, 10, 0, tzinfo=OSLO), False),  # Christmas Eve: closed all day
    ],
)
def test_every_scenario_does_what_it_says(instant: datetime, open_: bool) -> None:
    with in_process_service(Settings().config) as (http, settings, config, _pins):
        day = Workday(http=http, settings=settings, config=config, simulated_start=instant)
        played = day.play()
    by_caller = {call.from_: call.transcript_text() for call in played.calls}
    for caller in played.scenarios["sms"]:
        assert SMS_SENT in by_caller[caller], by_caller[caller]
    for caller in played.scenarios["callback_own"]:
        assert f"{CALLBACK} {' '.join(caller[-4:])}" in by_caller[caller], by_caller[caller]
    for caller, keyed in zip(played.scenarios["callback_keyed"], KEYED, strict=False):
        assert f"{CALLBACK} {' '.join(keyed[-4:])}" in by_caller[caller], by_caller[caller]
    for caller in played.scenarios["department"]:
        assert "CONNECTED with +47563751" in by_caller[caller], by_caller[caller]
    assert played.agent_calls == (1 if open_ else 0)
    if open_:
        (answered,) = played.scenarios["agent_answers"]
        assert "CONNECTED with" in by_caller[answered], by_caller[answered]
