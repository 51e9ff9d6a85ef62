"""What a fresh clone offers an operator: the Makefile, the compose stack and the Dockerfile."""

from __future__ import annotations

import fnmatch
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]

REQUIRED = {
    "SWITCHBOARD_PUBLIC_URL": "https://ivr.example.no",
    "SWITCHBOARD_SECRET_KEY": "secret-for-tests",
    "SWITCHBOARD_CALLER_KEY": "caller-key-for-tests",
    "SWITCHBOARD_NUMBER_KEYS": "test:a2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2s",
    "SWITCHBOARD_TWILIO_AUTH_TOKEN": "token-for-tests",
    "SWITCHBOARD_TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
    "POSTGRES_PASSWORD": "postgres4tests",
    "GRAFANA_ADMIN_PASSWORD": "grafana-for-tests",
    "SWITCHBOARD_CONFIG_FILE": "./municipality.yaml",
    "ALERTMANAGER_SMTP_SMARTHOST": "smtp.alver.kommune.no:587",
    "ALERTMANAGER_SMTP_FROM": "sentralbord-varsel@alver.kommune.no",
    "ALERTMANAGER_SMTP_USERNAME": "sentralbord-varsel",
    "ALERTMANAGER_SMTP_PASSWORD_FILE": "./secrets/smtp-password",
    "ALERTMANAGER_LEAD_TO": "sentralbordleiar@alver.kommune.no",
    "ALERTMANAGER_OPERATORS_TO": "drift@alver.kommune.no",
    "ALERTMANAGER_ONCALL_TO": "vakt@alver.kommune.no",
}
# The services that run the switchboard image, each of which needs the municipality file.
SWITCHBOARD_SERVICES = ("app", "worker", "ingest", "exporter")


def compose_command() -> list[str]:
    # Debian's docker-compose v1 reads the file offline; .ci/run installs it, so its absence
    # is a broken environment, not a reason to skip.
    found = shutil.which("docker-compose")
    assert found, "docker-compose is not installed: apt-get install docker-compose (.ci/run does)"
    return [found, "--project-directory", str(ROOT), "-f", str(ROOT / "docker-compose.yml")]


