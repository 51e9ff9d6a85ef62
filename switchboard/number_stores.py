"""The number scan (`switchboard.number_scan`) in the two stores: Redis and SQL.

Redis: every key SCAN finds, its name and its whole value by type (strings, hashes, lists,
sets, sorted sets with their scores, streams entry by entry with XRANGE). SQL: every column of
every table the database has (reflected, so a table no model knows is scanned too), each value
as text, JSON documents as their JSON text, and each finding names the table, column and row.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from redis import Redis
from sqlalchemy import Engine, MetaData, Table, select

from switchboard.number_scan import Finding, NumberScan

STREAM_BATCH = 500


def scan_redis(scan: NumberScan, redis: Redis) -> list[Finding]:
    """Every key in the connection's database: one place per key, findings per key part."""
    found: list[Finding] = []
    for key in redis.scan_iter(count=1000):
        name = _text(key)
        scan.places["redis"] += 1
        found += scan.search("redis", f"key name {name!r}", key)
        for part, value in _redis_parts(redis, key):
            found += scan.search("redis", f"{name} {part}", value)
    return found


def _redis_parts(redis: Redis, key: bytes) -> Iterator[tuple[str, bytes]]:
    """(which part, its bytes) of a key's value, whatever its type."""
    kind = _text(redis.type(key))
    if kind == "string":
        yield "(string)", _bytes(redis.get(key))
    elif kind == "hash":
        for field_, value in redis.hscan_iter(key):
            yield f"field {_text(field_)!r} (name)", _bytes(field_)
            yield f"field {_text(field_)!r}", _bytes(value)
    elif kind == "list":
        for index, item in enumerate(redis.lrange(key, 0, -1)):
            yield f"[{index}]", _bytes(item)
    elif kind == "set":
        for member in redis.sscan_iter(key):
            yield "(member)", _bytes(member)
    elif kind == "zset":
        for member, score in redis.zscan_iter(key):
            yield f"(member, score {score:g})", _bytes(member) + b" " + repr(score).encode()
    elif kind == "stream":
        yield from _stream_entries(redis, key)
    elif kind != "none":  # deleted while we looked
        yield f"({kind}: not read)", b""


def _stream_entries(redis: Redis, key: bytes) -> Iterator[tuple[str, bytes]]:
    start = "-"
    while True:
        entries = redis.xrange(key, min=start, max="+", count=STREAM_BATCH) or []
        for entry_id, fields in entries:
            ident = _text(entry_id)
            yield f"entry {ident} (id)", _bytes(entry_id)
            for field_, value in (fields or {}).items():
                yield (
                    f"entry {ident} field {_text(field_)!r}",
                    _bytes(field_) + b"=" + _bytes(value),
                )
        if len(entries) < STREAM_BATCH:
            return
        start = "(" + _text(entries[-1][0])  # exclusive: after the last one read


def scan_sql(scan: NumberScan, engine: Engine) -> list[Finding]:
    """Every column of every table: one place per table.column, findings per row."""
    metadata = MetaData()
    metadata.reflect(engine)
    found: list[Finding] = []
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            scan.places["sql"] += len(table.columns)
            for row in connection.execute(select(table)).mappings():
                ident = _row_id(table, row)
                for column in table.columns:
                    value = row[column]
                    if value is None:
                        continue
                    location = f"{table.name}.{column.name}#{ident}"
                    found += scan.search("sql", location, sql_text(value))
    return found


def sql_text(value: Any) -> bytes:
    """A column value as the bytes to search: text as is, JSON as its JSON text."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str).encode()
    if isinstance(value, datetime | date):
        return value.isoformat().encode()
    return str(value).encode("utf-8", "surrogateescape")


def _row_id(table: Table, row: Any) -> str:
    keys = list(table.primary_key.columns)
    if not keys:
        return "?"
    return ",".join(str(row[column]) for column in keys)


def _bytes(value: object) -> bytes:
    if value is None:
        return b""
    if isinstance(value, bytes):
        return value
    return str(value).encode()


def _text(value: object) -> str:
    return value.decode("utf-8", "backslashreplace") if isinstance(value, bytes) else str(value)
