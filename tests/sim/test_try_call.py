"""`switchboard try-call`'s instant: honoured in-process, refused with `--url` (a running service
answers at its own time, so the transcript would lie), and a typo is a usage error."""

from __future__ import annotations

import socket
from pathlib import Path

from tests.fixtures.cli import run_cli


def test_at_sets_the_instant_of_an_in_process_call(tmp_path: Path) -> None:
    result = run_cli(
        "try-call", "--at", "2026-12-24T10:00", "--no-agent", "--max-seconds", "5", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "at Thursday 2026-12-24 10:00 CET" in result.stdout


def test_at_with_url_is_refused_before_any_call(tmp_path: Path) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        listener.setblocking(False)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        result = run_cli("try-call", "--url", url, "--at", "2026-12-24T10:00", cwd=tmp_path)
        try:
            listener.accept()
        except BlockingIOError:
            contacted = False
        else:
            contacted = True
    assert result.returncode == 2
    assert "--at cannot be used with --url" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""  # no transcript claiming an instant the call never had
    assert not contacted


def test_a_malformed_at_is_a_usage_error_not_a_traceback(tmp_path: Path) -> None:
    result = run_cli("try-call", "--at", "24.12.2026 kl 10", cwd=tmp_path)
    assert result.returncode == 2
    assert "argument --at: '24.12.2026 kl 10' is not an ISO 8601 instant" in result.stderr
    assert "Traceback" not in result.stderr
