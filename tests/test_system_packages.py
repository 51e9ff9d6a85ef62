"""`.ci/system-packages`: the one place that finds (and, as root, installs) the Debian packages
the tests need. `.ci/run` and `make test` both run it.

This machine has every package, and the tests run as root here, so a bare non-root machine
cannot be reproduced; the script's detection is pointed at an empty directory instead, and
`--check` guarantees that nothing is installed while it reports."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / ".ci" / "system-packages"
EVERY_PACKAGE = [
    "postgresql",
    "docker-compose",
    "prometheus",
    "prometheus-alertmanager",
    "chromium",
    "nodejs",
    "npm",
    "python3-venv",
    "make",
]


def run_script(*args: str, **detect: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYSTEM_PACKAGES_")}
    return subprocess.run(
        [str(SCRIPT), *args],
        capture_output=True,
        text=True,
        env={**env, **detect},
        timeout=60,
        check=False,
    )


def test_nothing_is_missing_on_this_machine() -> None:
    result = run_script("--check")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "system packages: nothing missing"
    assert result.stderr == ""


def test_a_bare_machine_is_told_the_exact_command_and_nothing_is_installed(
    tmp_path: Path,
) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    result = run_script(
        "--check", SYSTEM_PACKAGES_PATH=str(empty), SYSTEM_PACKAGES_POSTGRES=str(empty)
    )
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert lines[0] == ("error: missing Debian packages the tests need: " + " ".join(EVERY_PACKAGE))
    assert lines[-1].strip() == (
        "apt-get install -y --no-install-recommends " + " ".join(EVERY_PACKAGE)
    )
    assert result.stdout == "", "a check installs nothing (it would say 'Installing: ...')"


def test_only_the_missing_packages_are_named(tmp_path: Path) -> None:
    # Everything but Chromium and the Alertmanager's amtool: only those two are asked for.
    partial = tmp_path / "bin"
    partial.mkdir()
    tools = {
        tool: shutil.which(tool)
        for tool in ("docker-compose", "promtool", "prometheus", "node", "npm")
    }
    for tool, found in {**tools, "python3": sys.executable, "make": shutil.which("make")}.items():
        assert found, f"{tool} is not installed: run .ci/system-packages as root"
        wrapper = partial / tool
        wrapper.write_text(f'#!/bin/sh\nexec "{found}" "$@"\n')
        wrapper.chmod(0o755)
    result = run_script("--check", SYSTEM_PACKAGES_PATH=str(partial))
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1].strip() == (
        "apt-get install -y --no-install-recommends prometheus-alertmanager chromium"
    )


def test_an_unknown_option_is_refused_without_a_traceback() -> None:
    result = run_script("--dry-run")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: unknown option '--dry-run' (use --check, or no option to install)"
    )


def test_ci_and_make_test_run_the_same_script() -> None:
    assert ".ci/system-packages\n" in (ROOT / ".ci" / "run").read_text()
    make = shutil.which("make")
    assert make, "GNU make is not installed"
    result = subprocess.run(
        [make, "--no-print-directory", "-n", "-C", str(ROOT), "test"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    commands = result.stdout.splitlines()
    # Before anything else: python3-venv may be what creating .venv needs.
    assert commands[0] == ".ci/system-packages", commands
    assert commands[-1].startswith(".venv/bin/pytest"), commands
