"""The image's lock file, `requirements.lock`, and the `pyproject.toml` it was made from.

`make lock` resolves the `[project]` dependencies with `uv pip compile --generate-hashes` and
then runs `python deploy/lockfile.py stamp`, which records a SHA-256 of those dependencies in
the lock file's first line. `python deploy/lockfile.py check` (the Dockerfile and
tests/test_project.py run it) compares that line with `pyproject.toml` as it is now, without
asking a registry: a dependency changed without `make lock` fails the build and the tests.

Standard library only: the Dockerfile runs it before anything is installed.
"""

from __future__ import annotations

import hashlib
import json
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = ROOT / "pyproject.toml"
LOCK = ROOT / "requirements.lock"
HEADER = "# pyproject-dependencies-sha256: "


def dependencies_hash(pyproject: Path = PYPROJECT) -> str:
    """SHA-256 of the `[project]` dependencies, in any order (comments are not part of them)."""
    dependencies = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["dependencies"]
    canonical = json.dumps(sorted(str(item).strip() for item in dependencies))
    return hashlib.sha256(canonical.encode()).hexdigest()


def recorded_hash(lock: Path = LOCK) -> str | None:
    """The hash the lock file's first line records, or None without one."""
    first = lock.read_text(encoding="utf-8").partition("\n")[0]
    return first.removeprefix(HEADER).strip() if first.startswith(HEADER) else None


def stamp(lock: Path = LOCK, pyproject: Path = PYPROJECT) -> None:
    """Record the dependencies' hash in the lock file's first line (replacing an older one)."""
    lines = lock.read_text(encoding="utf-8").splitlines(keepends=True)
    if lines and lines[0].startswith(HEADER):
        lines = lines[1:]
    lock.write_text(f"{HEADER}{dependencies_hash(pyproject)}\n" + "".join(lines), "utf-8")


def mismatch(lock: Path = LOCK, pyproject: Path = PYPROJECT) -> str | None:
    """Why the lock file does not match pyproject.toml, or None when it does."""
    if not lock.exists():
        return f"{lock.name} is missing: run `make lock`"
    recorded, expected = recorded_hash(lock), dependencies_hash(pyproject)
    if recorded is None:
        return f"{lock.name} records no dependencies hash: run `make lock`"
    if recorded != expected:
        return (
            f"{lock.name} was made from other dependencies than {pyproject.name}'s: run `make lock`"
        )
    return None


def main(argv: list[str]) -> int:
    if argv == ["stamp"]:
        stamp()
        return 0
    if argv == ["check"]:
        problem = mismatch()
        if problem:
            sys.stderr.write(f"error: {problem}\n")
            return 1
        sys.stdout.write(f"{LOCK.name} matches {PYPROJECT.name}\n")
        return 0
    sys.stderr.write("usage: python deploy/lockfile.py stamp|check\n")
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
