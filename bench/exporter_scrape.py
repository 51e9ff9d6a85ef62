"""Exporter scrape time on a year of call records (issue 4: "a scrape stays fast on a year").

Fills a migrated SQLite database (and, with --postgres URL, a PostgreSQL one) with a year of
synthetic call records at a busy municipality's volume, then times the exporter's database
read, the part of a scrape that grows with the data. Redis and the calendar are constant-time.

    .venv/bin/python bench/exporter_scrape.py [--calls-per-day 300] [--postgres URL]

Writes bench/results/exporter_scrape.json. The budget: well under Prometheus' 10 s scrape
timeout; the goal is under 1 s, so that a 15 s scrape interval leaves the database idle.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine, insert  # noqa: E402

from switchboard.db import make_engine, migrate  # noqa: E402
from switchboard.models import CallRecord, QueueVisit, ReturnRecord, TransferRecord  # noqa: E402
from switchboard.observability.business_metrics import QUEUE_WAIT_BUCKETS  # noqa: E402
from switchboard.observability.exporter import History  # noqa: E402
from switchboard.stats.kpis import read_current  # noqa: E402

OSLO = ZoneInfo("Europe/Oslo")
DEPARTMENTS = ("byggesak", "barnehage_skule", "helse_omsorg", "skatt_gebyr", "vatn_veg", "nav")


def _buckets(at: datetime) -> dict[str, Any]:
    local = at.astimezone(OSLO)
    return {"day_local": local.date(), "hour_local": local.hour, "weekday_local": local.weekday()}


def fill(engine: Engine, *, calls_per_day: int, days: int = 365, seed: int = 4) -> dict[str, int]:
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not secrets
    now = datetime.now(UTC)
    calls, transfers, visits, returns = [], [], [], []
    for n in range(calls_per_day * days):
        started = now - timedelta(days=rng.uniform(0, days))
        sid = f"CA{n:032d}"
        calls.append(
            {
                "call_sid": sid,
                "caller": f"caller{rng.randrange(calls_per_day * 30)}",
                "started_at": started,
                "ended_at": started + timedelta(seconds=120),
                "status": "completed",
                "state": "ended",
                "outcome": "ivr",  # set below from the transfer or visit, as the projection would
                "switchboard_open": rng.random() < 0.85,
                "after_hours_result": None,
                "ivr_seconds": 20.0,
                "language": "nn",
                "transfers_count": 0,
                "bounces_count": 0,
                "priority": False,
                "last_event_at": started + timedelta(seconds=120),
                **_buckets(started),
            }
        )
        if rng.random() < 0.6:
            department = rng.choice(DEPARTMENTS)
            outcome = rng.choice(("connected", "connected", "connected", "no_answer", "busy"))
            transfers.append(
                {
                    "transfer_id": f"{sid}.2",
                    "call_sid": sid,
                    "department": department,
                    "initiator": rng.choice(("ivr", "agent")),
                    "started_at": started,
                    "outcome": outcome,
                    "redirected": False,
                    "bounce": outcome != "connected",
                    **_buckets(started),
                }
            )
            if outcome == "connected":
                calls[-1]["outcome"] = "transferred"
            if outcome != "connected" or rng.random() < 0.1:
                returns.append(
                    {
                        "transfer_id": f"{sid}.2",
                        "call_sid": sid,
                        "transfer_call_sid": sid,
                        "kind": "bounce" if outcome != "connected" else "recall",
                        "detected_at": started,
                        "department": department,
                        "initiator": transfers[-1]["initiator"],
                        **_buckets(started),
                    }
                )
        else:
            wait = rng.expovariate(1 / 30)
            ended = "answered" if rng.random() < 0.9 else "abandoned"
            calls[-1]["outcome"] = ended
            visits.append(
                {
                    "visit_id": f"{sid}.1",
                    "call_sid": sid,
                    "queue": "main",
                    "joined_at": started,
                    "wait_seconds": wait,
                    "ended": ended,
                    "in_opening_hours": True,
                    **_buckets(started),
                }
            )
    with engine.begin() as connection:
        for model, rows in (
            (CallRecord, calls),
            (TransferRecord, transfers),
            (QueueVisit, visits),
            (ReturnRecord, returns),
        ):
            for start in range(0, len(rows), 5000):
                connection.execute(insert(model), rows[start : start + 5000])
    return {"calls": len(calls), "transfers": len(transfers), "visits": len(visits)}


def scrape(engine: Engine, history: History) -> float:
    """One scrape's database read, as the exporter does it; returns seconds."""
    now = datetime.now(UTC)
    started = time.perf_counter()
    with engine.connect() as connection:
        read_current(
            connection,
            now=now,
            zone=OSLO,
            since=history.cutoff(now),
            wait_bounds=QUEUE_WAIT_BUCKETS,
            departments=DEPARTMENTS,
        )
        history.totals(connection, now=now, wait_bounds=QUEUE_WAIT_BUCKETS)
    return time.perf_counter() - started


def time_reads(engine: Engine, *, repeat: int) -> tuple[list[float], list[float]]:
    """(cold: the history summed too, as once every 10 minutes; warm: every other scrape)."""
    cold = [scrape(engine, History(zone=OSLO)) for _ in range(repeat)]
    history = History(zone=OSLO)
    scrape(engine, history)
    warm = [scrape(engine, history) for _ in range(repeat)]
    return cold, warm


def run(url: str, *, calls_per_day: int, repeat: int) -> dict[str, Any]:
    migrate(url)
    engine = make_engine(url)
    try:
        rows = fill(engine, calls_per_day=calls_per_day)
        cold, warm = time_reads(engine, repeat=repeat)
    finally:
        engine.dispose()
    return {
        "rows": rows,
        "scrape_median_seconds": round(statistics.median(warm), 4),
        "scrape_max_seconds": round(max(warm), 4),
        "with_history_refresh_median_seconds": round(statistics.median(cold), 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls-per-day", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--postgres", help="an empty PostgreSQL database URL to fill as well")
    args = parser.parse_args()
    results: dict[str, Any] = {"calls_per_day": args.calls_per_day}
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{Path(directory) / 'year.db'}"
        results["sqlite"] = run(url, calls_per_day=args.calls_per_day, repeat=args.repeat)
    if args.postgres:
        results["postgresql"] = run(
            args.postgres, calls_per_day=args.calls_per_day, repeat=args.repeat
        )
    out = ROOT / "bench" / "results" / "exporter_scrape.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    sys.stdout.write(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
