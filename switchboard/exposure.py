"""Where `switchboard serve` listens, and what that exposes.

A development setup runs on defaults anyone can read in the source: the Twilio token that signs
the simulator's webhooks, the development secret keys, and an agent API that lets every request
in as agent "development". That is safe on loopback only, so `serve` warns before it listens
anywhere else without SWITCHBOARD_ENV=production (which refuses those secrets and the open
agent API).
"""

from __future__ import annotations

import argparse
import ipaddress

from switchboard.settings import DEV_TWILIO_TOKEN, Settings

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
    if not is_loopback(args.host):
        open_doors = [
            "the agent API lets anyone in without logging in (it lists callers' callback "
            "numbers and transfers live calls)"
        ]
        if DEV_TWILIO_TOKEN in settings.auth_tokens:
            open_doors.insert(0, "anyone can sign webhooks with the development Twilio token")
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
