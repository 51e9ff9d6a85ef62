"""The call mix by department in a simulated week, and the menu order it proposes.

Plays a week of simulated traffic (`switchboard simulate`'s traffic: 1250 calls over the five
weekdays from Monday 2026-11-23) through the real service, once per seed (7, 8 and 9 by
default: one week's ranking of departments a few percent apart is noise), counts the
transfers to each department in the ground truth (the IVR's and the agents'), and prints the
mix with the order that offers the busiest departments first (`menus.order` in the
municipality file).

    .venv/bin/python bench/call_mix.py [--calls 1250] [--days 5] [--seeds 7 8 9] [--config FILE]

The simulated callers choose among the departments that are open when they call, evenly:
the mix measures the departments' opening hours, not what citizens ask about. Once the
service has run for a while, the statistics' transfers by department are the better source.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ivr.config import parse_config  # noqa: E402
from sim.simulation import simulated_service  # noqa: E402
from sim.traffic import TrafficPlan  # noqa: E402
from switchboard.settings import DEFAULT_CONFIG  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--calls", type=int, default=1250)
    parser.add_argument("--days", type=int, default=5)
    parser.add_argument("--seeds", type=int, nargs="+", default=[7, 8, 9])
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    args = parser.parse_args()
    for noisy in ("httpx", "switchboard", "workers", "twilio", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    config = parse_config(args.config.read_text(encoding="utf-8"))
    by_department: Counter[str] = Counter()
    by_initiator: Counter[tuple[str, str]] = Counter()
    calls = 0
    for seed in args.seeds:
        plan = TrafficPlan(calls=args.calls, days=args.days, seed=seed)
        with simulated_service(plan, config_path=args.config) as (outcome, _engine):
            truth = outcome.truth
        calls += len(truth.calls)
        by_department.update(t.department for t in truth.transfers)
        by_initiator.update((t.department, t.initiator) for t in truth.transfers)
    total = sum(by_department.values())
    seeds = " ".join(str(seed) for seed in args.seeds)
    lines = [
        f"{calls} calls, {total} transfers: {plan.opening_days} weekdays from {plan.start}, "
        f"seeds {seeds}",
        f"{'department':<17} {'key':>3} {'ivr':>5} {'agent':>5} {'all':>5} {'share':>7}",
    ]
    keyed = sorted(config.departments, key=lambda d: (-by_department[d.id], d.key))
    for department in keyed:
        count = by_department[department.id]
        share = 100 * count / total if total else 0.0
        lines.append(
            f"{department.id:<17} {department.key:>3} {by_initiator[(department.id, 'ivr')]:>5} "
            f"{by_initiator[(department.id, 'agent')]:>5} {count:>5} {share:>6.1f} %"
        )
    lines.append(f"proposed menus.order: [{', '.join(d.id for d in keyed)}]")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
