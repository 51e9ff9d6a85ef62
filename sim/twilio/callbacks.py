"""Status callbacks: call-progress events sent on their own, later, maybe twice, maybe never.

The inbound leg reports only its final event to the number's status callback URL; a dialled
leg reports the events its `<Number statusCallbackEvent>` asked for. Each event is numbered
from 0 per leg (SequenceNumber) when it fires, then delivered as a scheduled event: with
`Faults` a delivery can be delayed (so reordered), duplicated with the same
`I-Twilio-Idempotency-Token`, or dropped (docs/twilio.md, Status callbacks).
"""

from __future__ import annotations

from collections.abc import Callable
from email.utils import format_datetime

from sim.twilio.calls import Call
from sim.twilio.clock import Clock
from sim.twilio.faults import Faults
from sim.twilio.transcript import Requested
from sim.twilio.transport import Transport


class StatusCallbacks:
    def __init__(
        self,
        *,
        clock: Clock,
        transport: Transport,
        faults: Faults | None,
        new_token: Callable[[], str],
    ) -> None:
        self._clock = clock
        self._transport = transport
        self._planner = faults.planner() if faults is not None else None
        self._new_token = new_token
        self.dropped: list[dict[str, str]] = []

    def emit(self, call: Call, event: str) -> None:
        """Fire `event` (initiated, ringing, answered, completed) if the leg asked for it."""
        config = call.status_callback
        if config is None or event not in config.events:
            return
        params = call.params()
        params.update(
            {
                "Timestamp": format_datetime(self._clock.now),
                "CallbackSource": "call-progress-events",
                "SequenceNumber": str(call.next_sequence_number()),
            }
        )
        if event == "completed":
            params["CallDuration"] = str(call.duration)
            if call.status == "completed":
                params["Duration"] = str(call.billed_minutes)
        token = self._new_token()
        delays = self._planner.deliveries() if self._planner is not None else [0.0]
        if not delays:
            self.dropped.append(params)
        for delay in delays:
            self._clock.after(
                delay,
                lambda: self._deliver(
                    call, url=config.url, method=config.method, params=params, token=token
                ),
            )

    def _deliver(
        self, call: Call, *, url: str, method: str, params: dict[str, str], token: str
    ) -> None:
        record = self._transport.send(
            method=method,
            url=url,
            params=params,
            kind="status-callback",
            call_sid=call.sid,
            headers={"I-Twilio-Idempotency-Token": token},
        )
        call.requests.append(record)
        call.transcript.append(
            Requested(
                at=self._clock.now,
                call_sid=call.sid,
                kind=record.kind,
                method=record.method,
                url=record.url,
                status=record.status,
            )
        )
