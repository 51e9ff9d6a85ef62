"""The body limit under attack: what a 200 MB upload costs the web worker, against a baseline.

A real uvicorn serves the real app (embedded Redis, SQLite) on loopback in this process. The
baseline is 200 ordinary signed webhooks; the attack is the upload that used to be read whole
before its 403: 200 MB to `/twilio/voice`, unsigned, chunked, sent as fast as the socket takes
it, and then the same with a `Content-Length` of 200 MB. For each we record how much the
process's peak memory grew and how long until the answer came.

    .venv/bin/python bench/edge_body_limit.py [--megabytes 200]

Writes bench/results/edge_body_limit.json. The target (the edge-security issue): the attack
costs the worker no more memory than the baseline's noise (a few MB, far from 200 MB), and is
answered 413 within a few webhook latencies, before most of the body was sent.
"""

from __future__ import annotations

import argparse
import json
import resource
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "switchboard"))

from urllib.parse import urlencode  # noqa: E402

from apphost import PUBLIC, TOKEN, inbound_params, make_app, make_settings  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402

from switchboard.redis_server import EmbeddedRedis  # noqa: E402
from tests.fixtures.localhost import serving  # noqa: E402

AT = "2026-11-25T10:00:00+00:00"
CHUNK = b"x" * 65536


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def answer(sock: socket.socket) -> str:
    received = b""
    while b"\r\n" not in received:
        part = sock.recv(4096)
        if not part:
            break
        received += part
    return received.split(b"\r\n", 1)[0].decode()


def webhook(port: int) -> float:
    params = inbound_params()
    body = urlencode(params).encode()
    signature = RequestValidator(TOKEN).compute_signature(PUBLIC + "/twilio/voice", params)
    started = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(
            b"POST /twilio/voice HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            + f"X-Twilio-Signature: {signature}\r\nX-Simulated-Time: {AT}\r\n".encode()
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        status = answer(sock)
    assert status.endswith("200 OK"), status
    return time.perf_counter() - started


def chunked_attack(port: int, megabytes: int) -> tuple[str, float, int]:
    """Send up to `megabytes` MB chunked; stop when the server answers. (status, s, MB sent)"""
    started = time.perf_counter()
    sent = 0
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(
            b"POST /twilio/voice HTTP/1.1\r\nHost: x\r\nX-Twilio-Signature: forged\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        sock.settimeout(0)
        status = ""
        while sent < megabytes * 2**20:
            try:
                status = answer(sock)
                break
            except BlockingIOError:
                pass
            try:
                sock.sendall(b"%x\r\n%s\r\n" % (len(CHUNK), CHUNK))
                sent += len(CHUNK)
            except (BlockingIOError, BrokenPipeError, ConnectionResetError):
                break
        sock.settimeout(10)
        status = status or answer(sock)
    return status, time.perf_counter() - started, sent // 2**20


def declared_attack(port: int, megabytes: int) -> tuple[str, float]:
    started = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            b"POST /api/stats HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {megabytes * 2**20}\r\n\r\n".encode()
        )
        status = answer(sock)
    return status, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=200)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="sb-bench-") as directory,
        EmbeddedRedis(Path(directory) / "redis") as redis_server,
    ):
        settings = make_settings(Path(directory), redis_server.url)
        with serving(make_app(settings)) as port:
            webhook(port)  # warm up
            before = peak_mb()
            latencies = [webhook(port) for _ in range(200)]
            baseline_growth = peak_mb() - before
            before = peak_mb()
            status, chunked_seconds, sent_mb = chunked_attack(port, args.megabytes)
            chunked_growth = peak_mb() - before
            declared_status, declared_seconds = declared_attack(port, args.megabytes)
    median = statistics.median(latencies)
    result = {
        "baseline": {"webhooks": 200, "median_ms": round(median * 1000, 2)},
        "baseline_peak_growth_mb": round(baseline_growth, 1),
        "chunked_attack": {
            "status": status,
            "offered_mb": args.megabytes,
            "sent_before_answer_mb": sent_mb,
            "seconds": round(chunked_seconds, 4),
            "peak_growth_mb": round(chunked_growth, 1),
            "time_vs_webhook_median": round(chunked_seconds / median, 1),
        },
        "declared_attack": {
            "status": declared_status,
            "seconds": round(declared_seconds, 4),
            "time_vs_webhook_median": round(declared_seconds / median, 1),
        },
    }
    out = ROOT / "bench" / "results" / "edge_body_limit.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))  # noqa: T201 - the benchmark's report


if __name__ == "__main__":
    main()
