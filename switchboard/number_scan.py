"""The number scan: where known caller numbers occur, in files, Redis, SQL and text.

Given the phone numbers a test (or an audit) knows were used, a `NumberScan` looks in each
place it is shown and records every occurrence as a `Finding`: the kind of place, where in it,
and which number. It also counts the places it looked at, and keeps the mode of every file and
directory it walked, so that a caller can check them (0600 and 0700).

A number is found in any of these spellings, each standing between non-digits (with a plus,
digits may stand on either side: the number's length is known, and binary records such as a
SQLite row run one value into the next):

- E.164, `+4791234567`, and URL-encoded, `%2B4791234567`;
- without the plus, `4791234567`, or with the international prefix, `004791234567`;
- the national number alone, `91234567` (Norwegian numbers, +47).

Files are read as raw bytes, so a SQLite database, its WAL, a Redis AOF or a JSON outbox is
searched as it lies on disk, and so is what compressed data in it holds: zlib streams (RQ's job
data) and the LZF strings of Redis's RDB format (an RDB file, or the RDB preamble of a
rewritten AOF), see `switchboard.compressed`. Redis and SQL are scanned through
`switchboard.number_stores`.
"""

from __future__ import annotations

import mmap
import os
import re
import stat
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from switchboard.compressed import Data, lzf_strings, zlib_streams

PlaceKind = Literal["file", "redis", "sql", "log", "metrics", "text"]
EntryKind = Literal["file", "dir", "other"]

NORWAY = "47"
LAYERS = {"zlib": zlib_streams, "lzf": lzf_strings}
# A run of digits, taken whole (digits on either side would make it a different number), or a
# plus (raw or URL-encoded) and the digits after it, whatever comes before the plus.
_CANDIDATE = re.compile(rb"(?:(\+|%2[Bb])|(?<![0-9]))([0-9]{8,})(?![0-9])")


@dataclass(frozen=True)
class Finding:
    """One place where one number occurs (`count` times)."""

    kind: PlaceKind
    location: str  # a path, a Redis key (and field), or table.column#row
    number: str  # the E.164 number found
    count: int = 1

    def __str__(self) -> str:
        times = f" x{self.count}" if self.count > 1 else ""
        return f"{self.kind:<7} {self.location}: {self.number}{times}"


@dataclass(frozen=True)
class Entry:
    """A file or directory walked, with its permission bits."""

    path: Path
    kind: EntryKind
    mode: int  # stat.S_IMODE: 0o600, 0o700, ...

    def __str__(self) -> str:
        return f"{self.kind:<5} {self.mode:04o} {self.path}"


class NumberMatcher:
    """Finds known numbers, in every spelling above, in bytes or text."""

    def __init__(self, numbers: Iterable[str]) -> None:
        self._spellings: dict[bytes, str] = {}
        self._international: dict[bytes, str] = {}  # the digits after the plus
        for number in numbers:
            if not re.fullmatch(r"\+[1-9][0-9]{6,14}", number):
                raise ValueError(f"not an E.164 number: {number!r}")
            digits = number[1:]
            self._international[digits.encode()] = number
            self._spellings[digits.encode()] = number
            self._spellings[b"00" + digits.encode()] = number
            if digits.startswith(NORWAY) and len(digits) == len(NORWAY) + 8:
                self._spellings[digits[len(NORWAY) :].encode()] = number
        self.numbers = frozenset(self._spellings.values())
        self._lengths = sorted({len(digits) for digits in self._international})

    def occurrences(self, data: Data) -> Iterator[tuple[int, str]]:
        """(offset, number) for every occurrence in `data`."""
        for match in _CANDIDATE.finditer(data):
            run = match.group(2)
            number = self._spellings.get(run)
            if number is None and match.group(1):
                # After a plus the number's length is known: binary records (a SQLite row)
                # put the next value's digits right after it.
                heads = (self._international.get(run[:n]) for n in self._lengths)
                number = next((head for head in heads if head is not None), None)
            if number is not None:
                yield match.start(), number

    def count(self, data: Data | str) -> Counter[str]:
        """How often each number occurs in `data`."""
        raw = data.encode("utf-8", "surrogateescape") if isinstance(data, str) else data
        return Counter(number for _, number in self.occurrences(raw))

    def count_layers(self, data: Data) -> dict[str, Counter[str]]:
        """How often each number occurs in the compressed data inside `data`, by layer: zlib
        streams (RQ's job data) and RDB LZF strings (`switchboard.compressed`)."""
        return {
            layer: Counter(
                number for opened in open_(data) for _, number in self.occurrences(opened)
            )
            for layer, open_ in LAYERS.items()
        }

    def count_file(self, path: Path) -> tuple[Counter[str], dict[str, Counter[str]]]:
        """How often each number occurs in the file's bytes, and in the compressed data in
        them, by layer. The file is mapped, not read into memory."""
        with path.open("rb") as handle:
            if os.fstat(handle.fileno()).st_size == 0:
                return Counter(), {layer: Counter() for layer in LAYERS}
            with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
                return self.count(data), self.count_layers(data)


