"""The number scan finds known numbers in every spelling and every place, and nothing else."""

from __future__ import annotations

import os
import pickle
import zlib
from pathlib import Path

import pytest
import redis
from sqlalchemy import Engine, text

from switchboard.compressed import lzf_decompress
from switchboard.number_scan import Finding, NumberMatcher, NumberScan
from switchboard.number_stores import scan_redis, scan_sql

MOBILE = "+4791234567"
LANDLINE = "+4756123456"
OTHER = "+4741234567"  # known, but in none of the places below


def test_every_spelling_between_non_digits_is_found() -> None:
    matcher = NumberMatcher([MOBILE, LANDLINE])
    text_ = (
        "a +4791234567 b 4791234567 c 91234567; To=%2B4791234567&x=%2b4791234567 "
        "004791234567 tel:56123456."
    )
    assert matcher.count(text_) == {MOBILE: 6, LANDLINE: 1}


def test_digits_that_run_on_are_another_number() -> None:
    matcher = NumberMatcher([MOBILE])
    assert matcher.count("912345678 191234567 24791234567 4791234567890") == {}
    assert matcher.count("id=91234567x") == {MOBILE: 1}


def test_after_a_plus_the_next_values_digits_may_follow() -> None:
    # A SQLite record: callbacks.number, then a caller pseudonym that starts with digits.
    matcher = NumberMatcher([MOBILE])
    assert matcher.count(b"CA3f9+47912345673f9a\x00a1%2B479123456712") == {MOBILE: 2}
    assert matcher.count(b"\x17479123456731") == {}


def test_only_e164_numbers_are_accepted() -> None:
    with pytest.raises(ValueError, match=r"not an E\.164 number"):
        NumberMatcher(["91234567"])


def test_numbers_inside_a_zlib_stream_are_found_and_marked() -> None:
    # RQ keeps a job's data as a compressed pickle: the number is not in its bytes as such.
    blob = b"HSET rq:job:1 data " + zlib.compress(pickle.dumps({"to": MOBILE})) + b"\r\n"
    scan = NumberScan.of([MOBILE])
    assert scan.matcher.count(blob) == {}
    assert scan.look("text", "aof", blob) == [Finding("text", "aof [zlib]", MOBILE)]


def test_a_tree_is_read_as_bytes_with_every_mode_kept(tmp_path: Path) -> None:
    root = tmp_path / "var"
    (root / "redis" / "appendonlydir").mkdir(parents=True)
    aof = root / "redis" / "appendonlydir" / "appendonly.aof.1.incr.aof"
    aof.write_bytes(b"*3\r\n$4\r\nXADD\r\n$12\r\n+4791234567\r\n" * 3)
    # A larger file, mapped rather than read: every number in it is seen once.
    big = root / "switchboard.db"
    big.write_bytes(b"\0" * ((1 << 20) - 5) + b"91234567\0" + b"\xff" * 100 + b"56123456")
    (root / "empty").write_bytes(b"")
    os.chmod(root, 0o755)  # noqa: S103 - the wrong mode the scan must report
    os.chmod(big, 0o644)
    scan = NumberScan.of([MOBILE, LANDLINE, OTHER])
    scan.scan_tree(root)
    assert sorted(map(str, scan.findings)) == sorted(
        [
            f"file    {aof}: {MOBILE} x3",
            f"file    {big}: {LANDLINE}",
            f"file    {big}: {MOBILE}",
        ]
    )
    assert scan.places == {"file": 3}
    assert {(e.path.name, e.kind) for e in scan.entries} >= {("var", "dir"), ("empty", "file")}
    wrong = {e.path.name: e.mode for e in scan.modes_other_than(file=0o600, directory=0o700)}
    assert wrong["var"] == 0o755
    assert wrong["switchboard.db"] == 0o644


