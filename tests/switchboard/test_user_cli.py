"""`switchboard user` as an operator runs it: a real process on a real database, the password on
stdin, exit codes, what it prints and what it refuses (writing nothing then)."""

from __future__ import annotations

import csv
import getpass
import io
import json
import logging
import os
import pty
import select
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from switchboard.accounts import check_password, find_account
from switchboard.audit import entries
from switchboard.cli import main
from switchboard.db import make_engine, migrate
from tests.fixtures.cli import run_cli

PASSWORD = "fjord-and-mountain-42"
NEW_PASSWORD = "a whole new passphrase"
ME = f"cli:{getpass.getuser()}"


def _env(db_url: str, tmp_path: Path) -> dict[str, str]:
    return {"SWITCHBOARD_DATABASE_URL": db_url, "SWITCHBOARD_VAR_DIR": str(tmp_path)}


def user(
    db_url: str, tmp_path: Path, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return run_cli("user", *args, cwd=tmp_path, env=_env(db_url, tmp_path), stdin=stdin)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A migrated SQLite database, for the refusals (the full round runs on both databases)."""
    url = f"sqlite:///{tmp_path / 'switchboard.db'}"
    migrate(url)
    return url


@pytest.fixture
def sqlite_engine(sqlite_url: str) -> Iterator[Engine]:
    engine = make_engine(sqlite_url)
    yield engine
    engine.dispose()


def test_add_list_passwd_disable_enable(engine: Engine, db_url: str, tmp_path: Path) -> None:
    added = user(
        db_url, tmp_path, "add", "kari", "--role", "agent", "--name", "Kari Nordmann",
        "--agent", "sentralbord", stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert "added kari (agent) with a password" in added.stdout
    lead = user(
        db_url, tmp_path, "add", "lea", "--role", "department_lead", "--department", "byggesak",
        "--no-password",
    )  # fmt: skip
    assert lead.returncode == 0, lead.stderr
    assert check_password(engine, "kari", PASSWORD) is not None

    listed = user(db_url, tmp_path, "list")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].split() == [
        "username", "name", "role", "department", "agent", "disabled", "password", "last_sign_in",
    ]  # fmt: skip
    assert lines[1].startswith("kari ")
    assert "Kari Nordmann" in lines[1]
    assert "sentralbord" in lines[1]
    assert lines[2].startswith("lea ")
    assert "byggesak" in lines[2]

    changed = user(db_url, tmp_path, "passwd", "kari", stdin=NEW_PASSWORD + "\n")
    assert changed.returncode == 0, changed.stderr
    assert check_password(engine, "kari", PASSWORD) is None
    assert check_password(engine, "kari", NEW_PASSWORD) is not None

    disabled = user(db_url, tmp_path, "disable", "kari")
    assert disabled.returncode == 0, disabled.stderr
    assert check_password(engine, "kari", NEW_PASSWORD) is None
    as_json = json.loads(user(db_url, tmp_path, "list", "--format", "json").stdout)
    assert [(row["username"], row["disabled"]) for row in as_json] == [
        ("kari", True),
        ("lea", False),
    ]
    enabled = user(db_url, tmp_path, "enable", "kari")
    assert enabled.returncode == 0, enabled.stderr
    assert check_password(engine, "kari", NEW_PASSWORD) is not None

    actions = [(e.action, e.detail["username"], e.detail.get("change")) for e in entries(engine)]
    assert list(reversed(actions)) == [
        ("account_added", "kari", None),
        ("account_added", "lea", None),
        ("account_changed", "kari", "password"),
        ("account_changed", "kari", "disabled"),
        ("account_changed", "kari", "enabled"),
    ]
    assert {e.actor for e in entries(engine)} == {ME}


def test_list_never_shows_a_hash_and_gives_oslo_time(
    sqlite_url: str, sqlite_engine: Engine, tmp_path: Path
) -> None:
    user(sqlite_url, tmp_path, "add", "kari", "--role", "manager", stdin=PASSWORD + "\n")
    signed_in = check_password(sqlite_engine, "kari", PASSWORD)
    assert signed_in is not None
    assert signed_in.last_sign_in_at is not None
    shown = {
        form: user(sqlite_url, tmp_path, "list", "--format", form).stdout
        for form in ("table", "csv", "json")
    }
    for form, text in shown.items():
        assert "argon2" not in text, form
        assert PASSWORD not in text, form
    rows = list(csv.DictReader(io.StringIO(shown["csv"])))
    assert rows[0]["username"] == "kari"
    assert rows[0]["password"] == "True"
    local = json.loads(shown["json"])[0]["last_sign_in"]
    assert local in shown["table"]
    oslo = signed_in.last_sign_in_at.astimezone(ZoneInfo("Europe/Oslo"))
    assert local == oslo.strftime("%Y-%m-%d %H:%M")


def test_an_empty_list_says_how_to_add_one(sqlite_url: str, tmp_path: Path) -> None:
    listed = user(sqlite_url, tmp_path, "list")
    assert listed.returncode == 0
    assert "switchboard user add" in listed.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--role", "department_lead", "--department", "brannvesen"),
            "no department 'brannvesen' in the municipality file; known: byggesak, barnehage_skule",
        ),
        (
            ("--role", "agent", "--agent", "sentralbord-9"),
            "no agent 'sentralbord-9' in the agent roster; known: sentralbord, sentralbord-1",
        ),
        (("--role", "department_lead"), "a department lead needs a department (--department)"),
        (("--role", "manager", "--department", "byggesak"), "only a department lead"),
        (("--role", "manager", "--agent", "sentralbord"), "only an agent"),
    ],
)
def test_add_refuses_what_does_not_fit_and_adds_nothing(
    sqlite_url: str, sqlite_engine: Engine, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    refused = user(sqlite_url, tmp_path, "add", "kari", *args, stdin=PASSWORD + "\n")
    assert refused.returncode == 1
    assert message in refused.stderr
    assert find_account(sqlite_engine, "kari") is None
    assert entries(sqlite_engine) == []


@pytest.mark.parametrize("password", ["", "too short", "x" * 300])
def test_add_refuses_a_password_out_of_bounds_without_repeating_it(
    sqlite_url: str, sqlite_engine: Engine, tmp_path: Path, password: str
) -> None:
    refused = user(sqlite_url, tmp_path, "add", "kari", "--role", "agent", stdin=password + "\n")
    assert refused.returncode == 1
    assert "password" in refused.stderr
    if password:
        assert password not in refused.stderr + refused.stdout
    assert find_account(sqlite_engine, "kari") is None


def test_a_second_account_with_the_same_name_is_refused(
    sqlite_url: str, sqlite_engine: Engine, tmp_path: Path
) -> None:
    assert user(sqlite_url, tmp_path, "add", "kari", "--role", "agent").returncode == 1
    first = user(sqlite_url, tmp_path, "add", "kari", "--role", "agent", stdin=PASSWORD + "\n")
    assert first.returncode == 0
    again = user(sqlite_url, tmp_path, "add", "kari", "--role", "manager", "--no-password")
    assert again.returncode == 1
    assert "already an account 'kari'" in again.stderr
    account = find_account(sqlite_engine, "kari")
    assert account is not None
    assert account.role == "agent"


@pytest.mark.parametrize(
    "args",
    [
        ("add", "kari"),  # no --role
        ("add", "kari", "--role", "admin"),
        ("list", "--format", "xml"),
        ("passwd",),
    ],
)
def test_usage_errors_exit_2(sqlite_url: str, tmp_path: Path, args: tuple[str, ...]) -> None:
    result = user(sqlite_url, tmp_path, *args)
    assert result.returncode == 2
    assert "usage: switchboard user" in result.stderr


def test_bad_user_names_and_unknown_accounts_are_refused(
    sqlite_url: str, sqlite_engine: Engine, tmp_path: Path
) -> None:
    bad = user(sqlite_url, tmp_path, "add", "Kari Nordmann", "--role", "agent", stdin=PASSWORD)
    assert bad.returncode == 1
    assert "is not a user name" in bad.stderr
    for action in ("passwd", "disable", "enable"):
        missing = user(sqlite_url, tmp_path, action, "ghost", stdin=PASSWORD + "\n")
        assert missing.returncode == 1, action
        assert "there is no account 'ghost'" in missing.stderr
    assert entries(sqlite_engine) == []


def test_passwd_refuses_a_short_password_and_keeps_the_old_one(
    sqlite_url: str, sqlite_engine: Engine, tmp_path: Path
) -> None:
    user(sqlite_url, tmp_path, "add", "kari", "--role", "agent", stdin=PASSWORD + "\n")
    refused = user(sqlite_url, tmp_path, "passwd", "kari", stdin="short\n")
    assert refused.returncode == 1
    assert "the password was not changed" in refused.stderr
    assert check_password(sqlite_engine, "kari", PASSWORD) is not None


def test_a_database_that_was_never_migrated_is_named(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    result = user(url, tmp_path, "list")
    assert result.returncode == 1
    assert "switchboard migrate" in result.stderr


@pytest.fixture
def umask_kept() -> Iterator[None]:
    """`main` sets the service's private umask; give the test process its own back."""
    kept = os.umask(0o022)
    os.umask(kept)
    yield
    os.umask(kept)


def test_user_add_logs_no_password_even_at_debug(
    sqlite_url: str,
    sqlite_engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    umask_kept: None,
) -> None:
    for name, value in _env(sqlite_url, tmp_path).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    caplog.set_level(logging.DEBUG)
    assert main(["user", "add", "kari", "--role", "agent"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["user", "passwd", "kari"]) == 1
    assert check_password(sqlite_engine, "kari", PASSWORD) is not None
    printed = capsys.readouterr()
    assert "added kari" in printed.out
    assert logging.getLogger().isEnabledFor(logging.DEBUG)  # the check below means something
    assert PASSWORD not in caplog.text
    assert PASSWORD not in printed.out + printed.err


# --- on a terminal: the hidden prompt -----------------------------------------------------------


def on_a_terminal(
    tmp_path: Path, env: dict[str, str], args: list[str], answers: list[tuple[str, str]]
) -> tuple[int, str]:
    """Run `switchboard` with a pseudo-terminal as its controlling terminal, type each answer
    once its prompt shows, and return the exit code and everything the terminal showed."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    clean.update(env)
    pid, fd = pty.fork()
    if pid == 0:  # the child: become the command
        os.chdir(tmp_path)
        os.execve(sys.executable, [sys.executable, "-m", "switchboard", *args], clean)  # noqa: S606 - no shell on purpose
    shown = b""
    try:
        for prompt, answer in answers:
            while prompt.encode() not in shown:
                shown += _read(fd)
            shown = shown.replace(prompt.encode(), b"[" + prompt.encode() + b"]", 1)
            os.write(fd, answer.encode() + b"\n")
        while chunk := _read(fd):
            shown += chunk
    finally:
        os.close(fd)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), shown.decode(errors="replace")


def _read(fd: int) -> bytes:
    ready, _, _ = select.select([fd], [], [], 60)
    assert ready, "the command stopped answering"
    try:
        return os.read(fd, 4096)
    except OSError:  # EIO: the command has exited and closed the terminal
        return b""


def test_a_terminal_is_asked_twice_without_echo(
    sqlite_url: str, sqlite_engine: Engine, tmp_path: Path
) -> None:
    prompts = [("Password: ", PASSWORD), ("The same password again: ", PASSWORD)]
    code, shown = on_a_terminal(
        tmp_path, _env(sqlite_url, tmp_path), ["user", "add", "kari", "--role", "agent"], prompts
    )
    assert code == 0, shown
    assert "added kari (agent) with a password" in shown
    assert PASSWORD not in shown  # not echoed
    assert check_password(sqlite_engine, "kari", PASSWORD) is not None


def test_two_different_passwords_on_a_terminal_change_nothing(
    sqlite_url: str, sqlite_engine: Engine, tmp_path: Path
) -> None:
    user(sqlite_url, tmp_path, "add", "kari", "--role", "agent", stdin=PASSWORD + "\n")
    prompts = [("Password: ", NEW_PASSWORD), ("The same password again: ", NEW_PASSWORD + "!")]
    code, shown = on_a_terminal(
        tmp_path, _env(sqlite_url, tmp_path), ["user", "passwd", "kari"], prompts
    )
    assert code == 1, shown
    assert "the two passwords differ; nothing was changed" in shown
    assert check_password(sqlite_engine, "kari", PASSWORD) is not None
