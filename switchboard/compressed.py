"""Compressed data inside raw bytes, opened up so that a scan can read what it holds.

Two kinds matter for the number scan (`switchboard.number_scan`):

- zlib streams: RQ keeps a job's data as a zlib-compressed pickle, in the job's hash and so in
  Redis's AOF;
- LZF strings of Redis's RDB format: an RDB file, and the RDB preamble that starts a rewritten
  AOF (Redis 7: the `.base.rdb` part in `appendonlydir/`), compress longer strings, stream
  listpacks included.

Neither is parsed from a file's structure: every position where such data could start is tried,
and what opens cleanly (a zlib stream that inflates, an LZF string whose output has exactly
its stated length) is returned.
"""

from __future__ import annotations

import mmap
import re
import zlib
from collections.abc import Iterator
from typing import TypeAlias

Data: TypeAlias = bytes | mmap.mmap  # what can be searched: bytes, or a mapped file

# zlib's header: CMF 0x78 (deflate, 32 KiB window), then a FLG byte for each compression level.
_ZLIB_HEADER = re.compile(rb"\x78[\x01\x5e\x9c\xda]")
_LZF_MARKER = 0xC3  # RDB: a string of type "LZF compressed", then its two lengths
MAX_OPENED = 16 << 20  # no single stream is opened beyond this


def zlib_streams(data: Data) -> Iterator[bytes]:
    """What each zlib stream that starts in `data` inflates to (as much as `data` holds)."""
    view = memoryview(data)
    for match in _ZLIB_HEADER.finditer(data):
        inflater = zlib.decompressobj()
        try:
            inflated = inflater.decompress(view[match.start() :], MAX_OPENED)
        except zlib.error:
            continue
        if inflated:
            yield inflated


def lzf_strings(data: Data) -> Iterator[bytes]:
    """Every RDB LZF string in `data`, decompressed."""
    start = data.find(bytes([_LZF_MARKER]))
    while start >= 0:
        opened = _lzf_string_at(data, start + 1)
        if opened is not None:
            yield opened
        start = data.find(bytes([_LZF_MARKER]), start + 1)


def _lzf_string_at(data: Data, at: int) -> bytes | None:
    compressed = _rdb_length(data, at)
    if compressed is None:
        return None
    clen, at = compressed
    plain = _rdb_length(data, at)
    if plain is None:
        return None
    length, at = plain
    if not 0 < clen <= len(data) - at or not 0 < length <= MAX_OPENED:
        return None
    return lzf_decompress(data[at : at + clen], length)


def _rdb_length(data: Data, at: int) -> tuple[int, int] | None:
    """An RDB length at `at`: (length, where the next field starts), or None."""
    if at >= len(data):
        return None
    first = data[at]
    kind = first >> 6
    if kind == 0:
        return first & 0x3F, at + 1
    if kind == 1:
        if at + 1 >= len(data):
            return None
        return ((first & 0x3F) << 8) | data[at + 1], at + 2
    if first == 0x80 and at + 5 <= len(data):
        return int.from_bytes(data[at + 1 : at + 5], "big"), at + 5
    if first == 0x81 and at + 9 <= len(data):
        return int.from_bytes(data[at + 1 : at + 9], "big"), at + 9
    return None


def lzf_decompress(data: bytes, length: int) -> bytes | None:
    """LZF (liblzf, as Redis uses it) to exactly `length` bytes, or None if it is not that."""
    out = bytearray()
    i = 0
    while i < len(data):
        control = data[i]
        i += 1
        if control < 32:  # a literal run of control + 1 bytes
            run = control + 1
            if i + run > len(data) or len(out) + run > length:
                return None
            out += data[i : i + run]
            i += run
            continue
        run = control >> 5
        if run == 7:
            if i >= len(data):
                return None
            run += data[i]
            i += 1
        if i >= len(data):
            return None
        back = ((control & 0x1F) << 8) + data[i] + 1
        i += 1
        run += 2
        if back > len(out) or len(out) + run > length:
            return None
        for _ in range(run):  # byte by byte: a reference may overlap what it writes
            out.append(out[-back])
    return bytes(out) if len(out) == length else None