@dataclass
class NumberScan:
    """Everything a scan found, and how many places it looked at."""

    matcher: NumberMatcher
    findings: list[Finding] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    places: Counter[PlaceKind] = field(default_factory=Counter)

    @classmethod
    def of(cls, numbers: Iterable[str]) -> NumberScan:
        return cls(NumberMatcher(numbers))

    @property
    def places_total(self) -> int:
        return sum(self.places.values())

    def look(self, kind: PlaceKind, location: str, data: bytes | str) -> list[Finding]:
        """Count `data` as one place of `kind` at `location`, and record what it holds."""
        self.places[kind] += 1
        return self.search(kind, location, data)

    def search(self, kind: PlaceKind, location: str, data: bytes | str) -> list[Finding]:
        """Record what `data` holds at `location`, and what compressed data in it holds
        ("<location> [zlib]", "<location> [lzf]")."""
        raw = data.encode("utf-8", "surrogateescape") if isinstance(data, str) else data
        found = self.record(kind, location, self.matcher.count(raw))
        return found + self._layers(kind, location, self.matcher.count_layers(raw))

    def _layers(
        self, kind: PlaceKind, location: str, layers: dict[str, Counter[str]]
    ) -> list[Finding]:
        found: list[Finding] = []
        for layer, counts in layers.items():
            found += self.record(kind, f"{location} [{layer}]", counts)
        return found

    def scan_text(self, name: str, text: str, *, kind: PlaceKind = "text") -> list[Finding]:
        """A text blob: captured log output (`kind="log"`), a /metrics scrape, ..."""
        return self.look(kind, name, text)

    def scan_tree(self, root: Path) -> list[Finding]:
        """Every file under `root` as raw bytes; every file's and directory's mode is kept in
        `entries` (symbolic links are not followed). Sockets and other special files are
        entries of kind "other" and are not read."""
        found: list[Finding] = []
        self._enter(root)
        for directory, dirs, files in os.walk(root, followlinks=False):
            base = Path(directory)
            for name in sorted(dirs):
                self._enter(base / name)
            for name in sorted(files):
                path = base / name
                if self._enter(path) == "file":
                    self.places["file"] += 1
                    plain, layers = self.matcher.count_file(path)
                    found += self.record("file", str(path), plain)
                    found += self._layers("file", str(path), layers)
        return found

    def _enter(self, path: Path) -> EntryKind | None:
        try:
            info = path.lstat()
        except FileNotFoundError:  # gone while we walked (a lock file, a temporary AOF)
            return None
        if stat.S_ISDIR(info.st_mode):
            kind: EntryKind = "dir"
        elif stat.S_ISREG(info.st_mode):
            kind = "file"
        else:
            kind = "other"
        self.entries.append(Entry(path, kind, stat.S_IMODE(info.st_mode)))
        return kind

    def record(self, kind: PlaceKind, location: str, counts: Counter[str]) -> list[Finding]:
        found = [Finding(kind, location, number, n) for number, n in sorted(counts.items())]
        self.findings += found
        return found

    # --- reading the results -------------------------------------------------------------------

    def numbers_found(self) -> set[str]:
        return {finding.number for finding in self.findings}

    def by_kind(self) -> Counter[PlaceKind]:
        """How many findings (place and number) of each kind."""
        return Counter(finding.kind for finding in self.findings)

    def modes_other_than(self, *, file: int = 0o600, directory: int = 0o700) -> list[Entry]:
        """Entries whose mode is not `file` or `directory`; a socket or other special file
        only when its group or others may use it (Redis' socket is 0700, say)."""
        return [
            entry
            for entry in self.entries
            if (entry.mode & 0o077 if entry.kind == "other" else entry.mode != file)
            and not (entry.kind == "dir" and entry.mode == directory)
        ]

    def report(self, findings: Iterable[Finding] | None = None) -> str:
        """A readable account: the places looked at by kind, then each finding."""
        shown = list(self.findings if findings is None else findings)
        looked = ", ".join(f"{n} {kind}" for kind, n in sorted(self.places.items()))
        numbers = len({finding.number for finding in shown})
        lines = [
            f"looked at {self.places_total} places ({looked}) for {len(self.matcher.numbers)} "
            f"numbers; {len(shown)} findings of {numbers} numbers",
            *(f"  {finding}" for finding in shown),
        ]
        return "\n".join(lines)
