"""The RQ queues by name, and how a job is written into them: JSON, never pickle.

Shared by the processes that run jobs (`workers.queues`, the worker and the ingest consumer that
enqueues the SMS jobs) and the one that only counts them (the exporter's queue sizes and failed
jobs), so the web package needs nothing from `workers` to read them. RQ's default pickle would
execute whatever a writer to Redis put there.
"""

from __future__ import annotations

import redis
from rq import Queue
from rq.serializers import JSONSerializer

SMS_QUEUE = "sms"
DEFAULT_QUEUES = (SMS_QUEUE,)


def make_queue(name: str, *, connection: redis.Redis) -> Queue:
    return Queue(name, connection=connection, serializer=JSONSerializer)
