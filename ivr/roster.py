"""The agent roster in the municipality file (`switchboard.agents`): who may take callers on the
agent line, and how many wrong PINs it takes.

Each agent has an `id` (a slug the agent console uses), a display `name`, and one way in:

- a phone `number`, with a `pin_hash`: the argon2id hash of the agent's PIN, in the PHC string
  format (`switchboard agent pin-hash` makes one). A plaintext PIN never belongs in the file.
  Caller ID is easy to forge, so production refuses to start while a phone agent has no
  `pin_hash` (`ivr.agent.open_by_caller_id`); development lets them in by caller ID alone.
- a Twilio Client `client` identity: its calls come `From` `client:<identity>`, which the phone
  network cannot forge, so it has no PIN.

Only the shape of a hash is checked here; verifying a PIN is the edge's job (`ivr.call.Context`).
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field, model_validator

from ivr.fields import PhoneNumber, Strict

CLIENT_PREFIX = "client:"
# An argon2id hash in the PHC string format: $argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$salt$hash
ARGON2ID = re.compile(
    r"^\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]{11,}\$[A-Za-z0-9+/]{16,}$"
)
_IDENTITY = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,120}$")
_HOW = "make one with `switchboard agent pin-hash`"


def _pin_hash(value: str) -> str:
    # The message never repeats the value: it may be a PIN pasted by mistake.
    if value.strip().isdigit():
        raise ValueError(f"looks like a plaintext PIN; only its hash belongs here ({_HOW})")
    if not ARGON2ID.match(value):
        raise ValueError(
            f"is not an argon2id hash like '$argon2id$v=19$m=65536,t=3,p=4$<salt>$<hash>' ({_HOW})"
        )
    return value


def _identity(value: str) -> str:
    if value.startswith(CLIENT_PREFIX):
        raise ValueError(f"give the identity without {CLIENT_PREFIX!r}")
    if not _IDENTITY.match(value):
        raise ValueError(
            f"{value!r} is not a Twilio Client identity (letters, digits, _ . @ -; at most 121)"
        )
    return value


class Agent(Strict):
    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$")]
    name: Annotated[str, Field(min_length=1)]
    number: PhoneNumber | None = None
    pin_hash: Annotated[str, AfterValidator(_pin_hash)] | None = None
    client: Annotated[str, AfterValidator(_identity)] | None = None

    @model_validator(mode="after")
    def _one_way_in(self) -> Agent:
        if self.number is not None and self.client is not None:
            raise ValueError("give number or client, not both")
        if self.number is None and self.client is None:
            raise ValueError(
                "give number (a phone, with its pin_hash) or client (a Twilio Client identity)"
            )
        if self.client is not None and self.pin_hash is not None:
            raise ValueError(
                "pin_hash is for phone agents; a Twilio Client identity cannot be forged from "
                "the phone network and has no PIN"
            )
        return self

    @property
    def caller(self) -> str:
        """The `From` of this agent's calls."""
        return self.number if self.number is not None else f"{CLIENT_PREFIX}{self.client}"


class PinLimits(Strict):
    attempts_per_call: Annotated[int, Field(ge=1, le=10)] = 3
    # A caller's wrong PINs are counted until `window_minutes` pass without one; at
    # `max_failures` the caller is refused, even with the right PIN, until then.
    max_failures: Annotated[int, Field(ge=1, le=100)] = 5
    window_minutes: Annotated[int, Field(ge=1, le=24 * 60)] = 15


class Agents(Strict):
    roster: list[Agent] = Field(default_factory=list)
    pin_limits: PinLimits = Field(default_factory=PinLimits)
    # How long an idle agent waits on one queue before the service looks again for returns.
    idle_dial_seconds: Annotated[int, Field(ge=5, le=600)] = 20

    @model_validator(mode="before")
    @classmethod
    def _old_keys(cls, value: object) -> object:
        """Say what replaced the keys of the old allowlist, instead of "extra inputs"."""
        if isinstance(value, dict):
            if "pin" in value:
                raise ValueError(
                    "'pin' is no longer read: a plaintext PIN must not be in the file; give "
                    f"each phone agent under 'roster' a pin_hash ({_HOW})"
                )
            if "numbers" in value:
                raise ValueError(
                    "'numbers' is replaced by 'roster': a list of agents, each with id, name, "
                    "and number with pin_hash, or client (README, Agents)"
                )
        return value

    def find(self, caller: str) -> Agent | None:
        """The agent whose calls come `From` `caller`, if any."""
        for agent in self.roster:
            if caller and agent.caller == caller:
                return agent
        return None

    def conflicts(self, *, where: str) -> list[str]:
        """One located line per id, number or client identity given to two agents."""
        errors: list[str] = []
        for key in ("id", "number", "client"):
            owners: dict[str, str] = {}
            for i, agent in enumerate(self.roster):
                value = getattr(agent, key)
                if value is not None and value in owners:
                    what = "in use" if key == "id" else f"agent {owners[value]!r}'s"
                    errors.append(f"{where}.roster[{i}].{key}: {value!r} is already {what}")
                if value is not None:
                    owners.setdefault(value, agent.id)
        return errors
