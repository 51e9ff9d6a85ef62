"""The local spool: where call events wait while Redis is unreachable.

A spool is a directory of JSON-lines files, one event's `to_fields()` per line:

- `events.jsonl` is appended to by any number of processes (every uvicorn worker). Each append
  opens the file with O_APPEND, writes the whole batch with one `write()` and fsyncs, so lines
  from different processes never interleave and an acknowledged event survives a power cut.
  Measured on the development VM (ext4 on virtio): open + write + fsync + close of one event is
  about 0.08 ms; budget 1-10 ms on real disks, still far inside a webhook's time.
- `replay_spool` renames `events.jsonl` to `replaying-<ns>-<pid>.jsonl`, pushes every line of it
  to the stream and only then deletes it. A crash in between leaves the renamed file, which the
  next replay picks up again: an event may be pushed twice (its UUID lets the ingest drop the
  copy) but never lost.

Appenders and the replayer coordinate with flock: an appender writes under a shared lock and
checks, under that lock, that its descriptor is still `events.jsonl`; the replayer takes an
exclusive lock on the file it just renamed before reading it. So a write either lands in a file
before the replayer reads it, or notices the rename and goes to the new `events.jsonl`.

Lines hold phone numbers (a callback number, an SMS recipient), sealed by the event log
(switchboard/sealing.py) except in files written before numbers were sealed; files are 0600 in
a 0700 directory and never logged. `switchboard privacy rekey` rewrites the files in place
under the same locks (switchboard/keyring.py).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ivr.events import Event

log = logging.getLogger(__name__)

CURRENT = "events.jsonl"
REPLAYING_PREFIX = "replaying-"


@dataclass(frozen=True)
class Backlog:
    """What waits in a spool, for the metrics: an operator sees a stranded spool by its age."""

    bytes: int = 0
    events: int = 0
    oldest_age_seconds: float = 0.0


class Spool:
    def __init__(self, directory: Path) -> None:
        self.directory = directory.resolve()
        self.path = self.directory / CURRENT
        self.corrupt_lines_total = 0

    def append(self, events: Sequence[Event]) -> None:
        """Durably append events; raises OSError when the disk refuses."""
        if not events:
            return
        payload = b"".join(
            json.dumps(event.to_fields(), ensure_ascii=False).encode() + b"\n" for event in events
        )
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Retry when a replayer renamed the file between our open() and our lock; three
        # renames in a row would need three replays within microseconds.
        for _ in range(3):
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_SH)
                if not self._still_current(fd):
                    continue
                written = os.write(fd, payload)
                if written != len(payload):
                    raise OSError(f"short write to the spool: {written} of {len(payload)} bytes")
                os.fsync(fd)
                return
            finally:
                os.close(fd)
        raise OSError(f"the spool file {self.path} kept being rotated during an append")

    def replay(self, push: Callable[[list[dict[str, str]]], None], *, chunk_size: int = 500) -> int:
        """Push every spooled event through `push` in chunks; returns how many were pushed.

        Files are deleted only after all their events were pushed. If `push` raises, the
        exception propagates and the file stays for the next replay.
        """
        self.set_aside()
        pushed = 0
        for path in self.waiting_files():
            pushed += self._replay_file(path, push=push, chunk_size=chunk_size)
        return pushed

    def is_empty(self) -> bool:
        return self.backlog_bytes() == 0

    def backlog_bytes(self) -> int:
        """Bytes waiting to be replayed, for the spool gauge."""
        total = 0
        for path in [self.path, *self.waiting_files()]:
            try:
                total += path.stat().st_size
            except FileNotFoundError:
                continue
        return total

    def backlog(self, *, now: datetime | None = None) -> Backlog:
        """Bytes and events waiting, and how long the oldest has waited (its `at`; events are
        spooled as they happen). Reads the files: cheap while the spool is empty, which is
        whenever Redis answers."""
        size = events = 0
        oldest: datetime | None = None
        for path in [*self.waiting_files(), self.path]:  # oldest file first
            try:
                with path.open("rb") as reader:
                    first = reader.readline()
                    events += bool(first.strip())
                    for block in iter(lambda: reader.read(1 << 20), b""):
                        events += block.count(b"\n")
                    size += reader.tell()
            except FileNotFoundError:
                continue  # replayed meanwhile
            if oldest is None and first.strip():
                oldest = _spooled_at(first)
        age = ((now or datetime.now(UTC)) - oldest).total_seconds() if oldest else 0.0
        return Backlog(bytes=size, events=events, oldest_age_seconds=max(0.0, age))

    def _still_current(self, fd: int) -> bool:
        try:
            current = os.stat(self.path)
        except FileNotFoundError:
            return False
        opened = os.fstat(fd)
        return (opened.st_dev, opened.st_ino) == (current.st_dev, current.st_ino)

    def set_aside(self) -> None:
        """Rename the current file for replay (a `replaying-` file), so appenders start a new
        one; nothing when it is empty or missing."""
        target = self.directory / f"{REPLAYING_PREFIX}{time.time_ns():020d}-{os.getpid()}.jsonl"
        try:
            if self.path.stat().st_size == 0:
                return
            os.rename(self.path, target)
        except FileNotFoundError:
            return

    def waiting_files(self) -> list[Path]:
        """The files set aside for replay, oldest first."""
        if not self.directory.is_dir():
            return []
        # Names carry a zero-padded timestamp, so sorting replays older batches first.
        return sorted(self.directory.glob(f"{REPLAYING_PREFIX}*.jsonl"))

    def _replay_file(
        self, path: Path, *, push: Callable[[list[dict[str, str]]], None], chunk_size: int
    ) -> int:
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            return 0  # another replayer finished it
        try:
            # Waits for appenders that opened the file before the rename to finish writing.
            fcntl.flock(fd, fcntl.LOCK_EX)
            if os.fstat(fd).st_nlink == 0:
                return 0  # another replayer finished it while we waited for the lock
            with os.fdopen(os.dup(fd), "rb") as reader:
                pushed = 0
                for chunk in _chunks(self._parse(reader, path), chunk_size):
                    push(chunk)
                    pushed += len(chunk)
            os.unlink(path)
            return pushed
        finally:
            os.close(fd)

    def _parse(self, lines: Iterator[bytes], path: Path) -> Iterator[dict[str, str]]:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                fields = json.loads(line)
                if not isinstance(fields, dict):
                    raise ValueError("not an object")
            except ValueError:
                # A torn line from a crash mid-write; its content may hold a phone number.
                self.corrupt_lines_total += 1
                log.error("spool %s: skipping unreadable line %d", path.name, number)
                continue
            yield {str(key): str(value) for key, value in fields.items()}


def _spooled_at(line: bytes) -> datetime | None:
    try:
        at = datetime.fromisoformat(json.loads(line)["at"])
    except (ValueError, KeyError, TypeError):
        return None  # a torn line; the next reading sees the one after it replayed
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _chunks(items: Iterator[dict[str, str]], size: int) -> Iterator[list[dict[str, str]]]:
    chunk: list[dict[str, str]] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
