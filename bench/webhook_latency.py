"""Webhook latency: the signed voice webhook against a static baseline, Redis up and down.

Runs the real app in-process (ASGI, no network), so the figures isolate our handler cost:
signature check, pure flow, live-state read and event append. The baseline is `/healthz`
served by the same app in the same run, so the ratios hold on a noisy 2-core machine.

    .venv/bin/python bench/webhook_latency.py [--requests 2000]

Writes bench/results/webhook_latency.json. The target (issue 2): recording an event never
delays the TwiML noticeably, so the Redis-down p99 must stay within the 200 ms append budget.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "switchboard"))

from apphost import inbound_params, make_app, make_settings  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402

from switchboard.redis_client import connect_redis  # noqa: E402
from switchboard.redis_server import EmbeddedRedis  # noqa: E402

AT = "2026-11-25T10:00:00+00:00"


@contextlib.contextmanager
def _silent_redis(path: Path) -> Iterator[str]:
    """A socket that accepts connections and never answers: Redis hung, not refused."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(128)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError, OSError):
                held.append(listener.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"unix://{path}"
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        listener.close()


def _timed(call, count: int) -> list[float]:
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def _summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered), 3),
        "p99_ms": round(ordered[int(len(ordered) * 0.99) - 1], 3),
        "mean_ms": round(statistics.fmean(ordered), 3),
    }


def _measure(client: TestClient, settings, count: int) -> dict[str, dict[str, float]]:
    params = inbound_params()
    signature = RequestValidator(settings.twilio_auth_token).compute_signature(
        settings.public_url + "/twilio/voice", params
    )
    headers = {"X-Twilio-Signature": signature, "X-Simulated-Time": AT}

    def voice() -> None:
        response = client.post("/twilio/voice", data=params, headers=headers)
        assert response.status_code == 200

    def baseline() -> None:
        assert client.get("/healthz").status_code == 200

    # The first request pays any Redis timeout; after it the circuit breaker skips Redis.
    first = _timed(voice, 1)[0]
    _timed(voice, 50)  # warm up
    return {
        "baseline_healthz": _summary(_timed(baseline, count)),
        "voice": _summary(_timed(voice, count)),
        "first_voice": {"ms": round(first, 3)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    results: dict[str, object] = {"requests": args.requests}
    with tempfile.TemporaryDirectory(prefix="sb-bench-") as tmp:
        base = Path(tmp)
        with EmbeddedRedis(base / "redis") as server:
            settings = make_settings(base, server.url)
            with TestClient(make_app(settings)) as client:
                results["redis_up"] = _measure(client, settings, args.requests)
        with _silent_redis(base / "hung.sock") as hung:
            settings = make_settings(base, hung)
            hung_client = connect_redis(hung, timeout=0.2, connect_timeout=0.2)
            with TestClient(make_app(settings, hung_client)) as client:
                results["redis_hangs"] = _measure(client, settings, args.requests)
        dead = f"unix://{base}/dead.sock"
        settings = make_settings(base, dead)
        with TestClient(
            make_app(settings, connect_redis(dead, timeout=0.2, connect_timeout=0.2))
        ) as client:
            results["redis_down"] = _measure(client, settings, args.requests)
    for scenario in ("redis_up", "redis_down", "redis_hangs"):
        data = results[scenario]
        assert isinstance(data, dict)
        data["voice_over_baseline_p99"] = round(
            data["voice"]["p99_ms"] / data["baseline_healthz"]["p99_ms"], 2
        )
        data["voice_over_baseline_p50"] = round(
            data["voice"]["p50_ms"] / data["baseline_healthz"]["p50_ms"], 2
        )
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "webhook_latency.json").write_text(json.dumps(results, indent=2) + "\n")
    sys.stdout.write(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
