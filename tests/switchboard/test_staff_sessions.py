"""Staff sessions in real Redis: they end when idle, at their absolute limit and at sign-out,
and Redis never holds a cookie value that could be replayed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import redis

from switchboard.access import Principal
from switchboard.staff_sessions import KEY_PREFIX, SessionStore

T0 = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
KARI = Principal(name="kari", role="agent", agent_id="sentralbord", display_name="Kari")
IDLE = 30 * 60
MAX = 12 * 3600


def _raw(value: bytes | str | None) -> bytes:
    """What redis-py typed as either: this client does not decode responses."""
    assert isinstance(value, bytes)
    return value


def _store(client: redis.Redis) -> SessionStore:
    return SessionStore(client, idle_seconds=IDLE, max_seconds=MAX)


def test_a_session_finds_its_person_and_keeps_its_csrf_token(redis_client: redis.Redis) -> None:
    store = _store(redis_client)
    cookie, started = store.start(KARI, method="password", at=T0)
    found = store.find(cookie, at=T0 + timedelta(minutes=5))
    assert found is not None
    assert found.principal == KARI
    assert found.csrf == started.csrf
    assert len(found.csrf) >= 32
    assert found.method == "password"
    assert store.find("not-" + cookie, at=T0) is None
    assert store.find("", at=T0) is None


def test_a_session_unused_for_the_idle_time_ends(redis_client: redis.Redis) -> None:
    store = _store(redis_client)
    cookie, _ = store.start(KARI, method="password", at=T0)
    # Each use moves the idle deadline on: an hour of use, every 20 minutes, keeps it.
    for minutes in (20, 40, 60):
        assert store.find(cookie, at=T0 + timedelta(minutes=minutes)) is not None
    assert store.find(cookie, at=T0 + timedelta(minutes=60 + 31)) is None
    # Ended, not only refused: the right clock does not bring it back.
    assert store.find(cookie, at=T0 + timedelta(minutes=61)) is None
    assert redis_client.keys(KEY_PREFIX + "*") == []


def test_redis_forgets_an_abandoned_session_after_the_idle_time(
    redis_client: redis.Redis,
) -> None:
    _cookie, _ = _store(redis_client).start(KARI, method="oidc", at=T0)
    (key,) = redis_client.keys(KEY_PREFIX + "*")
    assert 0 < redis_client.ttl(key) <= IDLE


def test_a_session_in_use_still_ends_at_its_absolute_limit(redis_client: redis.Redis) -> None:
    store = _store(redis_client)
    cookie, _ = store.start(KARI, method="oidc", at=T0)
    at = T0
    while at < T0 + timedelta(hours=12):
        assert store.find(cookie, at=at) is not None, at
        at += timedelta(minutes=25)
    assert store.find(cookie, at=T0 + timedelta(hours=12, minutes=1)) is None


def test_sign_out_makes_the_cookie_worthless(redis_client: redis.Redis) -> None:
    store = _store(redis_client)
    cookie, _ = store.start(KARI, method="password", at=T0)
    other, _ = store.start(KARI, method="password", at=T0)
    store.end(cookie)
    assert store.find(cookie, at=T0) is None
    assert store.find(other, at=T0) is not None  # the same person's other browser stays


def test_redis_holds_a_hash_of_the_cookie_and_never_the_cookie(
    redis_client: redis.Redis,
) -> None:
    store = _store(redis_client)
    cookie, session = store.start(KARI, method="password", at=T0)
    store.find(cookie, at=T0 + timedelta(minutes=1))
    keys = [_raw(k) for k in redis_client.keys("*")]
    assert len(keys) == 1
    (key,) = keys
    assert key.startswith(KEY_PREFIX.encode())
    digest = key[len(KEY_PREFIX) :].decode()
    assert len(digest) == 64
    assert int(digest, 16) >= 0
    assert redis_client.type(key) == b"string"
    everything = key + _raw(redis_client.get(key))
    assert cookie.encode() not in everything
    assert b"kari" in everything  # the value is readable: the check above means something
    assert session.csrf.encode() in everything
