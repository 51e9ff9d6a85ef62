"""Faults in the delivery of status callbacks: duplicated, delayed (so reordered), or lost.

Twilio's status callbacks are separate requests with no ordering guarantee, a retry can
duplicate one, and one that fails is simply gone (twilio-protocol §5.3). The call flow never
waits for them, so faults here change only what the status endpoint sees, and when.
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

    def __post_init__(self) -> None:
        for name in ("duplicate_ratio", "drop_ratio"):
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
