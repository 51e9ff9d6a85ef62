"""`switchboard simulate`: simulated traffic through the real service, against its ground truth
(`sim.simulation`). The simulator is imported only when this command is registered or run: the
service itself never imports `sim`."""

from __future__ import annotations

import argparse
from datetime import date

from switchboard.cli.command import Subparsers, positive


def register(subparsers: Subparsers) -> None:
    from sim.traffic import TrafficPlan

    parser = subparsers.add_parser(
        "simulate",
        help="play simulated traffic through the service and print its ground truth",
        description=(
            "Play a seeded mix of calls (transfers, queues, agents and agent transfers, "
            "hand-backs, recalls, callbacks, after-hours calls) through the real service, "
            "in-process with a simulated Twilio and a throwaway Redis and database; then "
            "ingest the events, run the reconciliation sweep, and print every statistic next "
            "to the ground truth, and the return rates by department, initiator and kind. "
            "Exit code 1 if a statistic differs from the ground truth, or the ground truth "
            "contradicts itself."
        ),
    )
    parser.add_argument("--calls", type=positive, default=1000, help="calls to place (%(default)s)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (%(default)s)")
    parser.add_argument(
        "--faults",
        action="store_true",
        help="duplicate 10%% of status callbacks and action requests, delay deliveries, "
        "and lose 5%% of status callbacks",
    )
    parser.add_argument(
        "--days", type=positive, default=None, help="opening days to spread calls over (calls/250)"
    )
    parser.add_argument(
        "--agents",
        type=positive,
        default=2,
        help="agents on the line, at most one per agent phone in the config (%(default)s)",
    )
    parser.add_argument(
        "--start",
        type=date.fromisoformat,
        default=TrafficPlan.start,
        help="the first day (ISO date; default %(default)s, a Monday)",
    )
    parser.add_argument("--config", help="municipality file (default: SWITCHBOARD_CONFIG or Alver)")
    parser.set_defaults(handler=_simulate)


def _simulate(args: argparse.Namespace) -> int:
    from sim.simulation import simulate

    return simulate(args)
