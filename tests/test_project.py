"""What a fresh clone offers an operator: the Makefile, the compose stack and the Dockerfile."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]

REQUIRED = {
    "SWITCHBOARD_PUBLIC_URL": "https://ivr.example.no",
    "SWITCHBOARD_SECRET_KEY": "secret-for-tests",
    "SWITCHBOARD_CALLER_KEY": "caller-key-for-tests",
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


def test_every_package_the_image_copies_is_not_excluded_by_dockerignore() -> None:
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    for package in ("switchboard", "ivr", "workers", "pyproject.toml", "README.md"):
        assert (ROOT / package).exists()
        assert package not in ignored


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
    assert {"run", "test", "check", "bench", "clean"} <= targets, result.stdout


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
