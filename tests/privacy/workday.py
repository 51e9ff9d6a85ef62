"""A day of calls from known, fictional numbers, played at a running `switchboard serve`.

The service answers at its own (real) time, so each call is chosen for the menu it will hear
right then: while the switchboard is open, callers go to the queue and ask for the SMS link or
a callback from there (1 or 2 while waiting) or are transferred to an open department; while it
is closed, the closed menu has the SMS link (7) and a callback (8), and the water department's
on-call line (5). Landline callers who ask for a callback key in a different, mobile number.
An agent calls the agent line and takes a waiting caller while the switchboard is open.
Calls are played one at a time, each just after it is chosen, so a boundary (15:00, say)
crossed during the day changes at most the call that straddles it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial

from ivr.config import SWITCHBOARD, Config
from ivr.hours import Hours
from sim.call_trial import place_agent, simulator_for, trial_agent
from sim.twilio import Call, HttpClient, hang_up, press, talk
from sim.twilio.scripts import Action
from switchboard.settings import Settings

# Obviously fictional: +47 900 0x xxx and +47 400 0x xxx mobiles, +47 555 0x xxx landlines,
# and the mobiles landline callers key in for a callback, +47 411 0x xxx.
MOBILES_9 = [f"+47900{i:05d}" for i in range(1, 21)]
MOBILES_4 = [f"+47400{i:05d}" for i in range(1, 21)]
LANDLINES = [f"+47555{i:05d}" for i in range(1, 16)]
KEYED = [f"+47411{i:05d}" for i in range(1, 16)]
KNOWN = [*MOBILES_9, *MOBILES_4, *LANDLINES, *KEYED]

ON_CALL_KEY = "5"  # vatn_veg: its on-call line answers while the switchboard is closed


@dataclass
class Day:
    """What was played: every citizen call, and by scenario."""

    calls: list[Call] = field(default_factory=list)
    scenarios: dict[str, list[str]] = field(default_factory=dict)  # scenario -> caller numbers
    agent_calls: int = 0

    def played(self, scenario: str, call: Call) -> None:
        self.calls.append(call)
        self.scenarios.setdefault(scenario, []).append(call.from_)


class Workday:
    def __init__(
        self,
        *,
        http: HttpClient,
        settings: Settings,
        config: Config,
        simulated_start: datetime | None = None,
    ) -> None:
        """Against a service on the real clock, or, with `simulated_start`, one that takes the
        simulator's time (an in-process app with `simulated_clock=True`)."""
        self.simulated = simulated_start is not None
        self.http = http
        self.settings = settings
        self.config = config
        self.hours = Hours(config)
        self.main = config.municipality.main_number
        self.day = Day()
        # One simulator for the day, so every call has a SID of its own. A running service
        # ignores its virtual clock, so then its start does not matter.
        start = simulated_start or datetime.now(UTC)
        self.sim = simulator_for(http=http, settings=settings, config=config, start=start)

    def play(self) -> Day:
        mobiles = iter([*MOBILES_9, *MOBILES_4])
        landlines = iter(LANDLINES)
        keyed = iter(KEYED)
        for _ in range(10):
            self._call("sms", next(mobiles), self._sms)
            self._call("callback_own", next(mobiles), self._callback)
            landline = next(landlines)
            number = next(keyed)
            self._call("callback_keyed", landline, partial(self._keyed, number=number))
            self._call("queue_hang_up", next(mobiles), self._queue_and_hang_up)
        for _ in range(5):
            self._call("department", next(landlines), self._department)
        self._agent_takes(next(mobiles))
        for caller in [*mobiles]:
            self._call("department", caller, self._department)
        return self.day

    # --- the scripts, by the menu the caller will hear -----------------------------------------

    def _sms(self, open_: bool) -> list[Action]:
        return [press("0"), press("2"), hang_up()] if open_ else [press("7")]

    def _callback(self, open_: bool) -> list[Action]:
        return [press("0"), press("1")] if open_ else [press("8")]

    def _keyed(self, open_: bool, number: str) -> list[Action]:
        national = number.removeprefix("+47")
        ask = [press("0"), press("1")] if open_ else [press("8")]
        return [*ask, press(f"{national}#"), press("1")]

    def _queue_and_hang_up(self, open_: bool) -> list[Action]:
        return [press("0"), hang_up()]  # closed: "0" starts the closed flow again, then a hang-up

    def now(self) -> datetime:
        """The time the service answers at."""
        return self.sim.now if self.simulated else datetime.now(UTC)

    def _department(self, open_: bool) -> list[Action]:
        now = self.now()
        for department in self.config.departments:
            if self.hours.is_open(department.id, now):
                return [press(department.key), talk(20)]
        if not open_:
            return [press(ON_CALL_KEY), talk(20)]
        return [press("0"), hang_up()]  # no department open: the queue instead

    # --- playing ---------------------------------------------------------------------------------

    def _call(self, scenario: str, caller: str, script: Callable[[bool], list[Action]]) -> None:
        open_ = self.hours.is_open(SWITCHBOARD, self.now())
        call = self.sim.place_call(from_=caller, to=self.main, script=script(open_))
        self.sim.run()
        self.day.played(scenario, call)

    def _agent_takes(self, caller: str) -> None:
        """While open: a caller waits in the queue and an agent calls in and answers."""
        if not self.hours.is_open(SWITCHBOARD, self.now()):
            self._call("queue_hang_up", caller, self._queue_and_hang_up)
            return
        call = self.sim.place_call(from_=caller, to=self.main, script=[press("0"), talk(30)])
        agent = trial_agent(self.config)
        assert agent is not None, "the shipped roster has agents"
        assert agent.pin_hash is None, "the trial agent needs no PIN"
        place_agent(self.sim, agent, pin=None, stays=90, at=self.sim.now)
        self.sim.run()
        self.day.played("agent_answers", call)
        self.day.agent_calls += 1
