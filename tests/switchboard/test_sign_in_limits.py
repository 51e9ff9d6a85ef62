"""Limits on failed sign-ins in real Redis: per account and per address, in a window, and what
a successful sign-in clears."""

from __future__ import annotations

import redis

from switchboard.sign_in_limits import KEY_PREFIX, Limits, SignInLimits

LIMITS = Limits(per_account=3, per_address=5, window_seconds=600)


def test_failures_against_one_account_close_it_from_every_address(
    redis_client: redis.Redis,
) -> None:
    limits = SignInLimits(redis_client, LIMITS)
    for address in ("10.0.0.1", "10.0.0.2"):
        assert limits.retry_after("kari", address) == 0
        limits.failed("kari", address)
    assert limits.retry_after("kari", "10.0.0.3") == 0
    limits.failed("KARI", "10.0.0.3")  # the same account, however it is typed
    wait = limits.retry_after("kari", "10.0.0.9")
    assert 0 < wait <= LIMITS.window_seconds
    assert limits.retry_after("ola", "10.0.0.9") == 0  # another account is not affected


def test_failures_from_one_address_close_it_for_every_account(
    redis_client: redis.Redis,
) -> None:
    limits = SignInLimits(redis_client, LIMITS)
    for name in ("a1", "a2", "a3", "a4", "a5"):
        assert limits.retry_after(name, "10.0.0.1") == 0
        limits.failed(name, "10.0.0.1")
    assert 0 < limits.retry_after("someone-new", "10.0.0.1") <= LIMITS.window_seconds
    assert limits.retry_after("someone-new", "10.0.0.2") == 0


def test_the_window_starts_at_the_first_failure_and_the_count_ends_with_it(
    redis_client: redis.Redis,
) -> None:
    limits = SignInLimits(redis_client, LIMITS)
    for _ in range(LIMITS.per_account):
        limits.failed("kari", "10.0.0.1")
    keys = redis_client.keys(KEY_PREFIX + "*")
    assert len(keys) == 2
    for key in keys:
        assert 0 < redis_client.ttl(key) <= LIMITS.window_seconds
    # The window passing is Redis expiring the counts: played here by expiring them now.
    for key in keys:
        redis_client.expire(key, 0)
    assert limits.retry_after("kari", "10.0.0.1") == 0
    limits.failed("kari", "10.0.0.1")
    assert limits.retry_after("kari", "10.0.0.1") == 0  # a fresh window counts from one


def test_a_success_clears_the_account_but_not_the_address(redis_client: redis.Redis) -> None:
    limits = SignInLimits(redis_client, LIMITS)
    for name in ("kari", "kari", "kari", "ola", "ola"):
        limits.failed(name, "10.0.0.1")
    assert limits.retry_after("kari", "10.0.0.2") > 0
    limits.succeeded("kari")
    assert limits.retry_after("kari", "10.0.0.2") == 0
    # The address had five failures: it stays closed, even for the account that succeeded.
    assert limits.retry_after("kari", "10.0.0.1") > 0


def test_redis_holds_no_user_name_or_address(redis_client: redis.Redis) -> None:
    limits = SignInLimits(redis_client, LIMITS)
    limits.failed("kari.nordmann", "192.0.2.77")
    keys = " ".join(str(key) for key in redis_client.keys("*"))
    assert KEY_PREFIX in keys
    assert "kari" not in keys
    assert "192.0.2.77" not in keys
