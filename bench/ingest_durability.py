"""Ingest durability: what committing each batch with `synchronous=FULL` costs on SQLite.

The real ingest consumer (workers/ingest.py) reads batches from a real Redis Stream (the
embedded redis-server) and commits them to a migrated SQLite file, once with the web's engine
(`synchronous=NORMAL`: the WAL is synced at checkpoints only) as the baseline, once with the
ingest's own (`ingest_engine`, `synchronous=FULL`: one fsync of the WAL per batch). Both run in
the same process and the same run, in alternating rounds, each on its own database file in the
same directory (a real disk: fsync is a no-op on tmpfs), so the ratio holds on a noisy machine.

Two batch sizes: 1 event (a quiet line, where every webhook's event is a batch of its own and
the fsync is all the cost) and 100 (a busy line, where one fsync is shared by the batch).

    .venv/bin/python bench/ingest_durability.py [--batches 200] [--rounds 3]

Writes bench/results/ingest_durability.json.
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

from redis import Redis  # noqa: E402
from sqlalchemy import Engine, text  # noqa: E402

from switchboard.db import make_engine, migrate  # noqa: E402
from switchboard.redis_client import connect_redis  # noqa: E402
from switchboard.redis_server import EmbeddedRedis  # noqa: E402
from switchboard.settings import Settings  # noqa: E402
from tests.fixtures.events import make_event  # noqa: E402
from workers.ingest import Ingestor, ingest_engine  # noqa: E402

BATCH_SIZES = (1, 100)
MODES = ("NORMAL", "FULL")


def engine_for(mode: str, directory: Path, round_: int, batch_size: int) -> Engine:
    path = directory / f"{mode.lower()}-{batch_size}-{round_}.db"
    url = f"sqlite:///{path}"
    migrate(url)
    if mode == "FULL":
        return ingest_engine(Settings(database_url=url))
    return make_engine(url)  # the web's engine: the default


def ingest(redis: Redis, engine: Engine, *, stream: str, batches: int, size: int) -> float:
    """Seconds the consumer takes to commit `batches` batches of `size` events each."""
    ingestor = Ingestor(
        redis=redis, engine=engine, stream=stream, consumer="bench", batch_size=size
    )
    ingestor.ensure_group()
    for number in range(batches * size):
        sid = f"CA{number // 4:032x}"  # four events a call, as a short call has
        kind = "call_started" if number % 4 == 0 else "menu_choice"
        redis.xadd(stream, make_event(kind, call_sid=sid).to_fields())  # type: ignore[arg-type]
    started = time.perf_counter()
    done = 0
    while done < batches * size:
        done += ingestor.run_once()
    return time.perf_counter() - started


def synchronous(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("PRAGMA synchronous")).scalar_one())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=200, help="batches per run (200)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (3)")
    args = parser.parse_args()
    seconds: dict[tuple[int, str], list[float]] = {}
    # Under the repository, on its disk; short enough for the Redis socket path.
    (ROOT / "var").mkdir(exist_ok=True)
    with (
        tempfile.TemporaryDirectory(prefix="bench-", dir=ROOT / "var") as directory,
        EmbeddedRedis(Path(directory) / "redis") as server,
    ):
        redis = connect_redis(server.url, timeout=10, connect_timeout=5)
        for round_ in range(args.rounds):
            for size in BATCH_SIZES:
                # Alternate which mode goes first, so neither always gets the warmer cache.
                for mode in MODES if round_ % 2 == 0 else tuple(reversed(MODES)):
                    engine = engine_for(mode, Path(directory), round_, size)
                    assert synchronous(engine) == {"NORMAL": 1, "FULL": 2}[mode]
                    stream = f"bench:{mode}:{size}:{round_}"
                    took = ingest(redis, engine, stream=stream, batches=args.batches, size=size)
                    seconds.setdefault((size, mode), []).append(took)
                    engine.dispose()
        redis.close()
    results: dict[str, object] = {"batches": args.batches, "rounds": args.rounds}
    for size in BATCH_SIZES:
        median = {mode: statistics.median(seconds[(size, mode)]) for mode in MODES}
        rate = {mode: args.batches * size / median[mode] for mode in MODES}
        results[f"batch_of_{size}"] = {
            "events_per_second_normal": round(rate["NORMAL"]),
            "events_per_second_full": round(rate["FULL"]),
            "ms_per_batch_normal": round(1000 * median["NORMAL"] / args.batches, 2),
            "ms_per_batch_full": round(1000 * median["FULL"] / args.batches, 2),
            # FULL's throughput as a share of the NORMAL baseline's: 1.0 would cost nothing.
            "full_over_normal_throughput": round(rate["FULL"] / rate["NORMAL"], 2),
        }
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "ingest_durability.json").write_text(json.dumps(results, indent=2) + "\n")
    sys.stdout.write(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
