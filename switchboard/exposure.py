"""Where `switchboard serve` listens, and what that exposes.

A development setup runs on defaults anyone can read in the source: the Twilio token that signs
the simulator's webhooks, the development secret keys, the development API tokens (printed in
the banner), and phone agents let in by caller ID alone. That is safe on loopback only, so
`serve` warns before it listens anywhere else without SWITCHBOARD_ENV=production (which refuses
all of those).
"""

from __future__ import annotations

import argparse
import ipaddress

from switchboard.settings import DEV_SECRET, DEV_TWILIO_TOKEN, Settings

ALL_INTERFACES = {"0.0.0.0", "::", ""}  # noqa: S104 - compared with, never bound here


def local_url(host: str, port: int) -> str:
    """Where a client on this machine reaches a server listening on host:port."""
    if host in ALL_INTERFACES:
        host = "127.0.0.1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # another name, or "" (all interfaces)
        return False


def exposure_warnings(settings: Settings, args: argparse.Namespace) -> list[str]:
    """What `serve` warns about before it starts (`--host`, `--metrics-host`), one per line."""
    if settings.env == "production":
        return []
    warnings = []
    open_doors: list[str] = []
    if not is_loopback(args.host):
        open_doors = []
        if DEV_TWILIO_TOKEN in settings.auth_tokens:
            open_doors.append("anyone can sign webhooks with the development Twilio token")
        if not settings.api_tokens:
            open_doors.append(
                "the public development API tokens open the API (callers' callback numbers, "
                "live-call transfers)"
            )
        if DEV_SECRET in (settings.secret_key, settings.caller_key):
            open_doors.append("the secret keys are the public development values")
    if not is_loopback(args.host) and open_doors:
        warnings.append(
            f"--host {args.host or '(all interfaces)'} makes this development setup "
            "(SWITCHBOARD_ENV is not production) reachable from the network, and its "
            f"development defaults with it: {'; '.join(open_doors)}. Keep --host 127.0.0.1, "
            "or set SWITCHBOARD_ENV=production with real secrets."
        )
    if args.metrics_port and not is_loopback(args.metrics_host):
        warnings.append(
            f"--metrics-host {args.metrics_host or '(all interfaces)'} serves the web "
            "metrics to other machines, without login."
        )
    return warnings
