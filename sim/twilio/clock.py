"""The virtual clock and its event heap: the discrete-event core that every simulated call runs on.

Nothing in the simulator reads the wall clock. Time moves only when the next event on the heap is
due, so an hour of queue traffic plays in milliseconds and two runs with the same seed are
identical. Events due at the same instant run in the order they were scheduled.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta


@dataclass(eq=False)
class Timer:
    due: datetime
    action: Callable[[], None] = field(repr=False)
    cancelled: bool = False

    def cancel(self) -> None:
        self.cancelled = True


class Clock:
    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("the simulator's start time must be timezone-aware")
        self._now = start.astimezone(UTC)
        self._heap: list[tuple[datetime, int, Timer]] = []
        self._order = itertools.count()

    @property
    def now(self) -> datetime:
        return self._now

    def at(self, due: datetime, action: Callable[[], None]) -> Timer:
        # An event can never run in the past: a late schedule runs "now", after what is queued.
        timer = Timer(due=max(due.astimezone(UTC), self._now), action=action)
        heapq.heappush(self._heap, (timer.due, next(self._order), timer))
        return timer

    def after(self, seconds: float, action: Callable[[], None]) -> Timer:
        return self.at(self._now + timedelta(seconds=max(seconds, 0.0)), action)

    @property
    def idle(self) -> bool:
        return all(timer.cancelled for _, _, timer in self._heap)

    def next_due(self) -> datetime | None:
        while self._heap and self._heap[0][2].cancelled:
            heapq.heappop(self._heap)
        return self._heap[0][0] if self._heap else None

    def run(self, until: datetime | None = None) -> None:
        """Run events in time order until the heap is empty or the next one is after `until`."""
        while (due := self.next_due()) is not None and (until is None or due <= until):
            _, _, timer = heapq.heappop(self._heap)
            self._now = timer.due
            timer.action()
        if until is not None and until > self._now:
            self._now = until.astimezone(UTC)
