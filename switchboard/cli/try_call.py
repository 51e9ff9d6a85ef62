"""`switchboard try-call`: one call through the real call flow with a simulated Twilio, its
conversation printed (`sim.call_trial`). The simulator is imported only when this command is
registered or run: the service itself never imports `sim`."""

from __future__ import annotations

import argparse

from switchboard.cli.command import Subparsers


def register(subparsers: Subparsers) -> None:
    from sim.call_trial import ANSWERS, CITIZEN, instant_argument
    from sim.twilio import press, say, silence

    parser = subparsers.add_parser(
        "try-call",
        help="play one call through the flow and print the conversation",
        description=(
            "Play one call through the real call flow, in-process with a simulated Twilio, "
            "and print what is said, gathered and dialled. Inputs are used in order at each "
            "menu. Examples: --at 2026-12-24T10:00 --press 1; --say byggesøknad; "
            "--press 1 --department-answers no."
        ),
    )
    parser.add_argument(
        "--at",
        type=instant_argument,
        help="when the call happens (ISO 8601; local time if no offset); not with --url",
    )
    parser.add_argument(
        "--press",
        dest="script",
        action="append",
        type=press,
        metavar="KEYS",
        help="press keys at the next menu (repeatable)",
    )
    parser.add_argument(
        "--say",
        dest="script",
        action="append",
        type=say,
        metavar="TEXT",
        help="say something at the next menu (repeatable)",
    )
    parser.add_argument(
        "--silence",
        dest="script",
        action="append_const",
        const=silence(),
        help="stay silent at the next menu (repeatable)",
    )
    parser.add_argument(
        "--department-answers",
        choices=sorted(ANSWERS),
        default="yes",
        help="how a dialled department answers: yes (accepts the whisper), no (declines), "
        "busy, no-answer or failed (default: yes)",
    )
    parser.add_argument(
        "--from", dest="caller", default=CITIZEN, help="the caller's number, or anonymous"
    )
    parser.add_argument(
        "--agent-after",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="an agent calls in this many seconds after the call starts (default 30)",
    )
    parser.add_argument("--no-agent", dest="agent_after", action="store_const", const=None)
    parser.add_argument(
        "--max-seconds", type=float, default=600.0, help="the caller hangs up after this"
    )
    parser.add_argument("--config", help="municipality file (default: SWITCHBOARD_CONFIG or Alver)")
    parser.add_argument("--url", help="play against a running service at this public URL instead")
    parser.set_defaults(handler=_play)


def _play(args: argparse.Namespace) -> int:
    from sim.call_trial import play

    return play(args)
