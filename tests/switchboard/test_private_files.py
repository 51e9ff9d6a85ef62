"""Everything the service keeps under var/ is for its own user only: files 0600, directories
0700, also what an older install left there with wider modes."""

from __future__ import annotations

import os
import signal
import stat
from pathlib import Path

from sqlalchemy import create_engine

from switchboard.private_files import restrict_tree
from tests.fixtures.localhost import free_port, status, wait_for
from tests.fixtures.serve import running_serve
from tests.switchboard.test_serve import play_a_call, recorded_kinds


def modes(root: Path) -> dict[str, tuple[str, int]]:
    """Every path under `root` (and `root`), by kind, with its permission bits."""
    found: dict[str, tuple[str, int]] = {}
    for directory, subdirectories, files in os.walk(root):
        for name in [
            directory,
            *(os.path.join(directory, d) for d in subdirectories),
            *(os.path.join(directory, f) for f in files),
        ]:
            mode = os.lstat(name).st_mode
            kind = "dir" if stat.S_ISDIR(mode) else "file" if stat.S_ISREG(mode) else "other"
            found[os.path.relpath(name, root)] = (kind, stat.S_IMODE(mode))
    return found


def test_serve_keeps_var_private_and_tightens_an_older_install(workdir: Path) -> None:
    var = workdir / "var"
    older = var / "spool"
    older.mkdir(parents=True, mode=0o755)
    older.chmod(0o755)
    var.chmod(0o755)
    leftover = older / "events-old.jsonl"
    leftover.write_text("")
    leftover.chmod(0o644)
    port = free_port()
    with running_serve(workdir, port) as serve:
        wait_for(lambda: status(f"http://127.0.0.1:{port}/readyz") == 200, within=60)
        call, _webhooks = play_a_call(f"http://127.0.0.1:{port}")
        database = create_engine(f"sqlite:///{var / 'switchboard.db'}")
        try:
            wait_for(lambda: "call_ended" in recorded_kinds(database, call.sid), within=30)
        finally:
            database.dispose()
        found = modes(var)
        serve.send_signal(signal.SIGTERM)
        assert serve.wait(timeout=60) == 0

    # What the service keeps callers' data in is all there, and private.
    for expected in ("switchboard.db", "switchboard.db-wal", "redis", "spool/events-old.jsonl"):
        assert expected in found, sorted(found)
    assert any(path.startswith("redis/") and "appendonly" in path for path in found), found
    wrong = {
        path: oct(mode)
        for path, (kind, mode) in found.items()
        if (kind == "dir" and mode != 0o700)
        or (kind == "file" and mode != 0o600)
        or (kind == "other" and mode & 0o077)  # the Redis socket: no one else may connect
    }
    assert wrong == {}


def test_restrict_tree_leaves_symlinks_alone(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("")
    outside.chmod(0o644)
    root = tmp_path / "var"
    (root / "deep").mkdir(parents=True)
    (root / "deep" / "file").write_text("")
    (root / "link").symlink_to(outside)
    root.chmod(0o755)

    assert restrict_tree(root) == 3  # var, var/deep and the file
    assert stat.S_IMODE(outside.stat().st_mode) == 0o644
    assert restrict_tree(root) == 0
    assert restrict_tree(tmp_path / "missing") == 0