def compose_config(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    # Only PATH and the variables under test: the developer's own environment and any .env
    # file must not decide the outcome.
    return subprocess.run(
        [*compose_command(), "config", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/"), **env},
        timeout=60,
        check=False,
    )


def test_compose_file_is_valid_with_the_required_variables() -> None:
    result = compose_config(REQUIRED, "-q")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("missing", sorted(REQUIRED))
def test_compose_refuses_to_start_without_a_required_variable(missing: str) -> None:
    env = {k: v for k, v in REQUIRED.items() if k != missing}
    result = compose_config(env, "-q")
    assert result.returncode != 0
    # v1 dumps the whole environment block before its message; the message comes last.
    message = result.stderr.strip().splitlines()[-1].rsplit("'", 1)[-1]
    assert f"set {missing}" in message, result.stderr


def test_compose_runs_the_stack_from_one_image_in_production() -> None:
    result = compose_config(REQUIRED)
    assert result.returncode == 0, result.stderr
    stack: dict[str, Any] = yaml.safe_load(result.stdout)
    services = stack["services"]
    assert set(services) >= {"app", "worker", "ingest", "redis", "postgres"}
    app, worker, ingest = services["app"], services["worker"], services["ingest"]
    assert app["image"] == worker["image"] == ingest["image"]
    assert ingest["command"][0] == "ingest"
    assert "--metrics-port" in ingest["command"]
    assert worker["command"][0] == "worker"
    assert "--metrics-port" in worker["command"]
    for service in (app, worker, ingest):
        env = service["environment"]
        assert env["SWITCHBOARD_ENV"] == "production"
        assert env["SWITCHBOARD_SECRET_KEY"] == REQUIRED["SWITCHBOARD_SECRET_KEY"]
        assert env["SWITCHBOARD_REDIS_URL"].startswith("redis://redis:")
        assert REQUIRED["POSTGRES_PASSWORD"] in env["SWITCHBOARD_DATABASE_URL"]
        assert "@postgres:" in env["SWITCHBOARD_DATABASE_URL"]
    # Nothing starts against a database or Redis that is not yet answering.
    assert app["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert app["depends_on"]["redis"]["condition"] == "service_healthy"
    for service in (worker, ingest):
        assert service["depends_on"]["app"]["condition"] == "service_healthy"
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])


def container_ports(service: dict[str, Any]) -> list[int]:
    """The container ports a service publishes on the host."""
    return [
        int(port["target"] if isinstance(port, dict) else str(port).split(":")[-1].split("/")[0])
        for port in service.get("ports", [])
    ]


def test_compose_serves_the_web_metrics_to_prometheus_only() -> None:
    result = compose_config(REQUIRED)
    assert result.returncode == 0, result.stderr
    services: dict[str, Any] = yaml.safe_load(result.stdout)["services"]
    app = services["app"]
    command = app["command"]
    every_interface = "0.0.0.0"  # noqa: S104 - of the container, inside the compose network
    assert command[:4] == ["serve", "--host", every_interface, "--no-embedded-workers"]
    assert command[command.index("--metrics-port") + 1] == "9107"
    assert command[command.index("--metrics-host") + 1] == every_interface
    assert [str(port) for port in app["expose"]] == ["9107"]
    # The host sees the public port only; no service publishes the metrics.
    assert container_ports(app) == [8000]
    assert all(9107 not in container_ports(service) for service in services.values())
    prometheus = yaml.safe_load((ROOT / "dashboards" / "prometheus" / "prometheus.yml").read_text())
    (job,) = [job for job in prometheus["scrape_configs"] if job["job_name"] == "switchboard"]
    assert job["static_configs"] == [{"targets": ["app:9107"]}]


def compose_services(env: dict[str, str]) -> dict[str, Any]:
    result = compose_config(env)
    assert result.returncode == 0, result.stderr
    services: dict[str, Any] = yaml.safe_load(result.stdout)["services"]
    return services


def test_every_switchboard_service_reads_the_operators_municipality_file_read_only() -> None:
    services = compose_services(REQUIRED)
    host_file = str(ROOT / "municipality.yaml")
    for name in SWITCHBOARD_SERVICES:
        service = services[name]
        assert service["image"] == services["app"]["image"], name
        assert service["environment"]["SWITCHBOARD_CONFIG"] == (
            "/etc/switchboard/municipality.yaml"
        ), name
        assert f"{host_file}:/etc/switchboard/municipality.yaml:ro" in service["volumes"], name
    # Every service that runs the image is in the list above.
    image = services["app"]["image"]
    assert {n for n, s in services.items() if s.get("image") == image} == set(SWITCHBOARD_SERVICES)


def host_bindings(services: dict[str, Any]) -> dict[str, list[str]]:
    """The host address of every published port, by service."""
    everywhere = "0.0.0.0"  # noqa: S104 - what Docker binds a port without an address to
    bindings: dict[str, list[str]] = {}
    for name, service in services.items():
        for port in service.get("ports", []):
            # v1 prints "127.0.0.1:8000:8000/tcp"; an unbound port is "8000:8000/tcp".
            parts = str(port).split(":")
            bindings.setdefault(name, []).append(parts[0] if len(parts) == 3 else everywhere)
    return bindings


def test_every_published_port_binds_to_loopback_by_default() -> None:
    bindings = host_bindings(compose_services(REQUIRED))
    assert set(bindings) == {"app", "grafana", "prometheus", "alertmanager"}
    assert all(hosts == ["127.0.0.1"] for hosts in bindings.values()), bindings


def test_bind_address_moves_only_the_ports_with_a_login() -> None:
    everywhere = "0.0.0.0"  # noqa: S104 - what an operator without a proxy on the host would set
    bindings = host_bindings(compose_services({**REQUIRED, "BIND_ADDRESS": everywhere}))
    assert bindings["app"] == bindings["grafana"] == [everywhere]
    # No login on these two: they stay on the host whatever BIND_ADDRESS says.
    assert bindings["prometheus"] == bindings["alertmanager"] == ["127.0.0.1"]


def test_alertmanager_takes_its_smtp_settings_from_the_environment_and_a_secret() -> None:
    result = compose_config(REQUIRED)
    assert result.returncode == 0, result.stderr
    stack: dict[str, Any] = yaml.safe_load(result.stdout)
    alertmanager = stack["services"]["alertmanager"]
    assert alertmanager["entrypoint"] == ["/bin/sh", "/etc/alertmanager/render.sh"]
    assert alertmanager["command"][0] == "/bin/alertmanager"
    env = alertmanager["environment"]
    for name, value in REQUIRED.items():
        if name.startswith("ALERTMANAGER_") and name != "ALERTMANAGER_SMTP_PASSWORD_FILE":
            assert env[name] == value, name
    # The password is a compose secret (a file), never a variable in the container.
    assert not any("PASSWORD" in name for name in env)
    assert [secret["source"] for secret in alertmanager["secrets"]] == [
        "alertmanager_smtp_password"
    ]
    assert stack["secrets"]["alertmanager_smtp_password"]["file"] == str(
        ROOT / "secrets" / "smtp-password"
    )
    volumes = alertmanager["volumes"]
    assert f"{ROOT}/dashboards/alertmanager/render.sh:/etc/alertmanager/render.sh:ro" in volumes


def dockerfile_instructions() -> list[list[str]]:
    """[instruction, arguments] pairs, continuation lines joined and comments dropped."""
    text = (ROOT / "Dockerfile").read_text()
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = "\n".join(lines).replace("\\\n", " ")
    return [line.split(maxsplit=1) for line in joined.splitlines() if line.strip()]


def test_dockerfile_runs_as_a_non_root_user_with_the_switchboard_entrypoint() -> None:
    instructions = dockerfile_instructions()
    assert instructions[0] == ["FROM", "python:3.11-slim"]
    users = [arg for op, arg in instructions if op == "USER"]
    assert users, "the image must switch to a service user"
    assert users[-1] not in {"root", "0"}
    assert ["ENTRYPOINT", '["switchboard"]'] in instructions
    assert ["CMD", '["serve", "--host", "0.0.0.0", "--no-embedded-workers"]'] in instructions
    assert any(op == "HEALTHCHECK" and "/healthz" in arg for op, arg in instructions)


def dockerignored(path: str) -> bool:
    """Whether .dockerignore keeps `path` out of the build context (the last matching rule
    wins; `!` re-includes; a rule matches the path or a folder above it)."""
    excluded = False
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        rule = line.strip()
        if not rule or rule.startswith("#"):
            continue
        negated = rule.startswith("!")
        pattern = rule.removeprefix("!")
        parts = Path(path).parts
        if any(fnmatch.fnmatch("/".join(parts[:n]), pattern) for n in range(1, len(parts) + 1)):
            excluded = not negated
    return excluded


def copied_sources() -> list[str]:
    """Every path the Dockerfile COPYs from the build context."""
    return [
        source
        for op, arg in dockerfile_instructions()
        if op == "COPY"
        for source in arg.split()[:-1]
        if not source.startswith("--")
    ]


def test_everything_the_image_copies_is_in_the_build_context() -> None:
    sources = copied_sources()
    assert {"pyproject.toml", "requirements.lock", "deploy/lockfile.py", "switchboard"} <= set(
        sources
    )
    for source in sources:
        assert (ROOT / source).exists(), source
        assert not dockerignored(source), source
    # The rule is read as Docker reads it: the rest of deploy/ stays out.
    assert dockerignored("deploy/fallback.xml")


def test_the_image_installs_exactly_the_locked_dependencies() -> None:
    runs = [arg for op, arg in dockerfile_instructions() if op == "RUN"]
    installs = [run for run in runs if "pip install" in run]
    locked, package = installs
    # A stale lock file stops the build before anything is installed.
    assert locked.index("python deploy/lockfile.py check") < locked.index("pip install")
    assert "pip install --require-hashes -r requirements.lock" in locked
    # Then the service itself, resolving nothing more.
    assert "pip install --no-deps ." in package
    instructions = dockerfile_instructions()
    lock_copied = instructions.index(["COPY", "pyproject.toml requirements.lock ./"])
    code_copied = instructions.index(["COPY", "switchboard ./switchboard"])
    # Dependencies before the code, so a code change reuses the dependency layer.
    assert lock_copied < code_copied


def lockfile_module() -> Any:
    spec = importlib.util.spec_from_file_location("lockfile", ROOT / "deploy" / "lockfile.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_lock_file_matches_pyproject_without_asking_a_registry() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "deploy" / "lockfile.py"), "check"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "requirements.lock matches pyproject.toml\n"
    # Every direct dependency is pinned, and every pin carries hashes.
    lock = (ROOT / "requirements.lock").read_text()
    blocks = [block for block in lock.split("\n") if block and not block[0].isspace()]
    pins = {line.split("==")[0].lower(): line for line in blocks if not line.startswith("#")}
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    for requirement in declared:
        name = re.split(r"[\[<>=!~ ;]", requirement, maxsplit=1)[0].lower()
        assert name in pins, name
    assert all("==" in line and line.endswith("\\") for line in pins.values())


def test_a_dependency_changed_without_make_lock_is_caught(tmp_path: Path) -> None:
    lockfile = lockfile_module()
    pyproject = tmp_path / "pyproject.toml"
    lock = tmp_path / "requirements.lock"
    original = (ROOT / "pyproject.toml").read_text()
    pyproject.write_text(original)
    lock.write_text((ROOT / "requirements.lock").read_text())
    assert lockfile.mismatch(lock, pyproject) is None
    # Reordered, or with another comment, the dependencies are the same.
    reordered = original.replace('  "uvicorn>=0.30",\n', "").replace(
        '  "pyyaml>=6.0",\n', '  "pyyaml>=6.0", # YAML\n  "uvicorn>=0.30",\n'
    )
    assert reordered != original
    pyproject.write_text(reordered)
    assert lockfile.mismatch(lock, pyproject) is None
    pyproject.write_text(original.replace('  "uvicorn>=0.30",\n', ""))  # one dropped
    assert lockfile.mismatch(lock, pyproject) is not None
    pyproject.write_text(original.replace('"uvicorn>=0.30",', '"uvicorn>=0.31",'))
    assert lockfile.mismatch(lock, pyproject) == (
        "requirements.lock was made from other dependencies than pyproject.toml's: run `make lock`"
    )
    lock.write_text("fastapi==0.115.0\n")
    assert lockfile.mismatch(lock, pyproject) == (
        "requirements.lock records no dependencies hash: run `make lock`"
    )


def test_make_without_a_target_prints_help() -> None:
    make = shutil.which("make")
    assert make, "GNU make is not installed"
    result = subprocess.run(
        [make, "--no-print-directory", "-C", str(ROOT)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    targets = {
        line.split()[1] for line in result.stdout.splitlines() if line.strip().startswith("make ")
    }
    assert {"run", "test", "check", "bench", "lock", "clean"} <= targets, result.stdout


@pytest.mark.parametrize(("args", "serve"), [((), "serve"), (("PORT=8010",), "serve --port 8010")])
def test_make_run_passes_port_on_to_serve(args: tuple[str, ...], serve: str) -> None:
    make = shutil.which("make")
    assert make, "GNU make is not installed"
    # -n prints the commands without running them.
    result = subprocess.run(
        [make, "--no-print-directory", "-n", "-C", str(ROOT), "run", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == f".venv/bin/switchboard {serve}"
