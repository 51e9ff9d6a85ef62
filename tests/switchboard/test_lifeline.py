"""Children die with `switchboard serve`, however it ends (switchboard/lifeline.py), and a web
port already taken stops `serve` before anything starts (switchboard/webport.py)."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from pathlib import Path

from redis import Redis
from rq import Worker

from switchboard.job_queues import SMS_QUEUE, make_queue
from switchboard.redis_client import connect_redis
from tests.fixtures.cli import run_cli
from tests.fixtures.localhost import free_port, poll, status, wait_for
from tests.fixtures.processes import alive, descendants
from tests.fixtures.serve import running_serve


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def kinds(tree: dict[int, str]) -> dict[str, int]:
    """How many of each process `serve` leads to, by what its command line says it is."""
    counted: dict[str, int] = {}
    for command in tree.values():
        kind = next(
            (
                name
                for name, mark in (
                    ("redis", "redis-server"),
                    ("web worker", "multiprocessing.spawn"),
                    ("web", "uvicorn"),
                    ("ingest", "switchboard ingest"),
                    ("worker", "switchboard worker"),
                )
                if mark in command
            ),
            "other",
        )
        counted[kind] = counted.get(kind, 0) + 1
    return counted


def busy_horse(redis: Redis) -> None:
    """A job that outlasts the test, so the RQ worker has a work horse (its forked child)."""
    make_queue(SMS_QUEUE, connection=redis).enqueue("time.sleep", 600, job_timeout=900)
    wait_for(
        lambda: any(w.get_current_job_id() for w in Worker.all(connection=redis)),
        within=30,
        what="a job in a work horse",
    )


def test_a_killed_serve_takes_every_process_with_it_and_a_new_one_starts(workdir: Path) -> None:
    port = free_port()
    args = ("--workers", "2", "--metrics-port", "0")
    with running_serve(workdir, port, *args) as serve:
        wait_for(lambda: status(f"http://127.0.0.1:{port}/readyz") == 200, within=60)
        redis = connect_redis(
            f"unix://{workdir / 'var' / 'redis.sock'}", timeout=5, connect_timeout=5
        )
        try:
            wait_for(lambda: len(Worker.all(connection=redis)) == 1, within=30)
            busy_horse(redis)
        finally:
            redis.close()
        # Redis, uvicorn and its two workers, the ingest, and the RQ worker with its scheduler
        # and its work horse.
        want = {"redis": 1, "web": 1, "web worker": 2, "ingest": 1, "worker": 3}
        tree = poll(
            lambda: descendants(serve.pid),
            lambda found: all(kinds(found).get(k, 0) >= n for k, n in want.items()),
            within=30,
            what="every process serve leads to",
        )
        serve.send_signal(signal.SIGKILL)
        assert serve.wait(timeout=10) == -signal.SIGKILL
        poll(
            lambda: {pid: command for pid, command in tree.items() if alive(pid)},
            lambda survivors: not survivors,
            within=30,
            what="every process of the killed serve gone",
        )
        assert port_is_free(port), "nothing of the killed serve listens on its port"
    # The same directory and port: a new serve starts its own Redis and web server.
    with running_serve(workdir, port, *args) as again:
        wait_for(lambda: status(f"http://127.0.0.1:{port}/readyz") == 200, within=60)
        again.send_signal(signal.SIGTERM)
        assert again.wait(timeout=60) == 0
    # Killed, the children leave no noise behind: no process crashed on its way out.
    assert "Traceback" not in (workdir / "stderr.txt").read_text()


def test_a_web_port_already_taken_stops_serve_at_once(workdir: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("serve", "--port", str(port), "--metrics-port", "0", cwd=workdir)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"error: cannot listen on 127.0.0.1:{port}: Address already in use; stop what is using "
        "it (another `switchboard serve`?) or choose another --port (make run PORT=8010)"
    )
    assert "Traceback" not in result.stderr
    assert not (workdir / "var" / "redis.sock").exists(), "nothing started"
    assert "Switchboard is starting" not in result.stdout


def test_a_child_whose_parent_is_already_gone_ends_itself() -> None:
    # The race the kernel leaves open: the parent dies before the child asks for the signal.
    # Here the parent (this test) lives, but the child is told to expect another one.
    code = (
        "import os\n"
        "from switchboard.lifeline import die_with_parent\n"
        "die_with_parent(parent=os.getppid() + 1)\n"
        "print('still running')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == -signal.SIGKILL
    assert result.stdout == ""
