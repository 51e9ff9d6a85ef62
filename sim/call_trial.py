"""`switchboard try-call`: play one call through the real flow and print the conversation.

For municipal staff checking prompts and hours: the call runs in-process against the same app
(`create_app`) with the Twilio simulator, at any instant (`--at`), with a throwaway embedded
Redis and database, so nothing reaches the real statistics. `--url` plays the call against a
running service instead (`make run`), which records it like any other call; it happens now,
since `serve` never trusts a simulated time, so `--url` with `--at` is refused.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from ivr.config import Config
from ivr.roster import Agent
from sim.twilio import (
    Call,
    Department,
    HttpClient,
    PhoneNumberConfig,
    Timing,
    TwilioSimulator,
    hang_up_after,
    press,
)
from sim.twilio.scripts import Action
from switchboard.settings import Settings

# The number the simulated agents call; in production agents call a number of their own that
# points at /twilio/agent (README, "Agents").
AGENT_LINE = "+4756375099"
CITIZEN = "+4791234567"  # an obviously fictional Norwegian mobile
ANSWERS: dict[str, Callable[[], Department]] = {
    "yes": Department.accepts,
    "no": Department.declines,
    "busy": Department.busy,
    "no-answer": Department.no_answer,
    "failed": Department.failed,
}


def simulator_for(
    *,
    http: HttpClient,
    settings: Settings,
    config: Config,
    start: datetime,
    departments: dict[str, Department | Sequence[Department]] | None = None,
    default_department: Department | None = None,
) -> TwilioSimulator:
    """A simulator with the main number and the agent line pointed at the service."""
    public = settings.public_url
    music = config.switchboard.queue.hold_music
    numbers = {
        config.municipality.main_number: PhoneNumberConfig(
            voice_url=f"{public}/twilio/voice",
            status_callback_url=f"{public}/twilio/status",
            fallback_url=f"{public}/twilio/fallback",
        ),
        AGENT_LINE: PhoneNumberConfig(voice_url=f"{public}/twilio/agent"),
    }
    return TwilioSimulator(
        http=http,
        auth_token=settings.auth_tokens[0],
        account_sid=settings.twilio_account_sid,
        numbers=numbers,
        departments=departments,
        default_department=default_department or Department.accepts("1"),
        start=start,
        # The simulator fetches no audio: it learns the hold music's length from the config.
        timing=Timing(audio_seconds={music.url: music.seconds}),
    )


def place_agent(
    sim: TwilioSimulator, agent: Agent, *, pin: str | None, stays: float, at: datetime
) -> Call:
    """A simulated agent calls the agent line at `at` and stays on it for `stays` seconds,
    keying in `pin` when the config demands one (a phone agent with a pin_hash)."""
    script: list[Action] = [hang_up_after(stays)]  # armed as the call starts
    if agent.pin_hash is not None:
        if pin is None:
            raise ValueError(f"agent {agent.id!r} has a pin_hash; the simulation needs its PIN")
        script.append(press(f"{pin}#"))
    return sim.place_call(from_=agent.caller, to=AGENT_LINE, script=script, at=at)


def instant_argument(text: str) -> datetime:
    """`--at` as argparse reads it: ISO 8601, so a typo is a usage error, not a traceback."""
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO 8601 instant, e.g. 2026-12-24T10:00 or 2026-12-24T10:00+01:00"
        ) from None


def parse_instant(value: datetime, zone: ZoneInfo) -> datetime:
    """`--at` in UTC; without an offset it is local time in the municipality's zone."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(UTC)


Service = tuple[HttpClient, Settings, Config, dict[str, str]]  # ... and agents' PINs by id


@contextmanager
def in_process_service(config_path: Path) -> Iterator[Service]:
    """The real app with a throwaway embedded Redis and SQLite, and the simulated clock; its
    phone agents have PINs of the simulation's own (`enrol_phone_agents`)."""
    from fastapi.testclient import TestClient

    from switchboard.app import create_app, load_config
    from switchboard.pins import enrol_phone_agents
    from switchboard.redis_server import EmbeddedRedis

    with tempfile.TemporaryDirectory(prefix="switchboard-try-") as tmp:
        base = Path(tmp)
        with EmbeddedRedis(base / "redis") as redis_server:
            settings = Settings(
                var_dir=base,
                redis_url=redis_server.url,
                database_url=f"sqlite:///{base / 'try.db'}",
                config=config_path,
            )
            config, pins = enrol_phone_agents(load_config(config_path))
            app = create_app(settings, config=config, simulated_clock=True)
            with TestClient(app) as client:
                yield client, settings, config, pins


@contextmanager
def remote_service(url: str, config_path: Path) -> Iterator[Service]:
    """A running service; the agent's PIN, if it needs one, is asked for (`read_pin`)."""
    import httpx

    from switchboard.app import load_config
    from switchboard.pins import read_pin

    config = load_config(config_path)
    settings = Settings(public_url=url, config=config_path)
    pins: dict[str, str] = {}
    agent = trial_agent(config)
    if agent is not None and agent.pin_hash is not None:
        pins[agent.id] = read_pin(f"PIN for agent {agent.id}: ", confirm=False)
    with httpx.Client(timeout=15.0) as client:
        yield client, settings, config, pins


def trial_agent(config: Config) -> Agent | None:
    """The agent who joins a trial call: one who needs no PIN if there is one, else the first."""
    roster = config.switchboard.agents.roster
    return next((a for a in roster if a.pin_hash is None), roster[0] if roster else None)


def play(args: argparse.Namespace) -> int:
    from switchboard.cli.command import CommandError
    from switchboard.settings import get_settings

    if args.url and args.at is not None:
        # A running service keeps its own clock: `serve` never trusts a simulated-time header,
        # so the call would happen now while the transcript said otherwise.
        raise CommandError(
            "--at cannot be used with --url: a running service answers at its own time. "
            "Leave out --url to play the call in-process at that instant.",
            code=2,
        )

    for noisy in ("httpx", "httpx2"):  # one log line per request would drown the transcript
        logging.getLogger(noisy).setLevel(logging.WARNING)

    config_path = Path(args.config) if args.config else get_settings().config
    service = remote_service(args.url, config_path) if args.url else in_process_service(config_path)
    with service as (http, settings, config, pins):
        start = parse_instant(args.at, config.zone) if args.at is not None else datetime.now(UTC)
        behaviour = ANSWERS[args.department_answers]()
        sim = simulator_for(
            http=http, settings=settings, config=config, start=start, default_department=behaviour
        )
        script: list[Action] = list(args.script or [])
        script.append(hang_up_after(args.max_seconds))
        call = sim.place_call(from_=args.caller, to=config.municipality.main_number, script=script)
        agent = trial_agent(config)
        if args.agent_after is not None and agent is not None:
            place_agent(
                sim,
                agent,
                pin=pins.get(agent.id),
                stays=args.agent_after + args.max_seconds,
                at=start + timedelta(seconds=args.agent_after),
            )
        sim.run()
        local = start.astimezone(config.zone)
        sys.stdout.write(
            f"Call to {config.municipality.main_number} at {local:%A %Y-%m-%d %H:%M %Z}\n"
        )
        sys.stdout.write(call.transcript_text() + "\n")
    return 0
