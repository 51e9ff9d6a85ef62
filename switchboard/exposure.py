"""Where `switchboard serve` listens, and how a client on this machine reaches it."""

from __future__ import annotations

ALL_INTERFACES = {"0.0.0.0", "::", ""}  # noqa: S104 - compared with, never bound here


def local_url(host: str, port: int) -> str:
    """Where a client on this machine reaches a server listening on host:port."""
    if host in ALL_INTERFACES:
        host = "127.0.0.1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
