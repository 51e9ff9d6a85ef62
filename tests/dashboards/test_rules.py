"""Prometheus rules and Alertmanager routing, checked with the real tools: promtool and amtool
(Debian's prometheus and prometheus-alertmanager)."""

from __future__ import annotations

import pytest
import yaml
from boards import ALERTMANAGER, PROMETHEUS, ROOT, RULE_FILES, RULE_TESTS, alert_rules

from tests.fixtures.prometheus import amtool, promtool

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


def test_alertmanager_config_passes_amtool():
    code, output = amtool("check-config", str(ALERTMANAGER))
    assert code == 0, output
    assert "SUCCESS" in output


@pytest.mark.parametrize(("team", "severity"), sorted(RECEIVERS))
def test_alerts_are_routed_by_team_and_severity(team, severity):
    expected = RECEIVERS[(team, severity)]
    code, output = amtool(
        "config",
        "routes",
        "test",
        f"--config.file={ALERTMANAGER}",
        f"--verify.receivers={expected}",
        f"team={team}",
        f"severity={severity}",
    )
    assert code == 0, output
    assert output.splitlines()[0] == expected


def test_every_alert_rule_reaches_its_team():
    for rule in alert_rules():
        labels = rule["labels"]
        expected = RECEIVERS[(labels["team"], labels["severity"])]
        code, output = amtool(
            "config",
            "routes",
            "test",
            f"--config.file={ALERTMANAGER}",
            f"--verify.receivers={expected}",
            f"alertname={rule['alert']}",
            *(f"{key}={value}" for key, value in labels.items()),
        )
        assert code == 0, (rule["alert"], output)


def test_an_alert_without_a_team_goes_to_the_operators():
    code, output = amtool(
        "config", "routes", "test", f"--config.file={ALERTMANAGER}", "alertname=Other"
    )
    assert code == 0, output
    assert output.splitlines()[0] == "operators"
