"""Prometheus rules and Alertmanager routing, checked with the real tools: promtool and amtool
(Debian's prometheus and prometheus-alertmanager)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.dashboards.boards import (
    ALERTMANAGER,
    PROMETHEUS,
    ROOT,
    RULE_FILES,
    RULE_TESTS,
    alert_rules,
)
from tests.fixtures.prometheus import amtool, promtool, tool

RENDER = ALERTMANAGER.parent / "render.sh"
# What an operator puts in .env for compose (docker-compose.yml passes these on).
SMTP = {
    "ALERTMANAGER_SMTP_SMARTHOST": "smtp.alver.kommune.no:587",
    "ALERTMANAGER_SMTP_FROM": "sentralbord-varsel@alver.kommune.no",
    "ALERTMANAGER_SMTP_USERNAME": "sentralbord-varsel",
    "ALERTMANAGER_LEAD_TO": "sentralbordleiar@alver.kommune.no",
    "ALERTMANAGER_OPERATORS_TO": "drift@alver.kommune.no",
    "ALERTMANAGER_ONCALL_TO": "vakt@alver.kommune.no",
}

RECEIVERS = {
    # (team, severity) -> receiver
    ("lead", "warning"): "switchboard-lead",
    ("lead", "info"): "switchboard-lead",
    ("operators", "critical"): "operators-urgent",
    ("operators", "warning"): "operators",
}


def test_there_are_rule_files_and_rule_tests():
    assert [path.name for path in RULE_FILES] == ["callers.yml", "service.yml"]
    assert RULE_TESTS


@pytest.mark.parametrize("path", RULE_FILES, ids=lambda p: p.name)
def test_rule_file_passes_promtool_check_rules(path):
    code, output = promtool("check", "rules", str(path))
    assert code == 0, output
    assert "SUCCESS" in output


@pytest.mark.parametrize("path", RULE_TESTS, ids=lambda p: p.name)
def test_rule_unit_tests_pass(path):
    code, output = promtool("test", "rules", path.name, cwd=path.parent)
    assert code == 0, output
    assert "SUCCESS" in output


def test_every_alert_has_a_unit_test_in_which_it_fires():
    fired: set[str] = set()
    for path in RULE_TESTS:
        for case in yaml.safe_load(path.read_text(encoding="utf-8"))["tests"]:
            for check in case.get("alert_rule_test", []):
                if check.get("exp_alerts"):
                    fired.add(check["alertname"])
    assert {rule["alert"] for rule in alert_rules()} <= fired


def test_every_alert_says_who_gets_it_and_what_it_means():
    for rule in alert_rules():
        assert rule["labels"]["team"] in {"lead", "operators"}, rule["alert"]
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}, rule["alert"]
        assert rule["annotations"]["summary"], rule["alert"]
        assert rule["annotations"]["description"], rule["alert"]


def test_the_issue_asks_for_these_alerts():
    assert {rule["alert"] for rule in alert_rules()} >= {
        "SwitchboardServiceLevelLow",
        "SwitchboardAbandonmentHigh",
        "SwitchboardReturnRateHigh",
        "SwitchboardWebhookSlow",
        "SwitchboardSignatureFailures",
        "SwitchboardEventsSpooled",
        "SwitchboardStreamLagGrowing",
        "SwitchboardExporterDown",
        "NoAgentReady",
    }


def test_prometheus_config_is_valid_and_scrapes_the_app_and_the_exporter():
    path = PROMETHEUS / "prometheus.yml"
    code, output = promtool("check", "config", str(path))
    assert code == 0, output
    config = yaml.safe_load(path.read_text())
    jobs = {job["job_name"] for job in config["scrape_configs"]}
    assert {"switchboard", "switchboard-exporter"} <= jobs
    # The alerts select these job names.
    text = " ".join(rule["expr"] for rule in alert_rules())
    assert 'job="switchboard"' in text
    assert 'job="switchboard-exporter"' in text


def test_compose_runs_prometheus_with_an_explicit_retention():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    command = " ".join(compose["services"]["prometheus"]["command"])
    assert "--storage.tsdb.retention.time=" in command
    assert "--storage.tsdb.retention.size=" in command


def render(rendered: Path, env: dict[str, str], *command: str) -> subprocess.CompletedProcess[str]:
    """The container's entrypoint, as compose runs it, with `command` in Alertmanager's place."""
    sh = shutil.which("sh")
    assert sh, "no POSIX shell"
    return subprocess.run(
        [sh, str(RENDER), *command],
        capture_output=True,
        text=True,
        env={
            "PATH": os.environ["PATH"],
            "ALERTMANAGER_TEMPLATE": str(ALERTMANAGER),
            "ALERTMANAGER_RENDERED": str(rendered),
            **env,
        },
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """alertmanager.yml as the container renders it from the operator's settings."""
    path = tmp_path_factory.mktemp("alertmanager") / "alertmanager.yml"
    result = render(path, SMTP, "true")
    assert result.returncode == 0, result.stderr
    return path


