"""The monitoring files under dashboards/, read the way Grafana and Prometheus read them."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS = ROOT / "dashboards"
GRAFANA = DASHBOARDS / "grafana"
PROMETHEUS = DASHBOARDS / "prometheus"
RULE_FILES = sorted((PROMETHEUS / "rules").glob("*.yml"))
RULE_TESTS = sorted((PROMETHEUS / "tests").glob("*.yml"))
ALERTMANAGER = DASHBOARDS / "alertmanager" / "alertmanager.yml"


def datasource_uid() -> str:
    provisioning = yaml.safe_load(
        (GRAFANA / "provisioning" / "datasources" / "prometheus.yml").read_text()
    )
    (source,) = provisioning["datasources"]
    uid: str = source["uid"]
    return uid


def dashboards() -> dict[str, dict[str, Any]]:
    """File name -> dashboard JSON."""
    return {
        path.name: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted((GRAFANA / "dashboards").glob("*.json"))
    }


@dataclass(frozen=True)
class Query:
    board: str
    panel: str
    expr: str
    instant: bool


def queries() -> Iterator[Query]:
    for board in dashboards().values():
        for panel in board["panels"]:
            for target in panel.get("targets", []):
                yield Query(
                    board=board["title"],
                    panel=panel["title"],
                    expr=target["expr"],
                    instant=bool(target.get("instant")),
                )


def substitute(expr: str, *, rate_interval: str, range_: str, variables: str = ".*") -> str:
    """What Grafana sends: its interval macros and every template variable replaced."""
    expr = expr.replace("$__rate_interval", rate_interval).replace("$__range", range_)
    return re.sub(r"\$\{?\w+\}?", variables, expr)


def rules() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for path in RULE_FILES:
        for group in yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]:
            found.extend(group["rules"])
    return found


def alert_rules() -> list[dict[str, Any]]:
    return [rule for rule in rules() if "alert" in rule]


def recorded_names() -> set[str]:
    return {rule["record"] for rule in rules() if "record" in rule}
