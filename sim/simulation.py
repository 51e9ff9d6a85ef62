"""`switchboard simulate`: a day or more of traffic through the real service, against its truth.

In-process, with a throwaway embedded Redis and SQLite (as `switchboard try-call`): the app
(`create_app`) answers a simulated Twilio, whose REST API (`SimulatedRest`) also serves the
agents' transfers and the sweep. The phone agents get PINs of the simulation's own and key them
in, as production demands (`switchboard.pins.enrol_phone_agents`). The traffic generator
(`sim.traffic`) plays the calls and records the ground truth; then the ingest consumer
writes every event to SQL and the reconciliation sweep settles calls whose end was lost
(`--faults` loses 5% of status callbacks). Every number of the statistics
(`switchboard.stats.aggregates`) is printed next to the ground truth's, then the return-rate
table by department, initiator and kind, the truth's and the two side by side; the exit code
is 1 where they differ or the truth contradicts itself.
"""

from __future__ import annotations

import argparse
import logging
import secrets
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from ivr.config import Config
from ivr.vocabulary import INITIATORS, RETURN_KINDS, ReturnKind
from sim.ground_truth import GroundTruth, Rate, RateRow
from sim.traffic import TrafficPlan
from switchboard.access import ApiToken, token_digest

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from switchboard.stats.figures import TransferFigures
    from workers.ingest import Ingestor
    from workers.sweep import SweepResult


@dataclass(frozen=True)
class Simulated:
    truth: GroundTruth
    events_ingested: int
    duplicates: int  # deliveries the ingest found stored already
    callbacks_lost: int
    sweep: SweepResult
    api_statuses: list[int]
    start: datetime  # the window of the traffic, for the statistics' queries
    end: datetime


def without_overflow(config: Config) -> Config:
    """The config with the overflow offer off (docs/agent-line.md, "Overflow"). The simulated
    callers follow fixed scripts and do not model the offer yet: a caller who meant to ask for
    a callback in the queue would spend that key on the offer instead, and the queue's traffic
    (callbacks at lunch, when a lone agent is away) would vanish from the day."""
    switchboard = config.switchboard
    queue = switchboard.queue.model_copy(
        update={"overflow_wait_seconds": 0, "overflow_when_no_agent_ready": False}
    )
    return config.model_copy(
        update={"switchboard": switchboard.model_copy(update={"queue": queue})}
    )


@contextmanager
def simulated_service(
    plan: TrafficPlan, *, config_path: Path, database_url: str | None = None
) -> Iterator[tuple[Simulated, Engine]]:
    """Play `plan` through the app, ingest and sweep; yields the outcome and the database.

    The database is a throwaway SQLite file unless `database_url` names one (migrated here).
    """
    from fastapi.testclient import TestClient

    from sim.traffic import Traffic
    from sim.twilio import SimulatedRest
    from switchboard.app import create_app, load_config
    from switchboard.db import make_engine, migrate
    from switchboard.eventlog import EventLog
    from switchboard.pins import enrol_phone_agents
    from switchboard.redis_client import connect_redis
    from switchboard.redis_server import EmbeddedRedis
    from switchboard.settings import Settings
    from switchboard.twilio_rest import twilio_client
    from workers.ingest import Ingestor
    from workers.records import load_projector
    from workers.sweep import Sweeper

    with tempfile.TemporaryDirectory(prefix="switchboard-simulate-") as tmp:
        base = Path(tmp)
        with EmbeddedRedis(base / "redis") as redis_server:
            database = database_url or f"sqlite:///{base / 'simulate.db'}"
            migrate(database)
            # The simulated agents transfer through the API with a token of their own.
            agent_token = secrets.token_urlsafe(32)
            settings = Settings(
                var_dir=base,
                redis_url=redis_server.url,
                database_url=database,
                config=config_path,
                api_tokens=[
                    ApiToken(
                        name="simulated agents", role="agent", sha256=token_digest(agent_token)
                    )
                ],
            )
            config, pins = enrol_phone_agents(without_overflow(load_config(config_path)))
            rest = SimulatedRest(
                account_sid=settings.twilio_account_sid, auth_token=settings.auth_tokens[0]
            )
            twilio = twilio_client(settings, http_client=rest)
            app = create_app(settings, config=config, twilio=twilio, simulated_clock=True)
            engine = make_engine(database)
            redis = connect_redis(
                settings.effective_redis_url, timeout=10.0, connect_timeout=5.0, retries=1
            )
            try:
                with TestClient(app) as client:

                    def transfer(call_sid: str, department: str) -> int:
                        response = client.post(
                            f"/api/calls/{call_sid}/transfer",
                            json={"department": department},
                            headers={
                                "X-Simulated-Time": traffic.sim.now.isoformat(),
                                "Authorization": f"Bearer {agent_token}",
                            },
                        )
                        return response.status_code

                    traffic = Traffic(
                        plan,
                        http=client,
                        settings=settings,
                        config=config,
                        transfer=transfer,
                        agent_pins=pins,
                    )
                    rest.attach(traffic.sim)
                    truth = traffic.run()
                # No SMS queue: the simulated callers' SMS are recorded, never sent.
                ingestor = Ingestor(
                    redis=redis,
                    engine=engine,
                    stream=settings.stream,
                    consumer="simulate",
                    caller_key=settings.caller_key,
                    projector=load_projector(config_path, caller_key=settings.caller_key),
                    seal=settings.number_seal,
                )
                ingestor.ensure_group()
                _drain(ingestor)
                sweeper = Sweeper(
                    engine=engine,
                    twilio=twilio,
                    events=EventLog.from_settings(settings, redis=redis),
                )
                # An hour after the last event, every call is old enough to be swept.
                sweep = sweeper.run_once(traffic.sim.now + timedelta(hours=1))
                _drain(ingestor)
                yield (
                    Simulated(
                        truth=truth,
                        events_ingested=ingestor.ingested_total,
                        duplicates=ingestor.duplicates_total,
                        callbacks_lost=len(traffic.sim.dropped_callbacks),
                        sweep=sweep,
                        api_statuses=traffic.records.api_statuses,
                        start=traffic.sim.calls[0].started_at - timedelta(days=1),
                        end=traffic.sim.now + timedelta(days=1),
                    ),
                    engine,
                )
            finally:
                redis.close()
                engine.dispose()


