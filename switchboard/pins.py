"""Agent PINs: the argon2 check the app injects into the flow, the production rule about agents
who get in by caller ID alone, and the hashing behind `switchboard agent pin-hash`
(switchboard/cli/agent.py).

The municipality file holds only argon2id hashes (PHC strings). Verifying reads the cost
parameters from the stored hash, so a hash made with other parameters still verifies.
"""

from __future__ import annotations

import getpass
import re
import secrets
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ivr.agent import open_by_caller_id
from ivr.config import Config, ConfigError

if TYPE_CHECKING:
    pass

PIN = re.compile(r"^\d{4,12}$")
_HASHER = PasswordHasher()  # RFC 9106's low-memory profile: argon2id, 64 MiB, 3 passes


def pin_matches(pin_hash: str, pin: str) -> bool:
    """Whether `pin` is the PIN `pin_hash` was made from; False for a hash it cannot read."""
    try:
        return _HASHER.verify(pin_hash, pin)
    except (VerificationError, InvalidHashError):
        return False


def hash_pin(pin: str, hasher: PasswordHasher = _HASHER) -> str:
    """The argon2id PHC string for `pin`, which must be 4 to 12 digits (keys on a phone)."""
    if not PIN.match(pin):
        raise ValueError("a PIN is 4 to 12 digits")
    return hasher.hash(pin)


def enrol_phone_agents(config: Config) -> tuple[Config, dict[str, str]]:
    """For a throwaway simulated service: every phone agent gets a new PIN, and the config its
    hash instead of the configured one (the simulation cannot know real PINs). Returns the
    config and the PINs by agent id, for the simulated agents to key in."""
    # Cheap parameters: these hashes protect nothing and die with the simulation; verifying
    # reads the parameters from the hash, as for any other.
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    pins: dict[str, str] = {}
    roster = []
    for agent in config.switchboard.agents.roster:
        if agent.number is not None:
            pins[agent.id] = "".join(secrets.choice("0123456789") for _ in range(6))
            agent = agent.model_copy(update={"pin_hash": hash_pin(pins[agent.id], cheap)})
        roster.append(agent)
    agents = config.switchboard.agents.model_copy(update={"roster": roster})
    switchboard = config.switchboard.model_copy(update={"agents": agents})
    return config.model_copy(update={"switchboard": switchboard}), pins


def require_agent_pins(config: Config, *, env: str) -> str | None:
    """Production: raise ConfigError, naming them, while agents get in by caller ID alone.
    Development: the warning to show about them, or None when there are none."""
    ids = open_by_caller_id(config)
    if not ids:
        return None
    who = ", ".join(ids)
    if env == "production":
        raise ConfigError(
            [
                "switchboard.agents.roster: production refuses agents let in by caller ID "
                f"alone, which anyone can forge: {who}. Give each a pin_hash (make one with "
                "`switchboard agent pin-hash`), make it a Twilio Client identity, or remove it."
            ]
        )
    return (
        f"agents let in by caller ID alone, which anyone can forge: {who}. Development allows "
        "it; production refuses to start until each has a pin_hash (`switchboard agent "
        "pin-hash`) or is a Twilio Client identity."
    )


def check_agent_line(path: Path, config: Config, *, env: str) -> str | None:
    """For `serve` and `config check`: a warning line about agents let in by caller ID alone;
    in production, CommandError (exit 1) instead."""
    from switchboard.cli.command import CommandError

    try:
        warning = require_agent_pins(config, env=env)
    except ConfigError as exc:
        raise CommandError(f"{path}: {exc}") from None
    return f"warning: {path}: {warning}" if warning else None


# --- switchboard agent pin-hash --------------------------------------------------------------


def read_pin(prompt: str = "PIN: ", *, confirm: bool = True) -> str:
    """A PIN from a hidden prompt (asked twice to `confirm`), or stdin's first line if piped."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().strip()
    first = getpass.getpass(prompt)
    if confirm and getpass.getpass("The same PIN again: ") != first:
        raise ValueError("the two PINs differ")
    return first
