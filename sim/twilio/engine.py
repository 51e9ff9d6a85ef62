"""The simulator's front door: numbers, departments, calls, and the virtual clock that runs them.

    sim = TwilioSimulator(
        http=TestClient(app),
        numbers={"+4756375000": PhoneNumberConfig(
            voice_url="https://ivr.example.no/twilio/voice",
            status_callback_url="https://ivr.example.no/twilio/status",
            fallback_url="https://ivr.example.no/twilio/fallback",
        )},
        departments={"+4756375101": Department.accepts("1")},
        start=datetime(2026, 12, 1, 9, 30, tzinfo=UTC),
    )
    call = sim.place_call(from_="+4791234567", to="+4756375000", script=[press("1")])
    sim.run()
    print(call.transcript_text())

Everything is synchronous: `run()` plays the event heap until nothing is left, `run_until(t)`
up to an instant, and tests can act in between (REST-like `dequeue_member`, `redirect_call`,
`hang_up_call`) or schedule their own actions with `at()`.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sim.twilio.callbacks import StatusCallbacks
from sim.twilio.calls import TERMINAL_STATUSES, Call, StatusCallback
from sim.twilio.clock import Clock, Timer
from sim.twilio.departments import Department
from sim.twilio.faults import Faults
from sim.twilio.flow import CallRedirected, Disconnected
from sim.twilio.interpreter import LegRunner
from sim.twilio.queues import Queue, Queues
from sim.twilio.scripts import Action
from sim.twilio.transcript import CallEnded, HungUp, Note, Requested
from sim.twilio.transport import HttpClient, RequestRecord, Transport
from sim.twilio.twiml import SimulatorLimitation
from switchboard.settings import DEV_TWILIO_TOKEN

DEFAULT_ACCOUNT_SID = "AC" + "0" * 32


@dataclass(frozen=True)
class PhoneNumberConfig:
    """A Twilio number's voice configuration, as on an IncomingPhoneNumber."""

    voice_url: str
    status_callback_url: str | None = None
    fallback_url: str | None = None


@dataclass(frozen=True)
class Timing:
    """How long things take in virtual time."""

    words_per_second: float = 2.5  # <Say> speed, and how fast a caller speaks
    play_seconds: float = 10.0  # one loop of a <Play> of unknown audio: nothing is fetched
    # One loop of a <Play> of these URLs, such as the configured hold music.
    audio_seconds: Mapping[str, float] = field(default_factory=dict)
    think_seconds: float = 1.0  # from the end of a prompt to the first key or word
    key_interval_seconds: float = 0.3
    speech_end_seconds: float = 1.0  # speechTimeout="auto": the pause that ends speech
    queue_talk_seconds: float = 60.0  # until the caller hangs up, unless a script says talk()
    wait_retry_seconds: float = 5.0  # after a failed waitUrl fetch
    max_call_seconds: float = 3600.0  # a safety net: the caller gives up after this
    max_requests_per_call: int = 1000  # a safety net against TwiML that loops without waiting


