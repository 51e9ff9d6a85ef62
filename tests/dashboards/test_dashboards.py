"""The Grafana dashboards, checked without Grafana (none is packaged here): the JSON model, the
rules of grafana/dashboard-linter that matter, and every query is valid PromQL over metrics the
service really exports."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from prometheus_client import CollectorRegistry

from ivr.vocabulary import RETURN_REASONS, UNTAGGED
from switchboard.observability.business_metrics import BUSINESS
from switchboard.observability.web_metrics import WebMetrics
from switchboard.stats.glossary import REASON_LABELS
from tests.dashboards.boards import (
    GRAFANA,
    ROOT,
    dashboards,
    datasource_uid,
    queries,
    recorded_names,
    substitute,
)
from tests.fixtures.prometheus import promtool

AUDIENCES = {"Sentralbord – oversikt", "Retur frå avdelingar", "Sanntid", "Drift"}
# Grafana 11.6 writes schemaVersion 41; docker-compose.yml pins that Grafana.
SCHEMA_VERSION = 41
GRAFANA_IMAGE = "grafana/grafana-oss:11.6.0"
RATE = re.compile(r"\b(?:rate|irate)\(\s*[^()\[]*\[([^\]]+)\]")
METRIC = re.compile(r"\b(?:switchboard_\w+|\w+:switchboard_\w+:\w+)\b")


def exported_series() -> set[str]:
    """Every series name the web app and the exporter can expose."""
    registry = CollectorRegistry()
    WebMetrics(registry, routes=["/twilio/voice"])
    names = {sample.name for family in registry.collect() for sample in family.samples}
    suffixes = {"counter": ("_total",), "gauge": ("",), "histogram": ("_bucket", "_count", "_sum")}
    for spec in BUSINESS.values():
        names.update(spec.name + suffix for suffix in suffixes[spec.kind])
    return names


def panels():
    for name, board in dashboards().items():
        for panel in board["panels"]:
            yield name, panel


def test_there_is_one_dashboard_per_audience_in_oslo_time():
    boards = dashboards()
    assert {board["title"] for board in boards.values()} == AUDIENCES
    for board in boards.values():
        assert board["timezone"] == "Europe/Oslo"
        assert board["schemaVersion"] == SCHEMA_VERSION
        assert board["description"]
        assert board["editable"] is False, "provisioned: edit the JSON, not the UI"


def test_uids_are_unique_and_valid():
    uids = [board["uid"] for board in dashboards().values()]
    assert len(set(uids)) == len(uids)
    for uid in uids:
        assert re.fullmatch(r"[a-z0-9-]{1,40}", uid), uid


def test_panel_ids_are_unique_and_panels_do_not_overlap():
    for name, board in dashboards().items():
        ids = [panel["id"] for panel in board["panels"]]
        assert len(set(ids)) == len(ids), name
        cells: set[tuple[int, int]] = set()
        for panel in board["panels"]:
            grid = panel["gridPos"]
            assert grid["x"] + grid["w"] <= 24, (name, panel["title"])
            mine = {
                (grid["x"] + dx, grid["y"] + dy)
                for dx in range(grid["w"])
                for dy in range(grid["h"])
            }
            assert not cells & mine, (name, panel["title"])
            cells |= mine


def test_every_panel_and_query_uses_the_provisioned_datasource_by_uid():
    uid = datasource_uid()
    for name, panel in panels():
        assert panel["datasource"] == {"type": "prometheus", "uid": uid}, (name, panel["title"])
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == uid, (name, panel["title"])
    for board in dashboards().values():
        for variable in board["templating"]["list"]:
            assert variable["datasource"]["uid"] == uid


def test_every_panel_has_a_title_a_description_and_a_unit():
    for name, panel in panels():
        where = (name, panel.get("title"))
        assert panel.get("title", "").strip(), where
        assert len(panel.get("description", "")) >= 40, where  # a definition, not a label
        assert panel["fieldConfig"]["defaults"].get("unit"), where
        assert panel["targets"], where


def test_total_series_appear_only_inside_rate_or_increase():
    for query in queries():
        for match in re.finditer(r"\b\w+_total\b", query.expr):
            before = query.expr[: match.start()]
            assert re.search(r"\b(?:rate|irate|increase)\(\s*$", before), (query.panel, query.expr)


def test_rates_use_rate_interval_and_increases_a_grafana_range_or_a_fixed_window():
    used = False
    for query in queries():
        for window in RATE.findall(query.expr):
            assert window == "$__rate_interval", (query.panel, query.expr)
            used = True
        for window in re.findall(r"\bincrease\([^\[]*\[([^\]]+)\]", query.expr):
            assert window in {"$__range", "$__rate_interval", "7d"}, (query.panel, query.expr)
    assert used, "no panel uses $__rate_interval"


def test_every_query_reads_metrics_that_exist():
    known = exported_series() | recorded_names()
    for query in queries():
        for name in METRIC.findall(query.expr):
            assert name in known, (query.panel, name)


def test_every_query_is_valid_promql(tmp_path: Path):
    # promtool parses expressions in rule files; one throwaway recording rule per query.
    rules = [
        {
            "record": f"dashboard_query_{index}",
            "expr": substitute(query.expr, rate_interval="1m", range_="1h"),
        }
        for index, query in enumerate(queries())
    ]
    path = tmp_path / "queries.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    code, output = promtool("check", "rules", str(path))
    assert code == 0, output
    assert f"SUCCESS: {len(rules)} rules found" in output


def test_provisioning_points_grafana_at_the_dashboards_compose_mounts():
    provider = yaml.safe_load(
        (GRAFANA / "provisioning" / "dashboards" / "switchboard.yml").read_text()
    )
    (entry,) = provider["providers"]
    assert entry["type"] == "file"
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    grafana = compose["services"]["grafana"]
    assert grafana["image"] == GRAFANA_IMAGE
    mounts = {volume.split(":")[1]: volume for volume in grafana["volumes"]}
    assert entry["options"]["path"] in mounts
    for volume in grafana["volumes"]:
        if volume.startswith("./"):
            assert volume.endswith(":ro"), volume


@pytest.mark.parametrize("name", sorted(dashboards()))
def test_template_variables_offer_all_as_a_regex(name):
    for variable in dashboards()[name]["templating"]["list"]:
        assert variable["includeAll"] is True
        assert variable["allValue"] == ".*"
        assert variable["query"]["query"].startswith("label_values(")


def test_the_reason_panel_names_every_reason_as_the_statistics_do():
    (panel,) = [
        panel
        for board in dashboards().values()
        if board["title"] == "Retur frå avdelingar"
        for panel in board["panels"]
        if panel["title"] == "Kvifor innringarane kom attende"
    ]
    names = {
        override["matcher"]["options"]: prop["value"]
        for override in panel["fieldConfig"]["overrides"]
        for prop in override["properties"]
        if prop["id"] == "displayName"
    }
    assert set(names) == {*RETURN_REASONS, UNTAGGED}
    for reason in RETURN_REASONS:
        assert names[reason] == REASON_LABELS[reason]
    assert names[UNTAGGED] == f"{REASON_LABELS[UNTAGGED]} no"  # the backlog now, not the range
    # Every bar is by reason, so the overrides above name each one.
    assert all("sum by (reason)" in target["expr"] for target in panel["targets"])
