"""What sealing a caller's number costs the webhook that records it, and the ingest that opens it.

A callback request is appended through the real `EventLog` (which seals its `number`) to the
embedded Redis; the baseline, in the same run, is the same event with the number field under
another name, which is appended untouched. Both go the whole way: JSON, XADD over the socket.
Then the ingest's side: opening the number of each stream entry.

    .venv/bin/python bench/number_sealing.py [--events 5000]

Writes bench/results/number_sealing.json. The budget: a sealed append takes under 1.5 times
a plain one (about 20 µs more, on a 2-core machine where the plain append, a Redis round trip,
takes 70-90 µs; a whole voice webhook takes milliseconds, bench/webhook_latency.py), and
opening takes under 50 µs an event.
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

from ivr.events import Event  # noqa: E402
from switchboard.eventlog import EventLog  # noqa: E402
from switchboard.redis_client import connect_redis  # noqa: E402
from switchboard.redis_server import EmbeddedRedis  # noqa: E402
from switchboard.sealing import NumberSeal, new_key, open_numbers  # noqa: E402
from switchboard.spool import Spool  # noqa: E402
from tests.fixtures.events import make_event  # noqa: E402

NUMBER = "+4791234567"
ROUNDS = 5


def callback(field: str) -> Event:
    data = {"keyed": False, "due_at": None, "language": "nn", "caller": "c" * 64}
    return make_event("callback_requested", data={field: NUMBER, **data})


def per_event_us(log: EventLog, events: list[Event]) -> float:
    start = time.perf_counter()
    for event in events:
        log.append([event])
    return (time.perf_counter() - start) / len(events) * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    args = parser.parse_args()
    seal = NumberSeal.from_text(new_key("bench"))
    with (
        tempfile.TemporaryDirectory(prefix="bench-seal-") as tmp,
        EmbeddedRedis(Path(tmp) / "redis") as server,
    ):
        redis = connect_redis(server.url, timeout=5.0, connect_timeout=5.0)
        log = EventLog(
            redis=redis,
            stream="bench:events",
            spool=Spool(Path(tmp) / "spool"),
            breaker_open_seconds=30.0,
            seal=seal,
        )
        sealed_us, plain_us = [], []
        for _ in range(ROUNDS):  # interleaved, so drift hits both alike
            plain_us.append(per_event_us(log, [callback("n") for _ in range(args.events)]))
            sealed_us.append(per_event_us(log, [callback("number") for _ in range(args.events)]))
        entries = redis.xrange("bench:events", count=args.events * 2 * ROUNDS)
        stored = [
            Event.from_fields({k.decode(): v.decode() for k, v in fields.items()})
            for _id, fields in entries
        ]
        sealed_events = [e for e in stored if "number" in e.data]
        assert all(NUMBER not in json.dumps(e.data) for e in sealed_events)
        start = time.perf_counter()
        for event in sealed_events:
            opened, unopened = open_numbers(event, seal)
            assert not unopened
            assert opened.data["number"] == NUMBER
        open_us = (time.perf_counter() - start) / len(sealed_events) * 1e6
        redis.close()
    result = {
        "events_per_round": args.events,
        "rounds": ROUNDS,
        "append_plain_us_median": round(statistics.median(plain_us), 1),
        "append_sealed_us_median": round(statistics.median(sealed_us), 1),
        "append_ratio_sealed_to_plain": round(
            statistics.median(sealed_us) / statistics.median(plain_us), 3
        ),
        "added_us_per_append": round(statistics.median(sealed_us) - statistics.median(plain_us), 1),
        "open_us_per_event": round(open_us, 1),
    }
    out = ROOT / "bench" / "results" / "number_sealing.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))  # noqa: T201
    ok = result["append_ratio_sealed_to_plain"] < 1.5 and result["open_us_per_event"] < 50
    print("within budget" if ok else "OVER BUDGET")  # noqa: T201
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