def _drain(ingestor: Ingestor) -> None:
    while ingestor.run_once():
        pass


# --- output ----------------------------------------------------------------------------------

HEADINGS = ("avdeling", "initiativ", "overføringar", "returnerte", *RETURN_KINDS, "returrate")


def percent(rate: Rate) -> str:
    return "-" if rate.value is None else f"{100 * rate.value:.1f} %"


def rate_table(rows: list[RateRow], *, title: str) -> str:
    lines = [title, _columns(HEADINGS)]
    for row in rows:
        kinds = [str(row.by_kind[kind]) for kind in RETURN_KINDS]
        values = (row.department, row.initiator, str(row.transfers), str(row.returned))
        lines.append(_columns((*values, *kinds, percent(row.rate))))
    return "\n".join(lines)


def _columns(values: tuple[str, ...]) -> str:
    first, second, *rest = values
    return f"{first:<16} {second:<9} " + " ".join(f"{value:>12}" for value in rest)


def summary(outcome: Simulated) -> str:
    truth = outcome.truth
    kinds = truth.returns_by("kind")
    lines = [
        f"Samtalar: {len(truth.calls)}, overføringar: {len(truth.transfers)}, returar: "
        + ", ".join(f"{kind} {kinds[(kind,)]}" for kind in RETURN_KINDS),
        f"Hendingar i SQL: {outcome.events_ingested}; tapte statuskall: {outcome.callbacks_lost}; "
        f"feia: {outcome.sweep.ended} avslutta, {outcome.sweep.unresolved} ukjende",
    ]
    problems = truth.problems()
    lines.append("Fasiten er konsistent." if not problems else "AVVIK I FASITEN:")
    lines += [f"  {problem}" for problem in problems]
    return "\n".join(lines)


def statistics_figures(
    engine: Engine, *, start: datetime, end: datetime
) -> dict[str, float | int | None]:
    """Every number of `switchboard.stats.aggregates.report`, named section.field like the
    truth's."""
    from switchboard.stats import aggregates as stats

    with engine.connect() as connection:
        report = stats.report(connection, start=start, end=end)
    sections = ("calls", "queue", "transfers", "after_hours", "callbacks", "sms")
    return {
        f"{section}.{name}": value
        for section in sections
        for name, value in asdict(getattr(report, section).total).items()
    }


def figure_table(
    truth: dict[str, float | int | None], statistics: dict[str, float | int | None]
) -> str:
    """Each of the truth's numbers next to the statistics', marked where the two disagree."""
    lines = ["Tala: fasit / statistikken"]
    for name, expected in truth.items():
        found = statistics.get(name)
        mark = "" if found == expected else "  AVVIK"
        lines.append(f"{name:<28} {_number(expected):>12} {_number(found):>12}{mark}")
    return "\n".join(lines)