def test_every_redis_type_and_key_name_is_searched(redis_client: redis.Redis) -> None:
    redis_client.set("plain", "to=+4791234567")
    redis_client.set("call:+4756123456", "x")
    redis_client.hset("rq:job:1", mapping={"data": zlib.compress(pickle.dumps((MOBILE,)))})
    redis_client.hset("h", mapping={"56123456": "field name"})
    redis_client.rpush("l", "a", "%2B4791234567")
    redis_client.sadd("s", "4756123456")
    redis_client.zadd("z", {"91234567": 1.5})
    redis_client.xadd("events", {"kind": "sms_requested", "to": MOBILE})
    redis_client.xadd("events", {"kind": "call_ended"})
    redis_client.set("clean", "nothing here 123")
    scan = NumberScan.of([MOBILE, LANDLINE, OTHER])
    scan_redis(scan, redis_client)
    assert scan.places == {"redis": 9}
    locations = {(f.location.split(" ")[0], f.number) for f in scan.findings}
    assert locations == {
        ("plain", MOBILE),
        ("key", LANDLINE),  # the key name "call:+4756123456"
        ("rq:job:1", MOBILE),
        ("h", LANDLINE),
        ("l", MOBILE),
        ("s", LANDLINE),
        ("z", MOBILE),
        ("events", MOBILE),
    }
    (stream,) = [f for f in scan.findings if f.location.startswith("events")]
    assert stream.location.endswith("field 'to'")
    (job,) = [f for f in scan.findings if f.location.startswith("rq:job:1")]
    assert job.location == "rq:job:1 field 'data' [zlib]"


def test_every_column_of_every_table_is_searched(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO callbacks (event_id, call_sid, number, caller, language, "
                "requested_at, status) VALUES ('e1', 'CA1', :n, 'p1', 'nn', :at, 'pending')"
            ),
            {"n": MOBILE, "at": "2026-12-01 10:00:00"},
        )
        connection.execute(
            text(
                "INSERT INTO call_events (event_id, dedupe_key, kind, call_sid, occurred_at, "
                "data, ingested_at) VALUES ('e2', 'k2', 'call_started', 'CA2', :at, :data, :at)"
            ),
            {"at": "2026-12-01 10:00:00", "data": '{"to": "+4756123456"}'},
        )
        connection.execute(text("CREATE TABLE scratch (note TEXT)"))
        connection.execute(text("INSERT INTO scratch VALUES ('ring 91234567')"))
    scan = NumberScan.of([MOBILE, LANDLINE, OTHER])
    scan_sql(scan, engine)
    (callback,) = [f for f in scan.findings if f.location.startswith("callbacks.")]
    assert callback.location.startswith("callbacks.number#")
    assert callback.number == MOBILE
    (event,) = [f for f in scan.findings if f.location.startswith("call_events.")]
    assert event.location.startswith("call_events.data#")
    assert event.number == LANDLINE
    (scratch,) = [f for f in scan.findings if f.location.startswith("scratch.")]
    assert scratch.location == "scratch.note#?"
    assert len(scan.findings) == 3
    assert scan.places["sql"] >= 20  # a place for every column of every table


def test_the_report_names_places_and_findings() -> None:
    scan = NumberScan.of([MOBILE, LANDLINE])
    scan.scan_text("serve stderr", f"sms to {MOBILE} sent", kind="log")
    scan.scan_text("/metrics", "switchboard_up 1\n", kind="metrics")
    report = scan.report()
    assert report.splitlines() == [
        "looked at 2 places (1 log, 1 metrics) for 2 numbers; 1 findings of 1 numbers",
        f"  log     serve stderr: {MOBILE}",
    ]
    assert scan.numbers_found() == {MOBILE}
    assert scan.by_kind() == {"log": 1}


def test_lzf_back_references_may_overlap_what_they_write() -> None:
    assert lzf_decompress(b"\x02abc\x20\x02", 6) == b"abcabc"
    assert lzf_decompress(b"\x00a\x60\x00", 6) == b"aaaaaa"
    assert lzf_decompress(b"\x00a\x60\x00", 7) is None  # not the stated length
    assert lzf_decompress(b"\x20\x05", 3) is None  # a reference before the start


def test_numbers_in_an_rdb_file_are_found_in_its_lzf_strings(
    redis_client: redis.Redis, tmp_path: Path
) -> None:
    # Redis compresses longer strings in an RDB file (and in the RDB preamble of a rewritten
    # AOF), stream listpacks included: the number is not in the file's bytes 20 times.
    redis_client.set("long", f"caller={MOBILE};" * 20)
    redis_client.xadd("events", {"event": f'{{"kind": "sms_requested", "to": "{MOBILE}"}}' * 5})
    redis_client.save()
    config = redis_client.config_get("*")
    dump = tmp_path / "dump.rdb"
    dump.write_bytes((Path(str(config["dir"])) / str(config["dbfilename"])).read_bytes())
    scan = NumberScan.of([MOBILE])
    scan.scan_tree(tmp_path)
    counts = {f.location.removeprefix(str(dump)): f.count for f in scan.findings}
    assert counts[" [lzf]"] >= 25, counts
    assert counts.get("", 0) < 25, counts