class TwilioSimulator:
    def __init__(
        self,
        *,
        http: HttpClient,
        auth_token: str = DEV_TWILIO_TOKEN,
        account_sid: str = DEFAULT_ACCOUNT_SID,
        numbers: Mapping[str, PhoneNumberConfig] | None = None,
        departments: Mapping[str, Department | Sequence[Department]] | None = None,
        default_department: Department | None = None,
        start: datetime | None = None,
        faults: Faults | None = None,
        seed: int = 0,
        timing: Timing | None = None,
    ) -> None:
        self.account_sid = account_sid
        self.numbers = dict(numbers or {})
        self.timing = timing or Timing()
        self.clock = Clock(start or datetime.now(UTC).replace(microsecond=0))
        self.transport = Transport(http=http, auth_token=auth_token, clock=self.clock)
        self._random = random.Random(seed)  # noqa: S311 - reproducible SIDs, not secrets
        self.callbacks = StatusCallbacks(
            clock=self.clock, transport=self.transport, faults=faults, new_token=self._hex
        )
        # A planner of its own, so that adding action faults leaves callback faults as they were.
        self._action_faults = faults.planner() if faults and faults.duplicate_action_ratio else None
        self.queues = Queues(lambda: self.new_sid("QU"))
        self._departments: dict[str, list[Department]] = {
            number: [behaviour] if isinstance(behaviour, Department) else list(behaviour)
            for number, behaviour in (departments or {}).items()
        }
        self._default_department = default_department or Department.no_answer()
        self._runners: dict[str, LegRunner] = {}
        self._patience: dict[str, Timer] = {}
        self.calls: list[Call] = []

    # --- what tests read ---------------------------------------------------------------------

    @property
    def now(self) -> datetime:
        return self.clock.now

    @property
    def requests(self) -> list[RequestRecord]:
        """Every HTTP request made, in the order made."""
        return self.transport.records

    @property
    def dropped_callbacks(self) -> list[dict[str, str]]:
        return self.callbacks.dropped

    def call(self, sid: str) -> Call:
        return self.runner(sid).call

    def queue(self, name: str) -> Queue:
        return self.queues.get(name)

    # --- starting calls ------------------------------------------------------------------------

    def place_call(
        self,
        *,
        from_: str,
        to: str,
        script: Iterable[Action] = (),
        at: datetime | None = None,
        forwarded_from: str | None = None,
    ) -> Call:
        """A call to one of the configured numbers; `forwarded_from` is what a carrier that
        forwarded the call reports (Twilio's ForwardedFrom), if anything."""
        if to not in self.numbers:
            raise KeyError(f"{to} is not a configured number: {sorted(self.numbers)}")
        number = self.numbers[to]
        return self.start_call(
            from_=from_,
            to=to,
            voice_url=number.voice_url,
            script=script,
            at=at,
            status_callback_url=number.status_callback_url,
            fallback_url=number.fallback_url,
            forwarded_from=forwarded_from,
        )

    def start_call(
        self,
        *,
        from_: str,
        to: str,
        voice_url: str,
        script: Iterable[Action] = (),
        at: datetime | None = None,
        status_callback_url: str | None = None,
        fallback_url: str | None = None,
        forwarded_from: str | None = None,
    ) -> Call:
        """An inbound call to any voice URL, such as an agent's phone calling the agent app."""
        when = max(at or self.clock.now, self.clock.now)
        call = Call(
            sid=self.new_sid("CA"),
            account_sid=self.account_sid,
            from_=from_,
            to=to,
            direction="inbound",
            started_at=when,
            voice_url=voice_url,
            fallback_url=fallback_url,
            status_callback=StatusCallback(status_callback_url) if status_callback_url else None,
            call_token=self._hex() + self._hex(),
            forwarded_from=forwarded_from,
        )
        runner = LegRunner(sim=self, call=call, script=script, actor="CALLER")
        self._runners[call.sid] = runner
        self.calls.append(call)

        def begin() -> None:
            if call.hung_up_by is not None:  # hung up by the API before it started
                self.end_leg(call, "canceled")
                return
            self._patience[call.sid] = self.clock.after(
                self.timing.max_call_seconds, lambda: self._give_up(call)
            )
            runner.start(runner.run_inbound())

        self.clock.at(when, begin)
        return call

    def create_child(
        self,
        *,
        parent: Call,
        to: str,
        from_: str,
        status_callback: StatusCallback | None,
        script: Iterable[Action],
    ) -> LegRunner:
        """A leg created by <Dial>; it writes into its parent's transcript."""
        child = Call(
            sid=self.new_sid("CA"),
            account_sid=self.account_sid,
            from_=from_,
            to=to,
            direction="outbound-dial",
            started_at=self.clock.now,
            status_callback=status_callback,
            parent=parent,
            status="queued",
            transcript=parent.transcript,
        )
        parent.children.append(child)
        runner = LegRunner(sim=self, call=child, script=script, actor="CALLEE")
        self._runners[child.sid] = runner
        return runner

    # --- running -------------------------------------------------------------------------------

    def run(self) -> None:
        """Run until no call has anything left to do."""
        self.clock.run()

    def run_until(self, until: datetime) -> None:
        self.clock.run(until)

    def run_for(self, seconds: float) -> None:
        self.clock.run(self.clock.now + timedelta(seconds=seconds))

    def at(self, when: datetime, action: Callable[[], None]) -> None:
        """Do something at a virtual instant, such as a REST dequeue."""
        self.clock.at(when, action)

    # --- REST-like control of live calls -----------------------------------------------------

    def dequeue_member(
        self, queue_name: str, call_sid: str, url: str, *, method: str = "POST"
    ) -> None:
        """Take a chosen caller out of a queue and run `url` on their call (docs/twilio.md,
        Queues)."""
        member = self.queues.get(queue_name).take(self.clock.now, call_sid=call_sid)
        if member is None:
            raise LookupError(f"{call_sid} is not waiting in queue {queue_name!r}")
        self.runner(call_sid).interrupt(CallRedirected(url, method))

    def redirect_call(self, call_sid: str, url: str, *, method: str = "POST") -> None:
        """Like `calls(sid).update(url=...)`: the call stops what it does and runs `url`."""
        runner = self.runner(call_sid)
        if runner.call.parent is not None:
            raise SimulatorLimitation("the simulator does not redirect a dialled leg")
        if runner.queue_member is not None:
            runner.queue_member.queue.remove(runner.queue_member)
        runner.interrupt(CallRedirected(url, method))

    def hang_up_call(self, call_sid: str) -> None:
        """Like `calls(sid).update(status="completed")`."""
        self.hang_up(self.call(call_sid), who="API")

    # --- used by the legs --------------------------------------------------------------------

    def runner(self, sid: str) -> LegRunner:
        try:
            return self._runners[sid]
        except KeyError:
            raise LookupError(f"no call {sid}") from None

    def new_sid(self, prefix: str) -> str:
        return prefix + self._hex()

    def _hex(self) -> str:
        return f"{self._random.getrandbits(128):032x}"

    def department_for(self, number: str) -> Department:
        behaviours = self._departments.get(number)
        if not behaviours:
            return self._default_department
        # One behaviour per dial; the last one repeats.
        return behaviours.pop(0) if len(behaviours) > 1 else behaviours[0]

    def repeat_action(
        self, call: Call, *, url: str, method: str, params: dict[str, str], kind: str
    ) -> None:
        """Maybe send an action request again, later (`Faults.duplicate_action_ratio`)."""
        if self._action_faults is None:
            return
        for delay in self._action_faults.action_copies():

            def send_copy() -> None:
                record = self.transport.send(
                    method=method, url=url, params=params, kind=kind, call_sid=call.sid
                )
                call.requests.append(record)
                call.transcript.append(
                    Requested(
                        at=self.clock.now,
                        call_sid=call.sid,
                        kind=f"{kind}, repeated",
                        method=record.method,
                        url=record.url,
                        status=record.status,
                    )
                )

            self.clock.after(delay, send_copy)

    def hang_up(self, call: Call, *, who: str) -> None:
        """A party (or the API) hangs up a leg: bookkeeping now, the leg's process reacts."""
        if call.ended or call.hung_up_by is not None:
            return
        call.hung_up_by = who
        call.status = "completed"
        call.transcript.append(HungUp(at=self.clock.now, call_sid=call.sid, who=who))
        runner = self.runner(call.sid)
        if runner.queue_member is not None:
            # Out of the queue at once, so no agent takes a caller who is gone.
            runner.queue_member.queue.remove(runner.queue_member)
        runner.interrupt(Disconnected(who))

    def _give_up(self, call: Call) -> None:
        if call.ended:
            return
        call.transcript.append(
            Note(
                at=self.clock.now, call_sid=call.sid, text="the caller gives up (max_call_seconds)"
            )
        )
        self.hang_up(call, who="CALLER")

    def end_leg(self, call: Call, status: str) -> None:
        if call.ended:
            return
        assert status in TERMINAL_STATUSES
        call.status = status
        call.ended_at = self.clock.now
        patience = self._patience.pop(call.sid, None)
        if patience is not None:
            patience.cancel()
        if call.parent is None:
            call.transcript.append(
                CallEnded(
                    at=self.clock.now, call_sid=call.sid, status=status, duration=call.duration
                )
            )
        self.callbacks.emit(call, "completed")
