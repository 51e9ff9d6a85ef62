"""The process supervisor behind `switchboard serve`, with real child processes."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from switchboard.supervisor import Backoff, ChildSpec, Supervisor
from tests.fixtures.localhost import wait_for
from tests.fixtures.processes import alive

FAST = Backoff(first_seconds=0.01, max_seconds=0.05, stable_seconds=60)


def python_child(name: str, code: str) -> ChildSpec:
    return ChildSpec(name, [sys.executable, "-c", textwrap.dedent(code)])


@contextmanager
def running(supervisor: Supervisor) -> Iterator[list[int]]:
    """Run the supervisor in a thread; yields a list that holds its return code afterwards."""
    result: list[int] = []
    thread = threading.Thread(target=lambda: result.append(supervisor.run()), daemon=True)
    thread.start()
    try:
        yield result
    finally:
        supervisor.request_stop()
        thread.join(timeout=30)
        assert not thread.is_alive(), "the supervisor did not stop"


def ready_child(name: str, directory: Path, *, on_term: str = "record") -> ChildSpec:
    """A child that records the signal it gets (or ignores SIGTERM) and says when it is ready."""
    handler = {
        "record": "def handle(signum, frame):\n"
        f"    open({str(directory / (name + '.signal'))!r}, 'w').write(str(signum))\n"
        "    sys.exit(0)\n"
        "signal.signal(signal.SIGTERM, handle)\n"
        "signal.signal(signal.SIGINT, handle)\n",
        "ignore": "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n",
    }[on_term]
    aside, ready = str(directory / (name + ".tmp")), str(directory / (name + ".ready"))
    code = (
        "import os, signal, sys, time\n"
        + handler
        # Written aside, then renamed: a reader never sees the file before its pid is in it.
        + f"open({aside!r}, 'w').write(str(os.getpid()))\n"
        + f"os.replace({aside!r}, {ready!r})\n"
        + "while True:\n    time.sleep(0.05)\n"
    )
    return ChildSpec(name, [sys.executable, "-c", code])


def test_a_crashed_child_is_restarted(tmp_path: Path) -> None:
    starts = tmp_path / "starts"
    crashing = python_child(
        "web",
        f"""
        import os, sys
        with open({str(starts)!r}, "a") as f:
            f.write(f"{{os.getpid()}}\\n")
        sys.exit(3)
        """,
    )
    exited: list[int] = []
    supervisor = Supervisor([crashing], backoff=FAST, tick_seconds=0.01, on_exit=exited.append)
    with running(supervisor):
        wait_for(lambda: starts.exists() and len(starts.read_text().split()) >= 3)
    pids = [int(p) for p in starts.read_text().split()]
    assert len(set(pids)) == len(pids), "every restart is a new process"
    assert supervisor.restarts()["web"] >= 2
    assert set(pids[:2]) <= set(exited), "each dead child is reported (metrics clean-up)"


def test_a_crash_does_not_disturb_the_other_children(tmp_path: Path) -> None:
    steady = ready_child("worker", tmp_path)
    crashing = python_child("ingest", "import sys; sys.exit(1)")
    supervisor = Supervisor([steady, crashing], backoff=FAST, tick_seconds=0.01)
    with running(supervisor):
        wait_for(lambda: (tmp_path / "worker.ready").exists())
        first_pid = int((tmp_path / "worker.ready").read_text())
        wait_for(lambda: supervisor.restarts()["ingest"] >= 3)
        assert supervisor.pids()["worker"] == first_pid
        assert supervisor.restarts()["worker"] == 0


def test_backoff_grows_to_a_ceiling_so_a_crash_loop_does_not_spin() -> None:
    backoff = Backoff(first_seconds=0.5, max_seconds=30, stable_seconds=30)
    delays = [backoff.delay(n) for n in range(1, 10)]
    assert delays[:4] == [0.5, 1.0, 2.0, 4.0]
    assert max(delays) == 30
    assert delays == sorted(delays)


def test_stop_forwards_the_signal_and_waits_for_a_clean_exit(tmp_path: Path) -> None:
    supervisor = Supervisor(
        [ready_child("web", tmp_path), ready_child("worker", tmp_path)], tick_seconds=0.01
    )
    with running(supervisor) as result:
        wait_for(lambda: all((tmp_path / f"{n}.ready").exists() for n in ("web", "worker")))
        pids = [int((tmp_path / f"{n}.ready").read_text()) for n in ("web", "worker")]
        supervisor.request_stop(signal.SIGINT)
        wait_for(lambda: result == [0])
    for name in ("web", "worker"):
        assert (tmp_path / f"{name}.signal").read_text() == str(int(signal.SIGINT))
    assert not any(alive(pid) for pid in pids)


def test_a_child_that_ignores_sigterm_is_killed_after_the_timeout(tmp_path: Path) -> None:
    supervisor = Supervisor(
        [ready_child("stubborn", tmp_path, on_term="ignore")],
        tick_seconds=0.01,
        stop_timeout_seconds=0.5,
    )
    with running(supervisor) as result:
        wait_for(lambda: (tmp_path / "stubborn.ready").exists())
        pid = int((tmp_path / "stubborn.ready").read_text())
        supervisor.request_stop()
        wait_for(lambda: result == [0], within=10)
    assert not alive(pid)


def test_sigterm_to_the_supervisor_process_stops_its_children(tmp_path: Path) -> None:
    """What docker stop and Ctrl-C do: the signal goes to the supervisor, which forwards it."""
    child = ready_child("web", tmp_path)
    script = textwrap.dedent(
        f"""
        import sys
        from switchboard.supervisor import ChildSpec, Supervisor, install_signal_handlers
        supervisor = Supervisor([ChildSpec("web", {list(child.argv)!r})], tick_seconds=0.01)
        install_signal_handlers(supervisor)
        sys.exit(supervisor.run())
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", script])
    try:
        wait_for(lambda: (tmp_path / "web.ready").exists())
        parent.send_signal(signal.SIGTERM)
        assert parent.wait(timeout=30) == 0
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
    assert (tmp_path / "web.signal").read_text() == str(int(signal.SIGTERM))
    assert not alive(int((tmp_path / "web.ready").read_text()))
