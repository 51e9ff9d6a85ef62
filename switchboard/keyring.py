"""`switchboard privacy new-key` and `rekey`: the keys that seal caller numbers in events.

Rotation (docs/privacy.md, "Sealed numbers and key rotation"):

1. `switchboard privacy new-key --id new` prints a key line;
2. SWITCHBOARD_NUMBER_KEYS=`new:...,old:...` everywhere (the first key seals, all open), and
   restart the web processes and the ingest;
3. `switchboard privacy rekey` on every host with a spool: it re-seals under the first key
   what still waits sealed under an older one (the spool, the stream entries not yet ingested)
   and asks Redis to rewrite its append-only file, so the old ciphertexts leave the disk;
4. drop `old` from SWITCHBOARD_NUMBER_KEYS and restart again.

`rekey` also seals plain numbers it finds (spool files and stream entries from before numbers
were sealed). It prints counts, never a number, and writes a `key_rotation` audit row.
"""

from __future__ import annotations

import argparse
import fcntl
import getpass
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from switchboard.sealing import KEY_ID, NumberSeal, SealError, new_key, reseal_fields
from switchboard.spool import Spool

if TYPE_CHECKING:
    import redis

    from switchboard.cli.command import Subparsers

STREAM_CHUNK = 500


@dataclass
class Resealed:
    """What a rekey changed (`resealed`) and what it had to leave, as no key opens it."""

    resealed: int = 0
    unopenable: int = 0


def register_privacy(commands: Subparsers) -> None:
    fresh = commands.add_parser(
        "new-key",
        help="print a fresh key for SWITCHBOARD_NUMBER_KEYS and the rotation steps",
    )
    fresh.add_argument(
        "--id",
        default=None,
        metavar="ID",
        help="the key's id, 1-32 of A-Z a-z 0-9 _ - (default: k<year><month><day>)",
    )
    fresh.set_defaults(handler=_new_key)
    rekey = commands.add_parser(
        "rekey",
        help="re-seal waiting numbers (spool, stream) under the first key of "
        "SWITCHBOARD_NUMBER_KEYS",
        description="Re-seal under the first key everything in this host's spool and in the "
        "stream that is still sealed under an older key (or not sealed at all), then ask Redis "
        "to rewrite its append-only file. Prints counts only.",
    )
    rekey.set_defaults(handler=_rekey)


# --- new-key ---------------------------------------------------------------------------------


