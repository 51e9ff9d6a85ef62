"""The switchboard's queue and transfer settings, part of the municipality file (ivr/config.py).

Pure pydantic models: the hold music between queue announcements, the queue's waits and grace,
and the transfers' timeouts and loop guard.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field, field_validator

from ivr.fields import Strict


class HoldMusic(Strict):
    """The track played between queue announcements; `seconds` is one play of it, which sets
    the loop count (docs/twilio.md, "Queues"). Twilio fetches it, so it must be https."""

    # Twilio's public hold-music bucket (its samples use http://com.twilio.sounds.music.s3...);
    # the path-style https form, since the bucket's dotted name breaks the wildcard certificate.
    url: str = "https://s3.amazonaws.com/com.twilio.sounds.music/MARKOVICHAMP-Borghestral.mp3"
    seconds: Annotated[float, Field(gt=0)] = 60.0

    @field_validator("url")
    @classmethod
    def _https(cls, value: str) -> str:
        if not re.fullmatch(r"https://[^/\s]+/\S+", value):
            raise ValueError(f"{value!r} is not an https URL of an audio file")
        return value


class Queue(Strict):
    max_wait_seconds: Annotated[int, Field(ge=30)] = 300
    closing_grace_seconds: Annotated[int, Field(ge=0)] = 600
    seconds_per_position: Annotated[int, Field(ge=10)] = 90
    # Hold music plays for about this long between announcements (whole plays of the track).
    announce_every_seconds: Annotated[int, Field(ge=10)] = 45
    hold_music: HoldMusic = Field(default_factory=HoldMusic)
    # Overflow (ivr.overflow): a new caller whose expected wait passes this is offered a
    # callback or an SMS before joining the queue. 0: only when no agent is ready.
    overflow_wait_seconds: Annotated[int, Field(ge=0, le=3600)] = 300
    # Offer the same when no agent on the roster is ready.
    overflow_when_no_agent_ready: bool = True


class Transfer(Strict):
    dial_timeout_seconds: Annotated[int, Field(ge=5, le=600)] = 25
    whisper_timeout_seconds: Annotated[int, Field(ge=3, le=30)] = 8
    # The loop guard: after this many IVR transfers in one call, a person at the switchboard
    # takes over instead of another automatic transfer.
    max_automatic_per_call: Annotated[int, Field(ge=1, le=10)] = 2
    # The transfer guard of the agent console (docs/directory.md): it warns before an agent's
    # transfer to a department that closes within this many minutes,
    guard_closing_minutes: Annotated[int, Field(ge=0, le=120)] = 5
    # or that declined or missed more than this share of today's whispers, once it has had at
    # least `guard_min_whispers` of them (one miss early in the day flags nobody).
    guard_unanswered_share: Annotated[float, Field(ge=0, le=1)] = 0.5
    guard_min_whispers: Annotated[int, Field(ge=1, le=1000)] = 4
