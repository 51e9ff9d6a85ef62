"""The people in simulated traffic: who calls, what they press, and how departments answer.

Mixes are quotas rather than independent draws: of 40 open-hours calls, 42% are IVR transfers
as nearly as whole numbers allow, every kind in a mix occurs at least once when there are
enough calls, and the order is shuffled. So a small seeded run still has each kind of traffic,
and a large one has the intended shares.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime

from ivr.config import SWITCHBOARD, Config, Language
from ivr.hours import Hours
from ivr.layout import open_levels
from sim.twilio import Department, hang_up_after, press, talk
from sim.twilio.scripts import Action

AFTER_HOURS_SHARE = 0.1  # the survey: about 90% of calls come while the line is open
OPEN_MIX = {
    "ivr_transfer": 0.42,
    "queue": 0.27,
    "agent_transfer": 0.13,
    "abandon": 0.06,
    "queue_callback": 0.04,
    "queue_sms": 0.03,
    "transfer_hang_up": 0.02,
    "menu_hang_up": 0.02,
    "prompt_hang_up": 0.01,  # chose the switchboard, hung up before the queue: no visit
}
TRANSFERRING = frozenset({"ivr_transfer", "agent_transfer"})
CLOSED_MIX = {"sms": 0.25, "callback": 0.2, "on_call": 0.1, "department": 0.1, "nothing": 0.35}
DEPARTMENT_MIX = {
    "accepts": 0.84,
    "declines": 0.04,
    "busy": 0.04,
    "no_answer": 0.05,
    "failed": 0.03,
}
# What follows a transfer that connects: nothing, the department hands the caller back (from
# its number; or from the citizen's own number while the first leg is still up), a recall, or
# a call about a day after the conversation (just inside the recall window, or just outside).
FOLLOW_UPS = {
    "none": 0.7,
    "hand_back": 0.1,
    "hand_back_citizen": 0.03,
    "recall": 0.15,
    "late_recall": 0.02,
}
QUEUE_CALLBACK_KEY, QUEUE_SMS_KEY = "1", "2"  # the keys ivr.queue.choice listens for


def quota(weights: dict[str, float], n: int, rng: random.Random) -> list[str]:
    """`n` labels in proportion to `weights` (at least one each if n allows), shuffled."""
    total = sum(weights.values())
    exact = {label: n * weight / total for label, weight in weights.items()}
    counts = {label: math.floor(value) for label, value in exact.items()}
    if n >= len(weights):
        for label in counts:
            counts[label] = max(counts[label], 1)
    by_remainder = sorted(exact, key=lambda label: exact[label] - counts[label], reverse=True)
    while sum(counts.values()) < n:
        for label in by_remainder:
            if sum(counts.values()) < n:
                counts[label] += 1
    while sum(counts.values()) > n:  # the minimums overshot: take from the largest
        counts[max(counts, key=lambda label: counts[label])] -= 1
    labels = [label for label, count in counts.items() for _ in range(count)]
    rng.shuffle(labels)
    return labels


@dataclass
class Planned:
    """One call as the generator means it, and what it will react to while the call goes on."""

    scenario: str
    script: list[Action]
    follow_up: str = "none"
    agent_transfer_after: float | None = None  # seconds into the talk with the agent
    abandon_after: float | None = None  # seconds in the queue before giving up
    reacted: set[str] = field(default_factory=set)


class Callers:
    def __init__(self, *, config: Config, hours: Hours, rng: random.Random) -> None:
        self.config = config
        self.hours = hours
        self.random = rng
        self._numbers: set[str] = set()

    def citizen(self) -> str:
        """A fresh number: mostly mobiles, some landlines, some withheld."""
        kind = self.random.random()
        if kind < 0.08:
            return "anonymous"
        while True:
            if kind < 0.2:
                number = f"+4755{self.random.randrange(100000, 999999)}"  # a landline
            else:
                number = f"+47{self.random.choice('49')}{self.random.randrange(1000000, 9999999)}"
            if number not in self._numbers:
                self._numbers.add(number)
                return number

    def department_behaviours(self, dials: int) -> dict[str, list[Department]]:
        """Per department number, one behaviour per dial in dial order (the simulator's
        `departments`): each department's first dial goes round the kinds, so that a small
        run has them all; later dials follow the mix."""
        behaviours: dict[str, list[Department]] = {}
        for index, department in enumerate(self.config.departments):
            first = list(DEPARTMENT_MIX)[index % len(DEPARTMENT_MIX)]
            kinds = [first, *quota(DEPARTMENT_MIX, max(dials, 100), self.random)]
            behaviours[department.number] = [self._behaviour(kind) for kind in kinds]
            if department.on_call is not None:
                behaviours[department.on_call.number] = [Department.accepts("1")]
        return behaviours

    def _behaviour(self, kind: str) -> Department:
        ring = self.random.uniform(2.0, 12.0)
        talk_seconds = self.random.uniform(60.0, 420.0)
        if kind == "accepts":
            return Department.accepts("1", ring_seconds=ring, talk_seconds=talk_seconds)
        if kind == "declines":
            return Department.declines(ring_seconds=ring)
        if kind == "busy":
            return Department.busy()
        if kind == "no_answer":
            return Department.no_answer()
        return Department.failed()

    def open_departments(self, at: datetime) -> list[str]:
        return [d.id for d in self.config.departments if self.hours.is_open(d.id, at)]

    def key(self, target: str, *, menu: str = "open") -> str:
        keys = self.config.menus.open if menu == "open" else self.config.menus.closed
        return next(key for key, value in keys.items() if value == target)

    def choose(self, department: str, *, language: Language = "nn") -> list[Action]:
        """The keys a caller presses for a department in the open menu, as they hear it: its
        key when the top level offers it, else "other departments" first, then its key."""
        target = f"department:{department}"
        top, _rest = open_levels(self.config, language)
        key = press(self.key(target))
        return [key] if target in top else [press(self.config.menus.more_key), key]

    def _talk(self, low: float = 60.0, high: float = 360.0) -> Action:
        return talk(self.random.uniform(low, high))

    def _number_keys(self) -> Action:
        return press(f"55{self.random.randrange(100000, 999999)}#")

    def open_call(self, scenario: str, *, caller: str, at: datetime, follow_up: str) -> Planned:
        """A call while the switchboard is open; `follow_up` applies if a transfer connects."""
        queue = press(self.key("switchboard"))
        departments = self.open_departments(at)
        mobile = caller.startswith(("+474", "+479"))
        if scenario in {"ivr_transfer", "transfer_hang_up"} and not departments:
            scenario = "queue"
        if scenario == "queue_sms" and not mobile:
            scenario = "queue"
        if caller == "anonymous" and follow_up in {"recall", "late_recall", "hand_back_citizen"}:
            follow_up = "hand_back"  # no number to recognise them by; their department can
        if scenario == "ivr_transfer":
            department = self.random.choice(departments)
            if self.random.random() < 0.05:
                keys = [press(self.key("english")), *self.choose(department, language="en")]
            else:
                keys = self.choose(department)
            return Planned(scenario, [*keys, self._talk(60, 400), self._talk()], follow_up)
        if scenario == "agent_transfer":
            # Talks with the agent until transferred, then with the department (or the next
            # agent after a bounce).
            script: list[Action] = [queue, talk(3600), self._talk(60, 400), self._talk()]
            after = self.random.uniform(20.0, 90.0)
            return Planned(scenario, script, follow_up, agent_transfer_after=after)
        if scenario == "transfer_hang_up":
            keys = self.choose(self.random.choice(departments))
            return Planned(scenario, [*keys, hang_up_after(self.random.uniform(5.0, 20.0))])
        if scenario == "abandon":
            # Gives up after this long in the queue (some within 5 s), unless answered first.
            short = self.random.random() < 0.4
            patience = self.random.uniform(0.5, 4.0) if short else self.random.uniform(6.0, 120.0)
            return Planned(scenario, [queue, self._talk()], abandon_after=patience)
        if scenario == "queue_callback":
            ask = press(QUEUE_CALLBACK_KEY)
            script = [queue, ask]
            if not mobile:
                script += [self._number_keys(), press("1")]
            return Planned(scenario, script)
        if scenario == "queue_sms":
            return Planned(scenario, [queue, press(QUEUE_SMS_KEY), self._talk()])
        if scenario == "prompt_hang_up":
            # Hangs up while the prompt before the queue still plays: never joins it.
            return Planned(scenario, [queue, hang_up_after(self.random.uniform(1.6, 3.0))])
        if scenario == "menu_hang_up":
            return Planned(scenario, [hang_up_after(self.random.uniform(3.0, 20.0))])
        script = [queue, self._talk()]
        if self.random.random() < 0.15:  # some regular callers give up after a while
            script.append(hang_up_after(self.random.uniform(60.0, 400.0)))
        return Planned("queue", script)

    def closed_call(self, choice: str, *, caller: str, at: datetime) -> Planned:
        """A call while the switchboard is closed, choosing from the closed menu."""
        mobile = caller.startswith(("+474", "+479"))
        departments = self.open_departments(at)
        on_call = [d for d in self.config.departments if d.on_call is not None]
        if (choice == "sms" and not mobile) or (choice == "department" and not departments):
            choice = "nothing"
        if choice == "on_call" and not on_call:
            choice = "nothing"
        scenario = f"after_hours_{choice}"
        if choice == "sms":
            return Planned(scenario, [press(self.key("sms", menu="closed"))])
        if choice == "callback":
            script: list[Action] = [press(self.key("callback", menu="closed"))]
            if not mobile:
                script += [self._number_keys(), press("1")]
            return Planned(scenario, script)
        if choice == "on_call":
            key = press(self.key(f"department:{on_call[0].id}", menu="closed"))
            return Planned(scenario, [key, self._talk(30, 120)])
        if choice == "department":
            target = f"department:{self.random.choice(departments)}"
            return Planned(scenario, [press(self.key(target, menu="closed")), self._talk(60, 300)])
        return Planned(scenario, [hang_up_after(self.random.uniform(10.0, 40.0))])

    def follow_up_call(self, scenario: str, *, at: datetime) -> Planned:
        """A hand-back or a recall: mostly to the switchboard, some straight to a department;
        when the switchboard has closed meanwhile, the caller listens and hangs up."""
        if not self.hours.is_open(SWITCHBOARD, at):
            return Planned(scenario, [hang_up_after(self.random.uniform(10.0, 40.0))])
        departments = self.open_departments(at)
        if self.random.random() < 0.6 or not departments:
            return Planned(scenario, [press(self.key("switchboard")), self._talk()])
        keys = self.choose(self.random.choice(departments))
        return Planned(scenario, [*keys, self._talk(60, 300), self._talk()])