def _new_key(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from switchboard.cli.command import CommandError

    key_id = args.id or datetime.now(UTC).strftime("k%Y%m%d")
    if not KEY_ID.match(key_id):
        raise CommandError("--id takes 1-32 of A-Z a-z 0-9 _ -", code=2)
    _say(new_key(key_id))
    sys.stderr.write(
        "\nThe line above is a secret: keep it where SWITCHBOARD_NUMBER_KEYS is kept.\n"
        "To rotate to it:\n"
        f"  1. put it first: SWITCHBOARD_NUMBER_KEYS={key_id}:...,<the keys you have now>\n"
        "     and restart `switchboard serve` (or the web and ingest processes) everywhere;\n"
        "  2. run `switchboard privacy rekey` on every host that has a spool;\n"
        "  3. once the ingest metric switchboard_ingest_unopened_numbers_total stays 0, drop\n"
        "     the old keys from SWITCHBOARD_NUMBER_KEYS and restart again.\n"
    )
    return 0


# --- rekey -----------------------------------------------------------------------------------


def _rekey(_args: argparse.Namespace) -> int:
    from redis.exceptions import RedisError

    from switchboard import audit
    from switchboard.cli.command import CommandError, load_settings
    from switchboard.db import make_engine
    from switchboard.redis_client import worker_redis

    settings = load_settings()
    seal = settings.number_seal
    spool = rekey_spool(settings.effective_spool_dir, seal)
    _say(
        f"spool {settings.effective_spool_dir}: {spool.resealed} events re-sealed under key "
        f"{seal.current!r}"
    )
    connection = worker_redis(settings)
    try:
        stream = rekey_stream(connection, settings.stream, seal)
    except RedisError as exc:
        raise CommandError(
            f"cannot re-seal the stream: Redis at {settings.effective_redis_url}: {exc}; the "
            "spool is done, run `switchboard privacy rekey` again once Redis answers"
        ) from None
    _say(f"stream {settings.stream}: {stream.resealed} entries re-sealed")
    for where, counts in (("spool", spool), ("stream", stream)):
        if counts.unopenable:
            _say(
                f"{where}: {counts.unopenable} numbers are sealed under a key that is not "
                "configured; left as they are (the ingest stores those events without them)"
            )
    _say(rewrite_aof(connection))
    engine = make_engine(settings.sqlalchemy_url)
    try:
        with engine.begin() as db:
            audit.record(
                db,
                actor=f"cli:{getpass.getuser()}",
                action="key_rotation",
                key=seal.current,
                resealed_spool=spool.resealed,
                resealed_stream=stream.resealed,
            )
    finally:
        engine.dispose()
    return 0


def rewrite_aof(connection: redis.Redis) -> str:
    """Ask Redis to rewrite its append-only file; what happened, as a line for the operator."""
    from redis.exceptions import ResponseError

    try:
        connection.bgrewriteaof()
    except ResponseError as exc:
        return (
            f"Redis did not start an append-only file rewrite ({exc}): the AOF is off or a "
            "rewrite is already running; nothing to do, or run `redis-cli BGREWRITEAOF` later"
        )
    return "asked Redis to rewrite its append-only file (BGREWRITEAOF), dropping old ciphertexts"


def rekey_stream(connection: redis.Redis, stream: str, seal: NumberSeal) -> Resealed:
    """Re-seal the entries waiting in the stream. Each changed entry is XADDed again (same
    event id, so the ingest's dedupe drops whichever copy comes second) and only then XDELed,
    both in one MULTI: nothing is lost, whatever the ingest does meanwhile. Entries added while
    this runs are left alone; the web processes seal them under the current key anyway."""
    counts = Resealed()
    last: Any = connection.xrevrange(stream, count=1)
    if not last:
        return counts
    end = last[0][0]
    start: bytes | str = "-"
    while True:
        entries: Any = connection.xrange(stream, min=start, max=end, count=STREAM_CHUNK)
        for entry_id, raw in entries:
            try:
                fields = {key.decode(): value.decode() for key, value in raw.items()}
                fresh = reseal_fields(fields, seal)
            except SealError:
                counts.unopenable += 1
                continue
            except UnicodeDecodeError:
                continue  # malformed; the ingest skips it
            if fresh is None:
                continue
            pipe = connection.pipeline(transaction=True)
            pipe.xadd(stream, fresh)  # type: ignore[arg-type]  # redis-py's stub is too narrow
            pipe.xdel(stream, entry_id)
            pipe.execute()
            counts.resealed += 1
        if len(entries) < STREAM_CHUNK:
            return counts
        start = b"(" + entries[-1][0]


def rekey_spool(directory: Path, seal: NumberSeal) -> Resealed:
    """Re-seal every spool file in `directory` (see switchboard/spool.py for its format).

    The current file is first set aside for replay (`Spool.set_aside`, as the replayer does),
    so appenders move on to a new one; files set aside are only ever deleted (by the replayer,
    under the exclusive lock this takes too), never renamed, so replacing one cannot race a
    rename."""
    counts = Resealed()
    if not directory.is_dir():
        return counts
    spool = Spool(directory)
    spool.set_aside()
    for path in spool.waiting_files():
        _rekey_file(path, seal, counts)
    return counts


def _rekey_file(path: Path, seal: NumberSeal, counts: Resealed) -> None:
    """Rewrite one spool file atomically under its exclusive lock: appenders that opened it
    before it was renamed (shared lock) finish first; a replayer waiting for the lock then
    finds the old file deleted and leaves the new one for its next round."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        if os.fstat(fd).st_nlink == 0:
            return  # replayed meanwhile
        with os.fdopen(os.dup(fd), "rb") as reader:
            lines = reader.readlines()
        changed = 0
        out: list[bytes] = []
        for line in lines:
            fresh = _reseal_line(line, seal, counts)
            changed += fresh is not None
            out.append(fresh if fresh is not None else line)
        if changed:
            _replace(path, b"".join(out))
            counts.resealed += changed
    finally:
        os.close(fd)


def _reseal_line(line: bytes, seal: NumberSeal, counts: Resealed) -> bytes | None:
    try:
        parsed = json.loads(line)
    except ValueError:
        return None  # blank or torn; the replayer skips it
    if not isinstance(parsed, dict) or not line.endswith(b"\n"):
        return None
    fields = {str(key): str(value) for key, value in parsed.items()}
    try:
        fresh = reseal_fields(fields, seal)
    except SealError:
        counts.unopenable += 1
        return None
    if fresh is None:
        return None
    return json.dumps(fresh, ensure_ascii=False).encode() + b"\n"


def _replace(path: Path, payload: bytes) -> None:
    """Temp file (0600) + fsync + rename over `path` + fsync of the directory."""
    temp = path.with_name(f".rekey-{os.getpid()}-{path.name}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as writer:
        writer.write(payload)
        writer.flush()
        os.fsync(writer.fileno())
    os.replace(temp, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()
