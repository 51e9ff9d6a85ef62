"""What a spool backlog costs: measuring it (every web worker does so every 5 s while it is not
empty), replaying it once Redis is back, and the `/readyz` write probe.

In this process: a spool of N events (default 10,000, about an hour of a busy municipality's
calls with Redis away), the embedded Redis, and the real app on SQLite for `/readyz`.

    .venv/bin/python bench/spool_drain.py [--events 10000]

Writes bench/results/spool_drain.json. The budget: measuring the backlog well under the 5 s
sync interval, the replay in seconds, and `/readyz` in a few milliseconds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "switchboard"))

from apphost import make_app, make_settings  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from switchboard.eventlog import EventLog  # noqa: E402
from switchboard.redis_client import connect_redis  # noqa: E402
from switchboard.redis_server import EmbeddedRedis  # noqa: E402
from switchboard.spool import Spool  # noqa: E402
from tests.fixtures.events import make_event  # noqa: E402


def millis(action: object, repeat: int) -> float:
    """The median of `repeat` runs of `action()`, in milliseconds."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()  # type: ignore[operator]
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 2)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sb-bench-") as tmp:
        base = Path(tmp)
        spool = Spool(base / "spool")
        for start in range(0, args.events, 10):  # batches of 10, as webhooks append them
            spool.append([make_event("menu_choice") for _ in range(min(10, args.events - start))])
        results: dict[str, object] = {
            "events": args.events,
            "spool_bytes": spool.backlog_bytes(),
            "backlog_ms": millis(spool.backlog, 20),
            "empty_backlog_ms": millis(Spool(base / "empty").backlog, 200),
        }
        with EmbeddedRedis(base / "r") as server:
            client = connect_redis(server.url, timeout=0.2, connect_timeout=0.2)
            log = EventLog(redis=client, stream="bench", spool=spool, breaker_open_seconds=30)
            started = time.perf_counter()
            replayed = log.replay_spool()
            results["replay_seconds"] = round(time.perf_counter() - started, 3)
            assert replayed == args.events
            assert client.xlen("bench") == args.events
            app = make_app(make_settings(base, server.url))
            with TestClient(app) as http:
                assert http.get("/readyz").status_code == 200
                results["readyz_sqlite_ms"] = millis(lambda: http.get("/readyz"), 200)
            app.state.services.engine.dispose()
    out = ROOT / "bench" / "results" / "spool_drain.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    sys.stdout.write(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
