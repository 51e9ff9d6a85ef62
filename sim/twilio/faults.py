"""Faults in Twilio's requests: status callbacks duplicated, delayed (so reordered) or lost,
and action requests sent twice.

Twilio's status callbacks are separate requests with no ordering guarantee, a retry can
duplicate one, and one that fails is simply gone (docs/twilio.md). The call flow never
waits for them, so faults here change only what the status endpoint sees, and when.

An action request (a Gather, Dial or Enqueue `action`) carries no sequence number, and Twilio
can send one again (a connect retry). With `duplicate_action_ratio` the simulator sends a
copy of that share of actions, up to `max_delay_seconds` later; the call goes on with the
first response and the copy's is ignored, so only the app's dedupe sees the difference.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Faults:
    duplicate_ratio: float = 0.0
    drop_ratio: float = 0.0
    max_delay_seconds: float = 0.0
    seed: int = 0
    duplicate_action_ratio: float = 0.0

    def __post_init__(self) -> None:
        for name in ("duplicate_ratio", "drop_ratio", "duplicate_action_ratio"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
        if self.max_delay_seconds < 0:
            raise ValueError("max_delay_seconds must not be negative")

    def planner(self) -> FaultPlanner:
        return FaultPlanner(self)


class FaultPlanner:
    def __init__(self, faults: Faults) -> None:
        self._faults = faults
        self._random = random.Random(faults.seed)  # noqa: S311 - reproducible faults

    def deliveries(self) -> list[float]:
        """Delays, in virtual seconds, of each delivery of one callback; empty when it is lost."""
        faults = self._faults
        if self._random.random() < faults.drop_ratio:
            return []
        copies = 2 if self._random.random() < faults.duplicate_ratio else 1
        return [self._random.uniform(0.0, faults.max_delay_seconds) for _ in range(copies)]

    def action_copies(self) -> list[float]:
        """Delays of the extra copies of one action request: usually none, sometimes one."""
        faults = self._faults
        if self._random.random() >= faults.duplicate_action_ratio:
            return []
        return [self._random.uniform(0.0, faults.max_delay_seconds)]
