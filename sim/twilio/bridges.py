"""A bridge: two legs in conversation until one of them hangs up."""

from __future__ import annotations

from datetime import datetime

from sim.twilio.calls import Call
from sim.twilio.clock import Timer
from sim.twilio.process import Signal
from sim.twilio.transcript import HungUp


class Bridge:
    def __init__(self, *, a: Call, b: Call, started: datetime) -> None:
        self.a, self.b = a, b
        self.started = started
        self.ended = Signal()
        self.ended_at: datetime | None = None
        self._timers: list[Timer] = []

    def add_timer(self, timer: Timer) -> None:
        """A party's talk timer, which must not fire once the conversation is over."""
        self._timers.append(timer)

    def end(self, *, by: Call, at: datetime) -> None:
        if self.ended.fired:
            return
        self.ended_at = at
        for timer in self._timers:
            timer.cancel()
        other = self.b if by is self.a else self.a
        if other.transcript is not by.transcript:
            # The other party's own story needs the hang-up too; a dialled leg shares its
            # parent's transcript, where the hang-up is already written.
            party = by.from_ if by.direction == "inbound" else by.to
            other.transcript.append(HungUp(at=at, call_sid=other.sid, who=party))
        self.ended.fire(by)

    def duration(self, now: datetime) -> int:
        return round(((self.ended_at or now) - self.started).total_seconds())
