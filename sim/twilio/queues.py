"""Twilio queues: named, created on demand, first in first out (docs/twilio.md)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sim.twilio.calls import Call
from sim.twilio.process import Signal

DEFAULT_MAX_SIZE = 1000


@dataclass(eq=False)
class Member:
    call: Call
    queue: Queue
    joined_at: datetime
    taken_at: datetime | None = None
    bridged: bool = False

    def waited(self, now: datetime) -> int:
        return round(((self.taken_at or now) - self.joined_at).total_seconds())


class Queue:
    def __init__(self, *, name: str, sid: str, max_size: int = DEFAULT_MAX_SIZE) -> None:
        self.name = name
        self.sid = sid
        self.max_size = max_size
        self.members: list[Member] = []
        self._arrivals: list[Signal] = []
        self._served_waits: list[int] = []

    def __repr__(self) -> str:
        return f"Queue({self.name!r}, {[m.call.sid for m in self.members]})"

    @property
    def full(self) -> bool:
        return len(self.members) >= self.max_size

    @property
    def average_wait(self) -> int:
        """AvgQueueTime: the mean wait of callers taken from this queue so far."""
        if not self._served_waits:
            return 0
        return round(sum(self._served_waits) / len(self._served_waits))

    def join(self, call: Call, now: datetime) -> Member:
        member = Member(call=call, queue=self, joined_at=now)
        self.members.append(member)
        arrivals, self._arrivals = self._arrivals, []
        for signal in arrivals:
            signal.fire()
        return member

    def arrival(self) -> Signal:
        """A signal that fires when the next caller joins."""
        signal = Signal()
        self._arrivals.append(signal)
        return signal

    def position(self, member: Member) -> int:
        return self.members.index(member) + 1

    def remove(self, member: Member) -> None:
        if member in self.members:
            self.members.remove(member)

    def take(self, now: datetime, *, call_sid: str | None = None) -> Member | None:
        """Take the head of the queue, or the member on `call_sid` (a REST dequeue)."""
        chosen = [m for m in self.members if call_sid is None or m.call.sid == call_sid]
        if not chosen:
            return None
        member = chosen[0]
        self.members.remove(member)
        member.taken_at = now
        self._served_waits.append(member.waited(now))
        return member

    def params(self, member: Member, now: datetime) -> dict[str, str]:
        """What a waitUrl request carries besides the standard parameters."""
        return {
            "QueuePosition": str(self.position(member)),
            "QueueSid": self.sid,
            "QueueTime": str(member.waited(now)),
            "AvgQueueTime": str(self.average_wait),
            "CurrentQueueSize": str(len(self.members)),
            "MaxQueueSize": str(self.max_size),
        }


class Queues:
    def __init__(self, new_sid: Callable[[], str]) -> None:
        self._new_sid = new_sid
        self._by_name: dict[str, Queue] = {}

    def get(self, name: str) -> Queue:
        if name not in self._by_name:
            self._by_name[name] = Queue(name=name, sid=self._new_sid())
        return self._by_name[name]

    def all(self) -> list[Queue]:
        return list(self._by_name.values())

    def by_sid(self, sid: str) -> Queue | None:
        return next((q for q in self._by_name.values() if q.sid == sid), None)

    @staticmethod
    def member_of(queue: Queue, call_sid: str) -> Member | None:
        return next((m for m in queue.members if m.call.sid == call_sid), None)

    def find(self, call_sid: str) -> Member | None:
        for queue in self._by_name.values():
            for member in queue.members:
                if member.call.sid == call_sid:
                    return member
        return None
