"""Processes: one generator per call leg, suspended on the virtual clock.

A leg's behaviour is written as straight-line code (`yield Sleep(3)` while a prompt plays,
`yield WaitFor(signal)` while a queue waits), and the engine resumes it when the clock gets
there. This keeps TwiML interpretation readable while hundreds of calls progress at once.

Something outside a leg (a caller hanging up, an agent taking the caller from a queue, a REST
redirect) reaches it by `interrupt()`: the exception is thrown into the generator where it is
suspended, so each TwiML context cleans up in its own `except` clause. Interrupts win over a
wake-up that is already scheduled; shared state is therefore kept on objects (a bridge, a dial
outcome) and a wake-up is only a nudge to look at it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Generator
from dataclasses import dataclass
from typing import Final, TypeVar

from sim.twilio.clock import Clock, Timer

T = TypeVar("T")


class Interrupt(Exception):
    """Thrown into a suspended leg by something that happened elsewhere."""


@dataclass(frozen=True)
class Sleep:
    seconds: float


class Signal:
    """A one-shot event carrying a value; processes can wait for it."""

    def __init__(self) -> None:
        self.fired = False
        self.value: object = None
        self._waiters: list[Process] = []

    def fire(self, value: object = None) -> None:
        if self.fired:
            return
        self.fired = True
        self.value = value
        waiters, self._waiters = self._waiters, []
        for process in waiters:
            process.wake(self)

    def add_waiter(self, process: Process) -> None:
        self._waiters.append(process)

    def remove_waiter(self, process: Process) -> None:
        if process in self._waiters:
            self._waiters.remove(process)


@dataclass(frozen=True)
class WaitFor:
    signal: Signal
    timeout: float | None = None


class _Timeout:
    def __repr__(self) -> str:
        return "TIMEOUT"


TIMEOUT: Final = _Timeout()
"""What a `WaitFor` returns when its timeout passes before the signal fires."""

Wait = Sleep | WaitFor
Steps = Generator[Wait, object, T]


class Process:
    def __init__(self, *, clock: Clock, steps: Steps[None], name: str) -> None:
        self.name = name
        self.finished = False
        self._clock = clock
        self._steps = steps
        self._timer: Timer | None = None
        self._waiting_on: Signal | None = None
        self._throw_scheduled = False
        self._running = False
        self._interrupts: deque[BaseException] = deque()

    def __repr__(self) -> str:
        return f"Process({self.name!r}, finished={self.finished})"

    def start(self) -> None:
        self._timer = self._clock.after(0, lambda: self._advance(None, None))

    def wake(self, signal: Signal) -> None:
        if self._waiting_on is not signal:
            return
        self._waiting_on = None
        self._cancel_timer()
        self._timer = self._clock.after(0, lambda: self._advance(signal.value, None))

    def interrupt(self, error: BaseException) -> None:
        if self.finished:
            return
        if self._running or self._throw_scheduled:
            # Delivered at the process's next suspension point.
            self._interrupts.append(error)
            return
        self._stop_waiting()
        self._throw_scheduled = True
        self._timer = self._clock.after(0, lambda: self._advance(None, error))

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _stop_waiting(self) -> None:
        self._cancel_timer()
        if self._waiting_on is not None:
            self._waiting_on.remove_waiter(self)
            self._waiting_on = None

    def _advance(self, value: object, error: BaseException | None) -> None:
        self._stop_waiting()
        self._throw_scheduled = False
        self._running = True
        try:
            while True:
                try:
                    command = (
                        self._steps.throw(error) if error is not None else self._steps.send(value)
                    )
                except (StopIteration, Interrupt):
                    # An interrupt nobody caught simply ends the leg's behaviour.
                    self.finished = True
                    self._interrupts.clear()
                    return
                if self._interrupts:
                    error, value = self._interrupts.popleft(), None
                    continue
                self._suspend(command)
                return
        finally:
            self._running = False

    def _suspend(self, command: Wait) -> None:
        if isinstance(command, Sleep):
            self._timer = self._clock.after(command.seconds, lambda: self._advance(None, None))
            return
        signal = command.signal
        if signal.fired:
            self._timer = self._clock.after(0, lambda: self._advance(signal.value, None))
            return
        self._waiting_on = signal
        signal.add_waiter(self)
        if command.timeout is not None:
            self._timer = self._clock.after(command.timeout, lambda: self._advance(TIMEOUT, None))
