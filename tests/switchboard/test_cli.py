"""The `switchboard` command line, run as the operator runs it: a subprocess, exit codes, text."""

from __future__ import annotations

import argparse
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from ivr.config import parse_config
from switchboard.cli import build_parser
from switchboard.pins import pin_matches
from switchboard.settings import DEFAULT_CONFIG
from tests.fixtures.agents import roster_with_pins, with_agents
from tests.fixtures.cli import run_cli
from tests.fixtures.keys import PRODUCTION_NUMBER_KEYS

ALVER = DEFAULT_CONFIG.read_text(encoding="utf-8")
# Helse og omsorg (departments[2]) opens 08:00-15:30 on Mondays; turn that interval around.
BROKEN_HOURS = ALVER.replace('{mon: "08:00-15:30"', '{mon: "14:00-09:00"', 1)
HOURS_ERROR = "departments[2].hours.mon[0]: end 09:00 must be after start 14:00"
CALLER_ID_AGENTS = (
    "agents let in by caller ID alone, which anyone can forge: sentralbord-1, sentralbord-2, "
    "sentralbord-3"
)
# Settings production accepts, so that only the municipality file decides.
PRODUCTION = {
    "SWITCHBOARD_ENV": "production",
    "SWITCHBOARD_PUBLIC_URL": "https://ivr.example.no",
    "SWITCHBOARD_SECRET_KEY": "s" * 32,
    "SWITCHBOARD_CALLER_KEY": "c" * 32,
    "SWITCHBOARD_NUMBER_KEYS": PRODUCTION_NUMBER_KEYS,
    "SWITCHBOARD_TWILIO_AUTH_TOKEN": "t" * 32,
    "SWITCHBOARD_TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
}
# Asked for, never bound: the serve tests below stop before the app listens.
ALL_INTERFACES = "0.0.0.0"  # noqa: S104


