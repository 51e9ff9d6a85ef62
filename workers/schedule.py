"""Background rounds in the ingest process: the sweep and the purge each run in a thread of
their own, every `interval` seconds, until the consumer's stop event is set."""

from __future__ import annotations

import threading
from typing import Protocol


class Rounds(Protocol):
    def run_forever(self, stop: threading.Event, *, interval: float) -> None: ...


def start_rounds(
    rounds: Rounds, *, name: str, interval: float, stop: threading.Event
) -> threading.Thread:
    """Run `rounds.run_forever` in a daemon thread called `name`; the thread."""
    thread = threading.Thread(
        target=rounds.run_forever, kwargs={"stop": stop, "interval": interval}, daemon=True
    )
    thread.name = name
    thread.start()
    return thread
