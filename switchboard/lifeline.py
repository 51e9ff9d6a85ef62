"""A child's lifeline to its parent: when the parent dies, the kernel signals the child.

`switchboard serve` stops its children itself on SIGINT and SIGTERM, but nothing can run in a
process that gets SIGKILL (the OOM killer, `docker kill`, `kill -9`). Without this, its
children would live on: a uvicorn still holding the port, so the next `serve` cannot start;
an ingest consumer and an RQ worker nobody supervises; an embedded Redis. Linux's
`prctl(PR_SET_PDEATHSIG, signal)` asks the kernel to send `signal` to a process when its
parent ends, which holds however the parent ends.

Where it is set, for every process `serve` leads to:

- its children (uvicorn, the ingest consumer, the RQ worker, the embedded Redis): in the child,
  between fork and exec (`Popen(preexec_fn=...)`); the setting survives the exec;
- uvicorn's web workers (with `--workers` above 1, uvicorn's own multiprocessing children):
  when a worker loads `switchboard.app:app` (`switchboard/app.py`);
- RQ's work horses (forked per job; a fork clears the setting): when a horse starts
  (`workers/queues.py`).

Two things the kernel does not do, and what we do about them:

- If the parent dies before the child has asked, no signal ever comes. So the child compares
  its parent's pid with the one it expected, after asking, and ends itself when they differ.
- "The parent" is the thread that started the child, not its process. `Supervisor.run()`
  runs in `serve`'s main thread. The embedded Redis, when its watcher thread restarts it, gets
  its signal when that thread ends, which `serve` does only as it stops Redis anyway.

Linux only: elsewhere this does nothing, and a killed `serve` leaves its children running.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Callable
from functools import partial

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _load_prctl() -> Callable[..., int] | None:
    # Looked up once, at import: between fork and exec nothing may import or load a library.
    if not sys.platform.startswith("linux"):
        return None
    prctl: Callable[..., int] = ctypes.CDLL(None, use_errno=True).prctl
    return prctl


_PRCTL = _load_prctl()


def die_with_parent(signum: int = signal.SIGKILL, *, parent: int) -> None:
    """Have the kernel send `signum` to this process when `parent` (its parent's pid) dies;
    if `parent` is already gone, end now with that signal."""
    if _PRCTL is None:
        return
    if _PRCTL(PR_SET_PDEATHSIG, signum, 0, 0, 0) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"prctl(PR_SET_PDEATHSIG) failed: {os.strerror(errno)}")
    if os.getppid() != parent:  # the parent died before we asked: no signal will come
        os.kill(os.getpid(), signum)


def dying_with_me(signum: int = signal.SIGKILL) -> Callable[[], None]:
    """A `preexec_fn` for `subprocess.Popen`: the child dies with the calling thread's process.

    It runs in the child between fork and exec, so it only calls what `_PRCTL` already holds
    and a few system calls; nothing in it takes a lock another thread could hold.
    """
    return partial(die_with_parent, signum, parent=os.getpid())
