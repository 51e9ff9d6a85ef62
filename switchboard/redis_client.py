"""Redis clients with timeouts chosen per process role.

redis-py 8's defaults (5 s socket timeouts, 10 retries with backoff) can stall a webhook for
tens of seconds when Redis is down, far past
Twilio's 15 s. The web process therefore gets `web_redis()`: 0.2 s timeouts, and at most one
retry, only on a refused or reset connection, which is what a pooled connection sees once after
Redis restarts. A timeout is never retried, so one call costs at most one timeout.

Workers block on XREADGROUP and RQ's BLPOP, so their client (`worker_redis()`) has no read
timeout but keeps a short connect timeout.
"""

from __future__ import annotations

import redis
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.retry import Retry

from switchboard.settings import Settings


def connect_redis(
    url: str,
    *,
    timeout: float | None,
    connect_timeout: float,
    retries: int = 0,
) -> redis.Redis:
    """A client for a `unix://`, `redis://` or `rediss://` URL.

    Responses stay bytes (`decode_responses=False`) because RQ shares these connections and
    requires that.
    """
    return redis.Redis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=connect_timeout,
        retry=Retry(NoBackoff(), retries, supported_errors=(RedisConnectionError,)),
        retry_on_error=[],
    )


def web_redis(settings: Settings) -> redis.Redis:
    """For request handlers: fails fast so the webhook can spool and still answer."""
    return connect_redis(
        settings.effective_redis_url,
        timeout=settings.redis_timeout_seconds,
        connect_timeout=settings.redis_timeout_seconds,
        retries=1,
    )


def worker_redis(settings: Settings) -> redis.Redis:
    """For the ingest consumer and RQ workers, whose reads block by design."""
    return connect_redis(
        settings.effective_redis_url,
        timeout=None,
        connect_timeout=2.0,
        retries=1,
    )
