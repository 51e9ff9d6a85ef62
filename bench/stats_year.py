"""The statistics on a year of call records (issue 3: "a year of data answers fast").

Fills a migrated SQLite database with a year of synthetic records (the exporter benchmark's
generator, ~110,000 calls at 300 a day), then times `switchboard.stats.aggregates.report`
for the whole year grouped by department and by hour, against a baseline measured in the same
run: one `SELECT count(*) FROM calls`, the cheapest full read of the largest table.

    .venv/bin/python bench/stats_year.py [--calls-per-day 300] [--repeat 5]

Writes bench/results/stats_year.json. The goal: a year's report in well under a second.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from exporter_scrape import fill  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from switchboard.db import make_engine, migrate  # noqa: E402
from switchboard.models import CallRecord  # noqa: E402
from switchboard.stats.aggregates import report  # noqa: E402


def _median_seconds(action: Any, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls-per-day", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    results: dict[str, Any] = {"calls_per_day": args.calls_per_day}
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{Path(directory) / 'year.db'}"
        migrate(url)
        engine = make_engine(url)
        results["rows"] = fill(engine, calls_per_day=args.calls_per_day)
        end = datetime.now(UTC) + timedelta(days=1)
        start = end - timedelta(days=366)
        with engine.connect() as connection:

            def baseline() -> None:
                connection.execute(select(func.count()).select_from(CallRecord)).scalar_one()

            def by(group: str) -> Any:
                return lambda: report(connection, start=start, end=end, group_by=group)

            base = _median_seconds(baseline, args.repeat)
            results["baseline_count_seconds"] = round(base, 4)
            for group in ("department", "hour", "kind"):
                seconds = _median_seconds(by(group), args.repeat)
                results[f"report_by_{group}_seconds"] = round(seconds, 4)
                results[f"report_by_{group}_over_baseline"] = round(seconds / base, 1)
            # A manager's usual question: the last month, out of a year of data.
            month = end - timedelta(days=31)
            seconds = _median_seconds(
                lambda: report(connection, start=month, end=end, group_by="department"),
                args.repeat,
            )
            results["report_last_month_by_department_seconds"] = round(seconds, 4)
            results["report_last_month_over_baseline"] = round(seconds / base, 1)
        engine.dispose()
    out = ROOT / "bench" / "results" / "stats_year.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    sys.stdout.write(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
