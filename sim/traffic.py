"""A traffic generator: a seeded mix of calls played by the Twilio simulator, with ground truth.

`Traffic` plans `calls` calls over one or more weekdays (about 90% while the switchboard is
open, peaking 10-11 and 12-13, as in the 2022 survey), places them in a `TwilioSimulator`
against the real app, and reacts as people would while the calls go on:

- callers choose departments in the menu; each department answers and accepts, declines the
  whisper, is busy, does not answer, or cannot be reached (one behaviour per dial);
- callers go to the switchboard queue, wait, give up (some within 5 s), ask for a callback or
  an SMS; agents (agent-line calls from the phone agents, who key in their PIN when the config
  demands one, on for the opening day but for a half-hour lunch each) take them, and those who
  give up mostly call while the agents are at lunch;
- an agent transfers some callers while talking to them, through the app's own API
  (`POST /api/calls/{sid}/transfer`, given as `transfer`);
- after a connected transfer, a department hands the caller back (a call from its number, some
  while the first leg is still connected, some just after; some from the citizen's own number
  while still connected), or the citizen calls again later (a recall, within 24 h of the
  conversation's end; a few about a day later, just inside or just outside that window). A
  follow-up call is made only if the return rule (`ground_truth.came_back_from`: a department
  hands back its most recent caller) clearly picks the transfer it follows, so the truth is
  never ambiguous;
- after-hours callers ask for the SMS link, a callback or the on-call line, reach a department
  that is still open, or just listen.

With `faults`, 10% of status callbacks and action requests are duplicated, deliveries are
delayed (so reordered), and 5% of status callbacks are lost (the sweep recovers those calls).

The people are in `sim.people`; what happened is read from the simulated world,
never from our events (`sim.truth_recorder`), and `run()` returns it as a `GroundTruth`.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from ivr.config import SWITCHBOARD, Config
from ivr.hours import Hours
from ivr.vocabulary import RECALL_WINDOW
from sim.call_trial import AGENT_LINE, place_agent
from sim.ground_truth import GroundTruth, came_back_from
from sim.people import (
    AFTER_HOURS_SHARE,
    CLOSED_MIX,
    FOLLOW_UPS,
    OPEN_MIX,
    TRANSFERRING,
    Callers,
    Planned,
    quota,
)
from sim.truth_recorder import Records, TruthRecorder, clear_choice, connected_legs
from sim.twilio import (
    Call,
    Department,
    Faults,
    HttpClient,
    PhoneNumberConfig,
    Timing,
    TwilioSimulator,
)
from sim.twilio.transcript import Bridged, Enqueued, Entry, HungUp, Redirected
from switchboard.settings import Settings

CALLS_PER_DAY = 250
WATCH_SECONDS = 2.0  # how often the generator looks at a call it may react to
# Arrivals per local hour: fewest 08-09 and after 15, peaks 10-11 and 12-13 (the 2022 survey).
HOURLY = {7: 0.5, 8: 2.0, 9: 8, 10: 14, 11: 11, 12: 14, 13: 11, 14: 9, 15: 2.0, 16: 1.5, 17: 0.8}
HOURLY |= dict.fromkeys(range(18, 22), 0.15)

THIN_LINE = frozenset({"abandon", "queue_callback"})
DAY = RECALL_WINDOW
# How clear of every other instant a follow-up call must be: clocks of webhooks may differ.
MARGIN = timedelta(seconds=3)

TransferApi = Callable[[str, str], int]  # (call_sid, department) -> HTTP status


@dataclass(frozen=True)
class TrafficPlan:
    calls: int = 200  # calls to the main number, besides the hand-backs and recalls they cause
    seed: int = 7
    start: date = date(2026, 11, 23)  # a Monday with no holiday that week
    days: int | None = None  # opening days to spread the calls over; default calls / 250
    agents: int = 2
    faults: bool = False
    day_hours: tuple[int, int] = (7, 22)  # local hours in which calls arrive
    shift: tuple[time, time] = (time(8, 58), time(15, 5))  # when agents are on the line
    lunch: time = time(11, 30)  # the first agent's half-hour break; the next one's follows

    @property
    def opening_days(self) -> int:
        return self.days or max(1, math.ceil(self.calls / CALLS_PER_DAY))


class Traffic:
    def __init__(
        self,
        plan: TrafficPlan,
        *,
        http: HttpClient,
        settings: Settings,
        config: Config,
        transfer: TransferApi,
        agent_pins: Mapping[str, str] | None = None,
    ) -> None:
        self.plan = plan
        self.config = config
        self.hours = Hours(config)
        self.transfer_api = transfer
        self.random = random.Random(plan.seed)  # noqa: S311 - reproducible traffic
        self.callers = Callers(config=config, hours=self.hours, rng=self.random)
        self.main = config.municipality.main_number
        # The phone agents, who key in their PIN (`agent_pins`, by id) when the config asks.
        self.agents = [a for a in config.switchboard.agents.roster if a.number is not None]
        self.agent_pins = dict(agent_pins or {})
        self.records = Records()
        self.departments = {d.number: d.id for d in config.departments}
        self._planned: dict[str, Planned] = {}
        self._returned: set[str] = set()  # transfers a follow-up call came back from
        public = settings.public_url
        faults = None
        if plan.faults:
            faults = Faults(
                duplicate_ratio=0.1,
                drop_ratio=0.05,
                max_delay_seconds=10.0,
                duplicate_action_ratio=0.1,
                seed=plan.seed,
            )
        self.sim = TwilioSimulator(
            http=http,
            auth_token=settings.auth_tokens[0],
            account_sid=settings.twilio_account_sid,
            numbers={
                self.main: PhoneNumberConfig(
                    voice_url=f"{public}/twilio/voice",
                    status_callback_url=f"{public}/twilio/status",
                    fallback_url=f"{public}/twilio/fallback",
                ),
                AGENT_LINE: PhoneNumberConfig(voice_url=f"{public}/twilio/agent"),
            },
            departments=self.callers.department_behaviours(plan.calls),
            default_department=Department.accepts("1"),
            start=self._local(plan.start, time(0, 0)),
            faults=faults,
            seed=plan.seed,
            # Agents stay on for a whole opening day, asking again every idle Dial timeout.
            timing=Timing(max_call_seconds=10 * 3600, max_requests_per_call=20_000),
        )

    def run(self) -> GroundTruth:
        """Place every call, play them all to the end, and read what happened."""
        days = self._opening_days()
        for day in days:
            self._agents_on(day)
        closed = round(self.plan.calls * AFTER_HOURS_SHARE)
        if self.plan.calls >= 1 / AFTER_HOURS_SHARE:
            closed = max(closed, 1)
        if not self._has_closed_hours(days[0]):
            closed = 0  # `day_hours` leave no time when the switchboard is closed
        scenarios = quota(OPEN_MIX, self.plan.calls - closed, self.random)
        transferring = sum(1 for scenario in scenarios if scenario in TRANSFERRING)
        follow_ups = iter(quota(FOLLOW_UPS, transferring, self.random))
        for scenario in scenarios:
            day = self.random.choice(days)
            at = self._arrival(day, open_=True)
            if scenario in THIN_LINE and self.random.random() < 0.5:
                # Those who give up or ask to be called back mostly call while agents are
                # at lunch and the queue is long.
                lunch = self._local(day, self.plan.lunch)
                at = lunch + timedelta(minutes=self.random.uniform(0, 30 * self.plan.agents))
            caller = self.callers.citizen()
            follow_up = next(follow_ups) if scenario in TRANSFERRING else "none"
            planned = self.callers.open_call(scenario, caller=caller, at=at, follow_up=follow_up)
            self._place(caller, at, planned)
        for choice in quota(CLOSED_MIX, closed, self.random):
            at = self._arrival(self.random.choice(days), open_=False)
            caller = self.callers.citizen()
            self._place(caller, at, self.callers.closed_call(choice, caller=caller, at=at))
        self.sim.run()
        recorder = TruthRecorder(config=self.config, hours=self.hours, records=self.records)
        return recorder.read(self.sim.calls)

    # --- the calendar ----------------------------------------------------------------------

    def _opening_days(self) -> list[date]:
        days: list[date] = []
        day = self.plan.start
        while len(days) < self.plan.opening_days:
            if self.hours.intervals_on(SWITCHBOARD, day):
                days.append(day)
            day += timedelta(days=1)
        return days

    def _local(self, day: date, at: time) -> datetime:
        return datetime.combine(day, at, tzinfo=self.config.zone).astimezone(UTC)

    def _has_closed_hours(self, day: date) -> bool:
        low, high = self.plan.day_hours
        instants = (self._local(day, time(h, m)) for h in range(low, high) for m in (0, 30))
        return any(not self.hours.is_open(SWITCHBOARD, at) for at in instants)

    def _arrival(self, day: date, *, open_: bool) -> datetime:
        """An instant on `day` by the hourly profile, while the switchboard is open or not."""
        low, high = self.plan.day_hours
        hours = [h for h in HOURLY if low <= h < high]
        at = self._local(day, time(12))
        for _ in range(1000):
            hour = self.random.choices(hours, weights=[HOURLY[h] for h in hours])[0]
            at = self._local(day, time(hour)) + timedelta(seconds=self.random.uniform(0, 3600))
            if self.hours.is_open(SWITCHBOARD, at) == open_:
                break
        return at

    def _agents_on(self, day: date) -> None:
        """Each agent calls the agent line at the start of the shift and stays on, except for
        a half-hour lunch; breaks follow each other, so a lone agent leaves the queue alone."""
        begin, end = (self._local(day, t) for t in self.plan.shift)
        for index, agent in enumerate(self.agents[: self.plan.agents]):
            lunch = self._local(day, self.plan.lunch) + timedelta(minutes=30 * index)
            back = lunch + timedelta(minutes=30)
            for start, stop in ((begin + timedelta(seconds=7 * index), lunch), (back, end)):
                if stop > start:  # a shift that ends before lunch has no afternoon
                    stays = (stop - start).total_seconds()
                    pin = self.agent_pins.get(agent.id)
                    place_agent(self.sim, agent, pin=pin, stays=stays, at=start)

    def _place(self, caller: str, at: datetime, planned: Planned) -> None:
        call = self.sim.place_call(from_=caller, to=self.main, script=planned.script, at=at)
        self._planned[call.sid] = planned
        self.records.scenarios[call.sid] = planned.scenario
        reactions = (planned.agent_transfer_after, planned.abandon_after)
        if planned.follow_up != "none" or any(r is not None for r in reactions):
            self._watch(call)

    # --- reacting while calls go on ----------------------------------------------------------

    def _watch(self, call: Call) -> None:
        """Look at the call's new transcript entries every few seconds, until it has ended."""
        seen = 0

        def look() -> None:
            nonlocal seen
            entries = call.transcript
            while seen < len(entries):
                self._react(call, entries[seen])
                seen += 1
            if call.ended:
                self._after_end(call)
            else:
                self.sim.at(self.sim.now + timedelta(seconds=WATCH_SECONDS), look)

        self.sim.at(call.started_at + timedelta(seconds=WATCH_SECONDS), look)

    def _react(self, call: Call, entry: Entry) -> None:
        planned = self._planned[call.sid]
        patience = planned.abandon_after
        if isinstance(entry, Enqueued) and patience is not None and "queued" not in planned.reacted:
            planned.reacted.add("queued")
            self.sim.at(entry.at + timedelta(seconds=patience), lambda: self._give_up(call))
        if not isinstance(entry, Bridged) or entry.call_sid != call.sid:
            return
        delay = planned.agent_transfer_after
        by_agent = entry.other in {a.caller for a in self.agents}
        if by_agent and delay is not None and "agent" not in planned.reacted:
            planned.reacted.add("agent")
            when = entry.at + timedelta(seconds=delay)
            self.sim.at(when, lambda: self._agent_transfer(call, entry))
        numbers = {d.number for d in self.config.departments}
        if entry.other in numbers and "connected" not in planned.reacted:
            planned.reacted.add("connected")
            leg = [c for c in call.children if c.to == entry.other][-1]
            self._follow_up(call, planned, leg=leg.sid, number=entry.other, bridged=entry.at)

    def _give_up(self, call: Call) -> None:
        """The caller hangs up, if still waiting in the queue (not yet answered)."""
        if self.sim.queues.find(call.sid) is not None:
            self.sim.hang_up(call, who="CALLER")

    def _agent_transfer(self, call: Call, bridged: Entry) -> None:
        """The agent presses "transfer" if the caller is still on the line with them."""
        later = call.transcript[call.transcript.index(bridged) + 1 :]
        moved = (HungUp, Redirected, Bridged)
        gone = any(isinstance(e, moved) for e in later if e.call_sid == call.sid)
        departments = self.callers.open_departments(self.sim.now)
        if call.ended or gone or not departments:
            return
        department = self.random.choice(departments)
        status = self.transfer_api(call.sid, department)
        self.records.api_statuses.append(status)
        if status == 202:
            requests = self.records.agent_transfers.setdefault(call.sid, [])
            requests.append((self.sim.now, department))

    def _follow_up(
        self, call: Call, planned: Planned, *, leg: str, number: str, bridged: datetime
    ) -> None:
        kind = planned.follow_up
        if kind == "hand_back_citizen" or (kind == "hand_back" and self.random.random() < 0.5):
            # The department's PBX sends the caller back while its first leg is still up.
            caller = call.from_ if kind == "hand_back_citizen" else number
            at = bridged + timedelta(seconds=self.random.uniform(5.0, 25.0))
            self._follow_up_at(at, caller=caller, scenario=kind, link=leg)
        elif kind == "recall":
            at = bridged + timedelta(hours=self.random.uniform(0.3, 20.0))
            self._follow_up_at(at, caller=call.from_, scenario="recall", link=leg)
        elif kind in ("hand_back", "late_recall"):
            planned.reacted.add(f"after:{kind}:{leg}:{number}")  # once the first call has ended

    def _after_end(self, call: Call) -> None:
        planned = self._planned[call.sid]
        for mark in sorted(m for m in planned.reacted if m.startswith("after:")):
            planned.reacted.discard(mark)
            _, kind, leg, number = mark.split(":", 3)
            assert call.ended_at is not None
            if kind == "hand_back":
                at = call.ended_at + timedelta(seconds=self.random.uniform(5.0, 90.0))
                self._follow_up_at(at, caller=number, scenario="hand_back", link=leg)
                continue
            # Calling again about a day after the conversation: just inside the recall window,
            # which counts from its end (yet more than a day after it began), or just outside.
            (talked,) = [t for t in connected_legs(call, self.departments) if t.id == leg]
            assert talked.connected_at is not None
            assert talked.ended_at is not None
            if self.random.random() < 0.5:
                low, high = talked.connected_at + DAY + MARGIN, talked.ended_at + DAY - MARGIN
                at = low + (high - low) * self.random.random()
                self._follow_up_at(at, caller=call.from_, scenario="late_recall", link=leg)
            else:
                at = talked.ended_at + DAY + timedelta(seconds=self.random.uniform(60, 1800))
                self._follow_up_at(at, caller=call.from_, scenario="late_call", link=None)

    def _follow_up_at(self, at: datetime, *, caller: str, scenario: str, link: str | None) -> None:
        """At `at`, call the main number, if the call clearly comes back from `link` (glossary
        and the glossary: a department hands back its most recent caller), and `link` has not
        returned yet; otherwise the call is not made, so that the truth is never ambiguous."""

        def place() -> None:
            now = self.sim.now
            started = [c for c in self.sim.calls if c.to == self.main and c.parent is None]
            department = self.departments.get(caller)
            if department is not None:
                numbers = {caller: department}
                dialled = [c for c in started if any(leg.to == caller for leg in c.children)]
                legs = [leg for c in dialled for leg in connected_legs(c, numbers)]
            else:
                mine = [c for c in started if c.from_ == caller]
                legs = [leg for c in mine for leg in connected_legs(c, self.departments)]
            found = came_back_from(legs, call_sid="", at=now)
            if (found[1].id if found else None) != link or link in self._returned:
                return
            if not clear_choice(legs, at=now, margin=MARGIN):
                return
            if link is not None:
                self._returned.add(link)
            planned = self.callers.follow_up_call(scenario, at=now)
            call = self.sim.place_call(from_=caller, to=self.main, script=planned.script, at=now)
            self.records.links[call.sid] = link
            self._planned[call.sid] = planned
            self.records.scenarios[call.sid] = planned.scenario

        self.sim.at(at, place)