def test_the_rendered_alertmanager_config_passes_amtool(tmp_path):
    # Through render.sh, which then runs amtool on its own output, as it runs Alertmanager.
    path = tmp_path / "alertmanager.yml"
    amtool_binary = tool("amtool", "prometheus-alertmanager")
    result = render(path, SMTP, amtool_binary, "check-config", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_the_smtp_settings_come_from_the_operator_and_the_password_from_a_file(rendered):
    template = ALERTMANAGER.read_text()
    assert "example.org" not in template
    assert "example.org" not in rendered.read_text()
    settings = yaml.safe_load(rendered.read_text())
    smtp = settings["global"]
    assert smtp["smtp_smarthost"] == SMTP["ALERTMANAGER_SMTP_SMARTHOST"]
    assert smtp["smtp_from"] == SMTP["ALERTMANAGER_SMTP_FROM"]
    assert smtp["smtp_auth_username"] == SMTP["ALERTMANAGER_SMTP_USERNAME"]
    # The compose secret's path; no password in the file itself.
    assert smtp["smtp_auth_password_file"] == "/run/secrets/alertmanager_smtp_password"
    assert "smtp_auth_password" not in smtp
    recipients = {
        receiver["name"]: receiver["email_configs"][0]["to"] for receiver in settings["receivers"]
    }
    assert recipients == {
        "switchboard-lead": SMTP["ALERTMANAGER_LEAD_TO"],
        "operators": SMTP["ALERTMANAGER_OPERATORS_TO"],
        "operators-urgent": ", ".join(
            (SMTP["ALERTMANAGER_OPERATORS_TO"], SMTP["ALERTMANAGER_ONCALL_TO"])
        ),
    }


@pytest.mark.parametrize("missing", sorted(SMTP))
def test_alertmanager_does_not_start_without_a_setting(tmp_path, missing):
    env = {name: value for name, value in SMTP.items() if name != missing}
    result = render(tmp_path / "alertmanager.yml", env, "echo", "started")
    assert result.returncode == 1
    assert result.stderr.strip() == f"render.sh: set {missing}"
    assert "started" not in result.stdout


def test_alertmanager_refuses_a_setting_sed_would_misread(tmp_path):
    env = {**SMTP, "ALERTMANAGER_LEAD_TO": "lead@alver.kommune.no|x"}
    result = render(tmp_path / "alertmanager.yml", env, "echo", "started")
    assert result.returncode == 1
    assert "ALERTMANAGER_LEAD_TO must not contain" in result.stderr


@pytest.mark.parametrize(("team", "severity"), sorted(RECEIVERS))
def test_alerts_are_routed_by_team_and_severity(rendered, team, severity):
    expected = RECEIVERS[(team, severity)]
    code, output = amtool(
        "config",
        "routes",
        "test",
        f"--config.file={rendered}",
        f"--verify.receivers={expected}",
        f"team={team}",
        f"severity={severity}",
    )
    assert code == 0, output
    assert output.splitlines()[0] == expected


def test_every_alert_rule_reaches_its_team(rendered):
    for rule in alert_rules():
        labels = rule["labels"]
        expected = RECEIVERS[(labels["team"], labels["severity"])]
        code, output = amtool(
            "config",
            "routes",
            "test",
            f"--config.file={rendered}",
            f"--verify.receivers={expected}",
            f"alertname={rule['alert']}",
            *(f"{key}={value}" for key, value in labels.items()),
        )
        assert code == 0, (rule["alert"], output)


def test_an_alert_without_a_team_goes_to_the_operators(rendered):
    code, output = amtool(
        "config", "routes", "test", f"--config.file={rendered}", "alertname=Other"
    )
    assert code == 0, output
    assert output.splitlines()[0] == "operators"
