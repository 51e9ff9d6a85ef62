"""RQ queues and workers, built the one way every process must agree on.

- JSON serialisation on both sides (the queues themselves: switchboard/job_queues.py): RQ's
  default pickle would execute whatever a writer to Redis put there.
- Workers activate the `JobContext` (workers/context.py) around every job.
- Jobs with retry intervals need the scheduler: run workers with `with_scheduler=True`.
- Jobs take row ids, never a phone number, and workers do not log job descriptions: what RQ
  stores in Redis and writes to its log holds no number (tests/workers/test_sms_privacy.py).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from multiprocessing.util import register_after_fork
from typing import Any

import redis
from rq import SimpleWorker, Worker
from rq.serializers import JSONSerializer

from switchboard.job_queues import DEFAULT_QUEUES, make_queue
from switchboard.lifeline import die_with_parent
from workers.context import JobContext, activated


class _ContextMixin:
    """Runs each job inside `activated(self.context)`, in the process that performs it."""

    context: JobContext
    listen_for_commands: bool
    _parent_pid: int

    def subscribe(self) -> None:
        if self.listen_for_commands:
            super().subscribe()  # type: ignore[misc]

    def perform_job(self, job: Any, queue: Any, execution: Any) -> bool:
        if os.getpid() != self._parent_pid:
            # In a forked work horse: pooled connections belong to the parent. Forget them
            # without closing them, so the parent's sockets stay intact (SQLAlchemy's
            # "using connection pools with multiprocessing" recipe).
            self.context.engine.dispose(close=False)
        with activated(self.context):
            result: bool = super().perform_job(job, queue, execution)  # type: ignore[misc]
            return result


class ContextWorker(_ContextMixin, Worker):
    """RQ's forking worker: a job that crashes or leaks cannot take the worker down."""

    def main_work_horse(self, job: Any, queue: Any) -> None:
        # In the work horse, first thing: die with the worker (switchboard/lifeline.py). A fork
        # clears the parent-death signal, and the horse leads a process group of its own, so
        # a killed worker would otherwise leave it running its job unsupervised.
        _die_with_worker(self)
        super().main_work_horse(job, queue)


class SimpleContextWorker(_ContextMixin, SimpleWorker):
    """Runs jobs in the worker's own process: for tests and single-process development."""


def make_worker(
    queue_names: Sequence[str] = DEFAULT_QUEUES,
    *,
    connection: redis.Redis,
    context: JobContext,
    fork: bool = True,
    listen_for_commands: bool = True,
) -> Worker | SimpleWorker:
    """A worker for `queue_names` that runs jobs inside `context`.

    `fork=False` runs jobs in this process (tests, single-process development).
    `listen_for_commands=False` skips RQ's pubsub thread for remote commands (stop a job,
    shut down); a burst run in a test needs none, and stopping that thread costs RQ a 1 s
    join at the end of every `work(burst=True)`.
    """
    worker_class = ContextWorker if fork else SimpleContextWorker
    worker = worker_class(
        [make_queue(name, connection=connection) for name in queue_names],
        connection=connection,
        serializer=JSONSerializer,
        # RQ logs a job's description as it starts and ends; job ids are enough, and a job an
        # older version enqueued may have a description that spells out its arguments.
        log_job_description=False,
    )
    worker.context = context
    worker.listen_for_commands = listen_for_commands
    worker._parent_pid = os.getpid()
    if fork:
        # `work(with_scheduler=True)` runs RQ's scheduler in a multiprocessing child of the
        # worker; it too must die with the worker (switchboard/lifeline.py).
        register_after_fork(worker, _die_with_worker)
    return worker


def _die_with_worker(worker: _ContextMixin) -> None:
    die_with_parent(parent=worker._parent_pid)
