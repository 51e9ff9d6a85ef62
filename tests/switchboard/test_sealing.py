"""Caller numbers travel sealed: the web process seals them before the stream and the spool, only
the ingest opens them, and `switchboard privacy rekey` moves what waits to a new key."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import redis
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from sim.call_trial import simulator_for
from sim.twilio import press
from switchboard import audit
from switchboard.db import make_engine
from switchboard.eventlog import EventLog
from switchboard.models import Callback, CallEvent
from switchboard.redis_client import connect_redis
from switchboard.sealing import (
    NumberSeal,
    SealError,
    is_sealed,
    key_id_of,
    new_key,
    seal_numbers,
)
from switchboard.settings import Settings
from switchboard.spool import Spool
from tests.fixtures.cli import run_cli
from tests.fixtures.events import callback_request, make_event, sms_request
from tests.fixtures.redis import stream_entries
from tests.switchboard.apphost import make_app, make_settings
from workers.ingest import Ingestor

NUMBER = "+4791234567"
DIGITS = b"91234567"
SATURDAY = datetime(2026, 11, 28, 11, tzinfo=ZoneInfo("Europe/Oslo"))  # closed: callbacks
OLD, NEW = new_key("old"), new_key("new")


# --- the seal --------------------------------------------------------------------------------


def test_a_sealed_number_opens_to_itself_and_shows_nothing_of_it() -> None:
    seal = NumberSeal.from_text(f"{NEW},{OLD}")
    sealed = seal.seal(NUMBER, field="number")
    assert is_sealed(sealed)
    assert key_id_of(sealed) == "new"
    assert "91234567" not in sealed
    assert seal.seal(NUMBER, field="number") != sealed  # a fresh nonce each time
    assert seal.open(sealed, field="number") == NUMBER
    old = NumberSeal.from_text(OLD)
    assert old.open(old.seal(NUMBER, field="to"), field="to") == NUMBER


def test_a_wrong_field_or_a_tampered_value_does_not_open() -> None:
    seal = NumberSeal.from_text(NEW)
    sealed = seal.seal(NUMBER, field="number")
    with pytest.raises(SealError):
        seal.open(sealed, field="to")
    last = sealed[-2]
    tampered = sealed[:-2] + ("A" if last != "A" else "B") + sealed[-1]
    with pytest.raises(SealError):
        seal.open(tampered, field="number")
    with pytest.raises(SealError):
        seal.open(NUMBER, field="number")


def test_a_key_that_is_not_configured_is_named_in_the_refusal() -> None:
    sealed = NumberSeal.from_text(OLD).seal(NUMBER, field="number")
    with pytest.raises(SealError, match="'old'") as refused:
        NumberSeal.from_text(NEW).open(sealed, field="number")
    assert "91234567" not in str(refused.value)


@pytest.mark.parametrize(
    ("keys", "says"),
    [
        ("", "no key given"),
        ("nokey", "each key is `id:base64url`"),
        ("a b:AAAA", "each key is `id:base64url`"),
        ("short:AAAA", "is 3 bytes; AES-256 takes 32"),
        (f"{NEW},{NEW}", "appears twice"),
    ],
)
def test_settings_refuse_malformed_keys_saying_why(tmp_path: Path, keys: str, says: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(var_dir=tmp_path, number_keys=keys)
    assert "number_keys" in str(refused.value)  # the CLI says SWITCHBOARD_NUMBER_KEYS (below)
    assert says in str(refused.value)


def test_the_command_line_refuses_malformed_keys_saying_which_setting(tmp_path: Path) -> None:
    result = run_cli(
        "privacy", "rekey", cwd=tmp_path, env={"SWITCHBOARD_NUMBER_KEYS": "k:not-32-bytes"}
    )
    assert result.returncode == 1
    assert "SWITCHBOARD_NUMBER_KEYS" in result.stderr + result.stdout
    assert "SWITCHBOARD_NUMBER_KEYS: SWITCHBOARD_NUMBER_KEYS" not in result.stderr + result.stdout


def test_new_key_prints_a_key_line_the_settings_accept(tmp_path: Path) -> None:
    result = run_cli("privacy", "new-key", "--id", "k2027", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    line = result.stdout.strip()
    assert line.startswith("k2027:")
    assert NumberSeal.from_text(line).current == "k2027"
    assert "switchboard privacy rekey" in result.stderr
    assert run_cli("privacy", "new-key", "--id", "no good", cwd=tmp_path).returncode == 2


# --- the edge seals, the ingest opens --------------------------------------------------------


def _ask_for_a_callback(settings: Settings, client_redis: redis.Redis | None = None) -> None:
    app = make_app(settings, client_redis)
    with TestClient(app) as client:
        sim = simulator_for(
            http=client, settings=settings, config=app.state.services.ctx.config, start=SATURDAY
        )
        sim.place_call(from_=NUMBER, to="+4756375000", script=[press("8")])
        sim.run()


def _ingest(settings: Settings, client: redis.Redis) -> Ingestor:
    engine = make_engine(settings.sqlalchemy_url)
    try:
        ingestor = Ingestor.from_settings(settings, redis=client, engine=engine, consumer="t")
        ingestor.ensure_group()
        while ingestor.run_once(block_ms=None):
            pass
    finally:
        engine.dispose()
    return ingestor


def _callback_numbers(settings: Settings) -> list[str]:
    engine = make_engine(settings.sqlalchemy_url)
    try:
        with Session(engine) as session:
            return sorted(session.scalars(select(Callback.number)))
    finally:
        engine.dispose()


def _stream_bytes(client: redis.Redis, stream: str) -> bytes:
    entries = stream_entries(client, stream)
    return b"".join(key + b"=" + value for _id, fields in entries for key, value in fields.items())


def test_a_callback_travels_sealed_through_the_stream_and_opens_at_the_ingest(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis
) -> None:
    settings = make_settings(tmp_path, redis_url, number_keys=NEW)
    _ask_for_a_callback(settings)

    raw = _stream_bytes(redis_client, settings.stream)
    assert b"callback_requested" in raw
    assert DIGITS not in raw
    _ingest(settings, redis_client)
    assert _callback_numbers(settings) == [NUMBER]


def test_with_redis_down_the_spool_holds_the_number_sealed_and_the_ingest_opens_it(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis
) -> None:
    dead = f"unix://{tmp_path}/no-redis.sock"
    down = make_settings(tmp_path, dead, number_keys=NEW, redis_timeout_seconds=0.2)
    _ask_for_a_callback(down, connect_redis(dead, timeout=0.2, connect_timeout=0.2))

    spooled = b"".join(path.read_bytes() for path in down.effective_spool_dir.glob("*"))
    assert b"callback_requested" in spooled
    assert DIGITS not in spooled

    up = make_settings(tmp_path, redis_url, number_keys=NEW)
    assert EventLog.from_settings(up, redis=redis_client).replay_spool() > 0
    assert DIGITS not in _stream_bytes(redis_client, up.stream)
    _ingest(up, redis_client)
    assert _callback_numbers(up) == [NUMBER]


def test_a_sealed_value_is_not_sealed_again_and_an_old_plain_spool_line_is_sealed_on_replay(
    tmp_path: Path, redis_client: redis.Redis
) -> None:
    seal = NumberSeal.from_text(NEW)
    already = seal_numbers(callback_request(number=NUMBER), seal)
    plain = sms_request(to=NUMBER)
    spool = Spool(tmp_path / "spool")
    spool.append([plain])  # as a spool written before numbers were sealed
    log = EventLog(
        redis=redis_client, stream="test:events", spool=spool, breaker_open_seconds=30, seal=seal
    )
    log.append([already])
    assert log.replay_spool() == 1
    entries = [
        {key.decode(): value.decode() for key, value in fields.items()}
        for _id, fields in stream_entries(redis_client, "test:events")
    ]
    assert json.loads(entries[0]["data"])["number"] == already.data["number"]
    assert seal.open(json.loads(entries[1]["data"])["to"], field="to") == NUMBER


# --- rotation --------------------------------------------------------------------------------


def _redis_away(_chunk: list[dict[str, str]]) -> None:
    raise RuntimeError("redis away")


def test_rekey_moves_the_stream_and_the_spool_to_the_new_key_and_the_ingest_opens_them(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis
) -> None:
    before = make_settings(tmp_path, redis_url, number_keys=OLD)
    numbers = [f"+47912345{n:02d}" for n in range(6)]
    requests = [callback_request(number=number) for number in numbers]
    log = EventLog.from_settings(before, redis=redis_client)
    log.append(requests[:2])  # in the stream
    log.spool.append([seal_numbers(event, before.number_seal) for event in requests[2:4]])
    with pytest.raises(RuntimeError):
        log.spool.replay(_redis_away)  # leaves a replaying file
    log.spool.append([seal_numbers(requests[4], before.number_seal)])  # a replaying file + current
    log.spool.append([requests[5]])  # plain, from before numbers were sealed

    env = {
        "SWITCHBOARD_DATABASE_URL": before.sqlalchemy_url,
        "SWITCHBOARD_REDIS_URL": redis_url,
        "SWITCHBOARD_VAR_DIR": str(tmp_path),
        "SWITCHBOARD_NUMBER_KEYS": f"{NEW},{OLD}",
    }
    result = run_cli("privacy", "rekey", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert "4 events re-sealed" in result.stdout
    assert "2 entries re-sealed" in result.stdout
    assert "append-only file" in result.stdout
    assert DIGITS[:6] not in result.stdout.encode()

    stream_keys = [
        key_id_of(json.loads(fields[b"data"])["number"])
        for _id, fields in stream_entries(redis_client, before.stream)
    ]
    assert stream_keys == ["new", "new"]
    files = sorted(before.effective_spool_dir.glob("*"))
    assert [path.name.startswith("replaying-") for path in files] == [True, True]
    for path in files:
        assert path.stat().st_mode & 0o777 == 0o600
        for line in path.read_bytes().splitlines():
            assert key_id_of(json.loads(json.loads(line)["data"])["number"]) == "new"

    again = run_cli("privacy", "rekey", cwd=tmp_path, env=env)
    assert again.returncode == 0, again.stderr
    assert "0 events re-sealed" in again.stdout
    assert "0 entries re-sealed" in again.stdout

    after = make_settings(tmp_path, redis_url, number_keys=NEW)
    assert EventLog.from_settings(after, redis=redis_client).replay_spool() == 4
    ingestor = _ingest(after, redis_client)
    assert ingestor.unopened_numbers_total == 0
    assert _callback_numbers(after) == sorted(numbers)
    engine = make_engine(after.sqlalchemy_url)
    try:
        row = audit.entries(engine, action="key_rotation")[-1]  # newest first: the first run
    finally:
        engine.dispose()
    assert row.actor.startswith("cli:")
    assert (row.detail["resealed_spool"], row.detail["resealed_stream"]) == (4, 2)


def test_a_number_whose_key_is_gone_is_left_out_counted_and_the_ingest_goes_on(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(tmp_path, redis_url, number_keys=NEW)
    gone = NumberSeal.from_text(new_key("gone"))
    lost = seal_numbers(callback_request(number=NUMBER), gone)
    kept = callback_request(number="+4741234567")
    after = make_event("call_ended", call_sid=lost.call_sid)
    log = EventLog.from_settings(settings, redis=redis_client)
    log.append([lost, kept, after])

    with caplog.at_level(logging.ERROR, logger="workers.ingest"):
        ingestor = _ingest(settings, redis_client)

    assert ingestor.unopened_numbers_total == 1
    assert ingestor.ingested_total == 3
    assert _callback_numbers(settings) == ["+4741234567"]  # no row for the lost number
    engine = make_engine(settings.sqlalchemy_url)
    try:
        with Session(engine) as session:
            stored = {row.event_id: row.data for row in session.scalars(select(CallEvent))}
    finally:
        engine.dispose()
    assert set(stored) == {lost.id, kept.id, after.id}
    assert "number" not in stored[lost.id]
    messages = [record.getMessage() for record in caplog.records if record.name == "workers.ingest"]
    assert len(messages) == 1
    assert lost.id in messages[0]
    assert "'gone'" in messages[0]
    assert "91234567" not in caplog.text
