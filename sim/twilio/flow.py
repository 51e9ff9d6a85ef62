"""Control flow between legs: the interrupts thrown into a suspended leg, and verb exits.

Interrupt (thrown into a leg from outside; see process.py)
├── Disconnected     the leg is hung up: by its party, by the API, or by <Hangup/>
├── CallRedirected   REST update with a new URL, or a REST dequeue of a queue member
├── TakenFromQueue   an agent's <Dial><Queue> took this caller from the queue
└── ParentGone       the parent of a dialled leg hung up or was redirected
LeftQueue            <Leave/> in a waitUrl document
CallRejected         <Reject> as the first verb
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.twilio.process import Interrupt

if TYPE_CHECKING:
    from sim.twilio.dialing import QueueDial


class Disconnected(Interrupt):
    def __init__(self, who: str) -> None:
        super().__init__(who)
        self.who = who


class CallRedirected(Interrupt):
    def __init__(self, url: str, method: str = "POST") -> None:
        super().__init__(url)
        self.url = url
        self.method = method


class TakenFromQueue(Interrupt):
    def __init__(self, session: QueueDial) -> None:
        super().__init__("taken from the queue")
        self.session = session


class ParentGone(Interrupt):
    pass


class LeftQueue(Exception):
    pass


class CallRejected(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