def command_paths(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> list[str]:
    """Every subcommand, nested ones included ("config check"), as the user types them."""
    paths: list[str] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                path = (*prefix, name)
                paths.append(" ".join(path))
                paths.extend(command_paths(sub, path))
    return paths


def test_help_lists_the_subcommands(tmp_path: Path) -> None:
    result = run_cli("--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for name in ("serve", "worker", "ingest", "migrate", "config"):
        assert f"    {name} " in result.stdout, result.stdout


def test_no_subcommand_prints_usage_and_fails(tmp_path: Path) -> None:
    result = run_cli(cwd=tmp_path)
    assert result.returncode == 2
    assert "usage: switchboard" in result.stderr


@pytest.mark.parametrize("command", command_paths(build_parser()))
def test_every_subcommand_has_help(tmp_path: Path, command: str) -> None:
    result = run_cli(*command.split(), "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: switchboard {command}")


def test_config_check_accepts_the_shipped_alver_file(tmp_path: Path) -> None:
    result = run_cli("config", "check", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        f"OK: {DEFAULT_CONFIG}: Alver kommune, 6 departments, 3 reception desks\n"
        f"warning: {DEFAULT_CONFIG}: {CALLER_ID_AGENTS}. Development allows it; production "
        "refuses to start until each has a pin_hash (`switchboard agent pin-hash`) or is a "
        "Twilio Client identity.\n"
    )


def test_config_check_fails_in_production_on_agents_let_in_by_caller_id(tmp_path: Path) -> None:
    result = run_cli("config", "check", cwd=tmp_path, env={"SWITCHBOARD_ENV": "production"})
    assert result.returncode == 1
    assert result.stdout == ""
    assert "production refuses agents let in by caller ID alone" in result.stderr
    assert "sentralbord-1, sentralbord-2, sentralbord-3" in result.stderr


def test_config_check_is_quiet_when_every_phone_agent_has_a_pin(tmp_path: Path) -> None:
    pinned = tmp_path / "alver.yaml"
    pinned.write_text(with_agents(roster_with_pins()), encoding="utf-8")
    result = run_cli("config", "check", str(pinned), cwd=tmp_path, env=PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"OK: {pinned}: Alver kommune, 6 departments, 3 reception desks\n"


def test_agent_pin_hash_prints_an_argon2id_hash_of_the_pin_from_stdin(tmp_path: Path) -> None:
    result = run_cli("agent", "pin-hash", cwd=tmp_path, stdin="482916\n")
    assert result.returncode == 0, result.stderr
    pin_hash = result.stdout.strip()
    assert pin_hash.startswith("$argon2id$v=19$")
    assert "482916" not in result.stdout
    assert pin_matches(pin_hash, "482916")
    assert not pin_matches(pin_hash, "482917")
    # The municipality file takes it as it is.
    roster = [{"id": "kari", "name": "Kari", "number": "+4756375090", "pin_hash": pin_hash}]
    assert parse_config(with_agents(roster)).switchboard.agents.roster[0].pin_hash == pin_hash


@pytest.mark.parametrize("pin", ["", "123", "12a4", "1234567890123"])
def test_agent_pin_hash_refuses_what_a_phone_cannot_key_in(tmp_path: Path, pin: str) -> None:
    result = run_cli("agent", "pin-hash", cwd=tmp_path, stdin=pin + "\n")
    assert result.returncode == 1
    assert result.stdout == ""
    assert "a PIN is 4 to 12 digits" in result.stderr


def test_config_check_defaults_to_switchboard_config(tmp_path: Path) -> None:
    changed = tmp_path / "other.yaml"
    changed.write_text(ALVER.replace("name: Alver kommune", "name: Testkommune", 1))
    result = run_cli("config", "check", cwd=tmp_path, env={"SWITCHBOARD_CONFIG": str(changed)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"OK: {changed}: Testkommune, 6 departments")


def test_config_check_prints_the_located_error(tmp_path: Path) -> None:
    broken = tmp_path / "alver.yaml"
    broken.write_text(BROKEN_HOURS)
    result = run_cli("config", "check", str(broken), cwd=tmp_path)
    assert result.returncode == 1
    assert HOURS_ERROR in result.stderr.splitlines()
    assert "Traceback" not in result.stderr


def test_config_check_prints_each_error_on_its_own_line(tmp_path: Path) -> None:
    broken = tmp_path / "alver.yaml"
    broken.write_text(BROKEN_HOURS.replace('main_number: "+4756375000"', "main_number: 56375000"))
    result = run_cli("config", "check", str(broken), cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert HOURS_ERROR in lines
    assert any(line.startswith("municipality.main_number: ") for line in lines), lines


def test_config_check_reports_broken_yaml(tmp_path: Path) -> None:
    broken = tmp_path / "alver.yaml"
    broken.write_text("municipality: [unclosed\n")
    result = run_cli("config", "check", str(broken), cwd=tmp_path)
    assert result.returncode == 1
    assert "(yaml)" in result.stderr


def test_config_check_on_a_missing_file_exits_2(tmp_path: Path) -> None:
    result = run_cli("config", "check", str(tmp_path / "nope.yaml"), cwd=tmp_path)
    assert result.returncode == 2
    assert f"cannot read {tmp_path / 'nope.yaml'}" in result.stderr


def test_serve_refuses_an_invalid_config_before_starting_anything(tmp_path: Path) -> None:
    broken = tmp_path / "alver.yaml"
    broken.write_text(BROKEN_HOURS)
    var = tmp_path / "var"
    result = run_cli(
        "serve",
        cwd=tmp_path,
        env={"SWITCHBOARD_CONFIG": str(broken), "SWITCHBOARD_VAR_DIR": str(var)},
    )
    assert result.returncode == 1
    assert HOURS_ERROR in result.stderr.splitlines()
    assert "Traceback" not in result.stderr
    assert not var.exists(), "serve started (created var/) despite the invalid config"


def test_serve_refuses_production_with_agents_let_in_by_caller_id(tmp_path: Path) -> None:
    var = tmp_path / "var"
    result = run_cli("serve", cwd=tmp_path, env={**PRODUCTION, "SWITCHBOARD_VAR_DIR": str(var)})
    assert result.returncode == 1
    assert "production refuses agents let in by caller ID alone" in result.stderr
    assert "sentralbord-1, sentralbord-2, sentralbord-3" in result.stderr
    assert "Traceback" not in result.stderr
    assert not var.exists(), "serve started (created var/) with caller-ID-only agents"


def test_serve_refuses_production_with_default_secrets(tmp_path: Path) -> None:
    var = tmp_path / "var"
    result = run_cli(
        "serve",
        cwd=tmp_path,
        env={
            "SWITCHBOARD_ENV": "production",
            "SWITCHBOARD_PUBLIC_URL": "https://ivr.example.no",
            "SWITCHBOARD_VAR_DIR": str(var),
        },
    )
    assert result.returncode == 1
    assert "invalid settings" in result.stderr
    assert "SWITCHBOARD_SECRET_KEY" in result.stderr
    assert "Traceback" not in result.stderr
    assert not var.exists()


def test_serve_names_the_setting_that_does_not_parse(tmp_path: Path) -> None:
    result = run_cli(
        "serve",
        cwd=tmp_path,
        env={
            "SWITCHBOARD_PUBLIC_URL": "ivr.example.no",
            "SWITCHBOARD_VAR_DIR": str(tmp_path / "var"),
        },
    )
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert any(line.startswith("  SWITCHBOARD_PUBLIC_URL: ") for line in lines), lines


def test_serve_rejects_a_nonsense_port(tmp_path: Path) -> None:
    result = run_cli("serve", "--port", "70000", cwd=tmp_path)
    assert result.returncode == 2
    assert "70000 is not a TCP port" in result.stderr


@contextmanager
def taken_port() -> Iterator[int]:
    """A loopback port something else already listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def serve_stopped_at_a_taken_metrics_port(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> list[str]:
    """Run `serve` with its metrics port taken, so that it stops before starting anything;
    returns its stderr lines, the refusal last. Its agents have PINs, so that the agent line
    adds no warning of its own."""
    var = tmp_path / "var"
    pinned = tmp_path / "pinned.yaml"
    pinned.write_text(with_agents(roster_with_pins()), encoding="utf-8")
    with taken_port() as port:
        result = run_cli(
            "serve",
            *args,
            "--metrics-port",
            str(port),
            cwd=tmp_path,
            env={"SWITCHBOARD_VAR_DIR": str(var), "SWITCHBOARD_CONFIG": str(pinned), **(env or {})},
        )
    assert result.returncode == 1
    assert result.stderr.endswith(
        f"error: cannot serve the web metrics on 127.0.0.1:{port}: Address already in use; "
        "choose another --metrics-port (or SWITCHBOARD_METRICS_PORT; 0 turns it off)\n"
    ), result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == "", "no banner: nothing started"
    assert not (var / "switchboard.db").exists(), "no migrations ran"
    assert not (var / "redis.sock").exists(), "no Redis started"
    return result.stderr.splitlines()


def test_serve_refuses_a_taken_metrics_port_before_starting_anything(tmp_path: Path) -> None:
    lines = serve_stopped_at_a_taken_metrics_port(tmp_path)
    assert len(lines) == 1, "the refusal, and nothing else"


def test_serve_warns_when_development_listens_beyond_loopback(tmp_path: Path) -> None:
    lines = serve_stopped_at_a_taken_metrics_port(tmp_path, "--host", ALL_INTERFACES)
    warnings = [line for line in lines if line.startswith("warning: ")]
    assert len(warnings) == 1, lines
    (warning,) = warnings
    assert warning.startswith("warning: --host 0.0.0.0 makes this development setup "), warning
    assert "reachable from the network" in warning
    assert "anyone can sign webhooks with the development Twilio token" in warning
    assert "the public development API tokens open the API" in warning
    assert "Keep --host 127.0.0.1, or set SWITCHBOARD_ENV=production" in warning
    assert lines.index(warning) < len(lines) - 1, "warned before the refusal"


def test_serve_does_not_warn_in_production(tmp_path: Path) -> None:
    # (Nor on loopback: the refusal above is the only line there.)
    lines = serve_stopped_at_a_taken_metrics_port(
        tmp_path, "--host", ALL_INTERFACES, env=PRODUCTION
    )
    assert not any(line.startswith("warning:") for line in lines), lines
