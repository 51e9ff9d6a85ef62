"""Call legs as Twilio sees them, and the standard parameters sent on every request
(docs/twilio.md, Requests).

A `Call` is one leg: an inbound call to a number (Direction=inbound) or a leg created by
`<Dial>` (outbound-dial, with ParentCallSid). A dialled leg writes into its parent's
transcript, so a call's transcript tells the whole story of the call.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from sim.twilio.transcript import Entry, render
from sim.twilio.transport import RequestRecord
from sim.twilio.twiml import Method

Direction = Literal["inbound", "outbound-dial"]
TERMINAL_STATUSES = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})

# Enough of a geo lookup for the numbers a Norwegian switchboard sees; others get blank fields.
COUNTRY_PREFIXES = (
    ("+47", "NO"),
    ("+46", "SE"),
    ("+45", "DK"),
    ("+358", "FI"),
    ("+354", "IS"),
    ("+44", "GB"),
    ("+49", "DE"),
    ("+1", "US"),
)
GEO_FIELDS = ("City", "State", "Zip")


def country_of(number: str) -> str:
    for prefix, country in COUNTRY_PREFIXES:
        if number.startswith(prefix):
            return country
    return ""


@dataclass(frozen=True)
class StatusCallback:
    url: str
    method: Method = "POST"
    events: frozenset[str] = frozenset({"completed"})


@dataclass(eq=False)
class Call:
    sid: str
    account_sid: str
    from_: str
    to: str
    direction: Direction
    started_at: datetime
    voice_url: str | None = None
    fallback_url: str | None = None
    status_callback: StatusCallback | None = None
    parent: Call | None = None
    call_token: str | None = None
    forwarded_from: str | None = None  # sent as ForwardedFrom only when a carrier gave it
    status: str = "ringing"
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    hung_up_by: str | None = None
    transcript: list[Entry] = field(default_factory=list, repr=False)
    requests: list[RequestRecord] = field(default_factory=list, repr=False)
    children: list[Call] = field(default_factory=list, repr=False)
    _sequence: int = field(default=0, repr=False)

    @property
    def ended(self) -> bool:
        return self.ended_at is not None

    @property
    def duration(self) -> int:
        """CallDuration: whole seconds from answer to end (0 if never answered)."""
        if self.answered_at is None or self.ended_at is None:
            return 0
        return round((self.ended_at - self.answered_at).total_seconds())

    @property
    def billed_minutes(self) -> int:
        return math.ceil(self.duration / 60)

    def next_sequence_number(self) -> int:
        number, self._sequence = self._sequence, self._sequence + 1
        return number

    def params(self) -> dict[str, str]:
        """The standard parameters (docs/twilio.md), blank geo fields included."""
        from_country, to_country = country_of(self.from_), country_of(self.to)
        params = {
            "CallSid": self.sid,
            "AccountSid": self.account_sid,
            "From": self.from_,
            "To": self.to,
            "CallStatus": self.status,
            "ApiVersion": "2010-04-01",
            "Direction": self.direction,
            "Caller": self.from_,
            "Called": self.to,
            "FromCountry": from_country,
            "ToCountry": to_country,
            **{f"From{name}": "" for name in GEO_FIELDS},
            **{f"To{name}": "" for name in GEO_FIELDS},
            "CallerCountry": from_country,
            "CalledCountry": to_country,
            **{f"Caller{name}": "" for name in GEO_FIELDS},
            **{f"Called{name}": "" for name in GEO_FIELDS},
        }
        if self.parent is not None:
            params["ParentCallSid"] = self.parent.sid
        if self.call_token is not None:
            params["CallToken"] = self.call_token
        if self.forwarded_from is not None:
            params["ForwardedFrom"] = self.forwarded_from
        return params

    def transcript_text(self, *, times: bool = False, requests: bool = False) -> str:
        """The transcript as readable lines; `times` prefixes [mm:ss.s] since the call started."""
        return render(self.transcript, start=self.started_at, times=times, requests=requests)
