"""Dashboards as code: committed JSON is current, variables exist, every metric is exported."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[3]
DASHBOARDS = ROOT / "deploy" / "grafana" / "dashboards"
PROVISIONING = ROOT / "deploy" / "grafana" / "provisioning"
METRIC = re.compile(r"\b(fivelink_[a-z0-9_]+|faststream_[a-z0-9_]+|process_[a-z0-9_]+|up)\b")


def builder() -> ModuleType:
    spec = importlib.util.spec_from_file_location("grafana_build", ROOT / "deploy/grafana/build.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["grafana_build"] = module
    spec.loader.exec_module(module)
    return module


def panels() -> list[tuple[str, dict[str, object]]]:
    out = []
    for path in sorted(DASHBOARDS.glob("*.json")):
        dash = json.loads(path.read_text())
        out += [(dash["uid"], p) for p in dash["panels"] if p["type"] != "row"]
    return out


def test_obs_committed_dashboards_match_the_builder() -> None:
    assert builder().main(check=True) == 0, "run: uv run python deploy/grafana/build.py"
    assert len(list(DASHBOARDS.glob("*.json"))) == 4


def test_obs_each_dashboard_has_datasource_and_county_variables() -> None:
    for path in DASHBOARDS.glob("*.json"):
        dash = json.loads(path.read_text())
        variables = {v["name"]: v for v in dash["templating"]["list"]}
        assert variables["datasource"]["type"] == "datasource"
        assert variables["datasource"]["query"] == "prometheus"
        assert variables["county"]["includeAll"] and variables["county"]["allValue"] == ".*"


def test_obs_every_panel_answers_a_question_and_uses_exported_metrics() -> None:
    from test_obs_metrics_conventions import all_metric_names

    exported = all_metric_names() | {"up"}
    for uid, panel in panels():
        assert str(panel.get("description", "")).endswith("?"), f"{uid}/{panel['title']}"
        targets = panel["targets"]
        assert isinstance(targets, list) and targets
        for target in targets:
            expr = target["expr"]
            assert target["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
            for name in METRIC.findall(expr):
                assert name in exported, f"{uid}/{panel['title']}: {name} is not exported"
            if "county" in expr:
                assert 'county=~"$county"' in expr, f"{uid}/{panel['title']}"


def test_obs_provisioning_points_at_the_mounted_paths() -> None:
    import yaml

    ds = yaml.safe_load((PROVISIONING / "datasources" / "fivelink.yml").read_text())
    assert ds["datasources"][0]["type"] == "prometheus"
    dashboards = yaml.safe_load((PROVISIONING / "dashboards" / "fivelink.yml").read_text())
    assert dashboards["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"