def _number(value: float | int | None) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return "-" if value is None else str(value)


def statistics_rows(engine: Engine, *, start: datetime, end: datetime) -> list[RateRow]:
    """The return-rate table from the statistics (`switchboard.stats.aggregates`)."""
    from switchboard.stats import aggregates as stats

    kinds: dict[ReturnKind, str] = {
        "bounce": "bounces",
        "hand_back": "hand_backs",
        "recall": "recalls",
    }

    def row(department: str, initiator: str, figures: TransferFigures) -> RateRow:
        return RateRow(
            department=department,
            initiator=initiator,
            transfers=figures.transfers,
            returned=figures.returned,
            by_kind={kind: getattr(figures, name) for kind, name in kinds.items()},
        )

    with engine.connect() as connection:
        by_department = stats.transfer_stats(
            connection, start=start, end=end, group_by="department"
        )
        departments = sorted(str(group.key) for group in by_department.groups)
        rows: list[tuple[str, str, TransferFigures]] = []
        for initiator in INITIATORS:
            section = stats.transfer_stats(
                connection, start=start, end=end, group_by="department", initiator=initiator
            )
            found = {str(g.key): g.figures for g in section.groups}
            rows += [(d, initiator, found[d]) for d in departments if d in found]
        rows.sort(key=lambda item: (item[0], INITIATORS.index(item[1])))
        rows += [(str(g.key), "*", g.figures) for g in by_department.groups]
        by_initiator = stats.transfer_stats(connection, start=start, end=end, group_by="initiator")
        found = {str(g.key): g.figures for g in by_initiator.groups}
        rows += [("*", i, found[i]) for i in INITIATORS if i in found]
        rows.append(("*", "*", by_department.total))
    return [row(*item) for item in rows if item[2].transfers]


def comparison(truth: list[RateRow], statistics: list[RateRow]) -> str:
    """Each row as fasit/statistikk, marked where the two disagree."""
    found = {(row.department, row.initiator): row for row in statistics}
    empty = RateRow("", "", 0, 0, dict.fromkeys(RETURN_KINDS, 0))
    lines = ["Returrate: fasit / statistikken", _columns((*HEADINGS, ""))]
    keys = [(row.department, row.initiator) for row in truth]
    keys += [key for key in found if key not in keys]
    by_key = {(row.department, row.initiator): row for row in truth}
    for key in keys:
        mine, theirs = by_key.get(key, empty), found.get(key, empty)
        pairs = [(mine.transfers, theirs.transfers), (mine.returned, theirs.returned)]
        pairs += [(mine.by_kind[kind], theirs.by_kind[kind]) for kind in RETURN_KINDS]
        cells = [f"{a}/{b}" for a, b in pairs]
        rates = f"{percent(mine.rate)}/{percent(theirs.rate)}".replace(" %", "")
        differs = any(a != b for a, b in pairs)
        lines.append(_columns((*key, *cells, rates, "AVVIK" if differs else "")))
    return "\n".join(lines)


# --- the command -----------------------------------------------------------------------------


def simulate(args: argparse.Namespace) -> int:
    from switchboard.settings import get_settings

    for noisy in ("httpx", "httpx2", "switchboard", "workers", "twilio", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    plan = TrafficPlan(
        calls=args.calls,
        seed=args.seed,
        start=args.start,
        days=args.days,
        agents=args.agents,
        faults=args.faults,
    )
    config_path = Path(args.config) if args.config else get_settings().config
    with simulated_service(plan, config_path=config_path) as (outcome, engine):
        out = sys.stdout
        out.write(summary(outcome) + "\n")
        window = {"start": outcome.start, "end": outcome.end}
        truth_figures = outcome.truth.figures()
        figures = statistics_figures(engine, **window)
        out.write("\n" + figure_table(truth_figures, figures) + "\n")
        truth = outcome.truth.return_rate_table()
        rows = statistics_rows(engine, **window)
        out.write("\n" + rate_table(truth, title="Returrate: fasit") + "\n")
        out.write("\n" + comparison(truth, rows) + "\n")
    differs = any(figures.get(name) != value for name, value in truth_figures.items())
    if differs or rows != truth:
        return 1
    return 0 if not outcome.truth.problems() else 1
