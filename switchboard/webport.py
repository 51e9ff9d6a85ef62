"""The web port, checked before `serve` starts anything.

uvicorn runs as a supervised child. If the port is taken (another `serve`, another program),
uvicorn exits at once, the supervisor restarts it with backoff, and it fails again, for ever,
while `serve` looks alive. So `serve` first binds the port itself, the way uvicorn will, and
stops with a clear message when it cannot: the same rule as the metrics port
(switchboard/observability/metrics_port.py), which `serve` binds and keeps.

The check releases the port again for uvicorn, so a program that takes it in the moment
between the two still makes the web child fail; its log says why.
"""

from __future__ import annotations

import socket

PORT_OPTION = "--port (make run PORT=8010)"


class WebPortError(Exception):
    """The web port cannot be listened on."""


def check_web_port(host: str, port: int) -> None:
    """Raise WebPortError unless uvicorn could listen on host:port now."""
    # As uvicorn binds (uvicorn.config.Config.bind_socket): IPv6 for a host with a colon,
    # SO_REUSEADDR, so a port in TIME_WAIT after a previous run counts as free.
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
    except OSError as exc:  # taken, not ours to take (EACCES), or no such address
        raise WebPortError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}; stop what is using it "
            f"(another `switchboard serve`?) or choose another {PORT_OPTION}"
        ) from None
