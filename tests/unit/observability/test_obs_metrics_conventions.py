"""Every service's registry follows the Prometheus conventions and carries no personal data."""

from __future__ import annotations

import importlib
import shutil
import subprocess
from collections.abc import Iterator

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from fivelink_shared import service

SERVICES = ("intake", "matcher", "notifier")
#: Label names that would carry personal data or unbounded values.
FORBIDDEN_LABELS = {
    "name", "phone", "id_number", "address", "email", "person", "person_ref", "person_id",
    "case_id", "line_id", "event_id", "assignment_id", "offer_id", "org_id", "worker_id",
    "party_id", "correlation_id", "user", "sub", "token", "url", "detail",
}  # fmt: skip
PREFIXES = ("fivelink_", "faststream_", "process_", "python_")


def registries() -> Iterator[tuple[str, CollectorRegistry]]:
    """Build each service's app (nothing connects) and yield its registry."""
    for name in SERVICES:
        captured: list[service.ServiceRuntime] = []
        original = service.ServiceRuntime.__post_init__

        def spy(self: service.ServiceRuntime, _orig=original, _out=captured) -> None:
            _orig(self)
            _out.append(self)

        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(service.ServiceRuntime, "__post_init__", spy)
            importlib.import_module(f"fivelink_{name}.app").build_app()
        assert captured, f"{name} built no ServiceRuntime"
        yield name, captured[0].registry


REGISTRIES = dict(registries())


def all_metric_names() -> set[str]:
    """Every sample name the three services export (used by the dashboard tests too)."""
    return {
        sample.name
        for registry in REGISTRIES.values()
        for family in registry.collect()
        for sample in family.samples
    } | {
        family.name + suffix
        for registry in REGISTRIES.values()
        for family in registry.collect()
        for suffix in SUFFIXES.get(family.type, ("",))
    }


SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum", "")}


@pytest.mark.parametrize("name", SERVICES)
def test_obs_names_units_and_types(name: str) -> None:
    registry = REGISTRIES[name]
    problems = []
    for family in registry.collect():
        if not family.name.startswith(PREFIXES):
            problems.append(f"{family.name}: no project prefix")
        duration = family.type == "histogram" and "duration" in family.name
        if duration and not family.name.endswith("_seconds"):
            problems.append(f"{family.name}: a duration histogram must be in seconds")
        if family.type == "gauge" and family.name.endswith("_total"):
            problems.append(f"{family.name}: a gauge must not end in _total")
        if family.type == "summary":
            problems.append(f"{family.name}: use histograms, not summaries")
        for sample in family.samples:
            bad = FORBIDDEN_LABELS & set(sample.labels)
            if bad:
                problems.append(f"{family.name}: forbidden labels {sorted(bad)}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", SERVICES)
def test_obs_promtool_check_metrics(name: str) -> None:
    promtool = shutil.which("promtool")
    if not promtool:
        pytest.skip("promtool is not installed")
    text = generate_latest(REGISTRIES[name])
    result = subprocess.run(
        [promtool, "check", "metrics"], input=text, capture_output=True, timeout=30, check=False
    )
    out = (result.stdout + result.stderr).decode()
    # promtool exits 3 for lint findings; Python's process_* collectors are exempt
    findings = [
        line
        for line in out.splitlines()
        if line.strip() and not line.startswith(("process_", "python_"))
    ]
    assert not findings, out


@pytest.mark.parametrize("name", SERVICES)
def test_obs_every_service_exports_the_common_metrics(name: str) -> None:
    text = generate_latest(REGISTRIES[name]).decode()
    for metric in (
        'fivelink_build_info{python_version="',
        "fivelink_dependency_up{",
        "fivelink_store_operation_duration_seconds_bucket{",
        "fivelink_kafka_lag_refresh_success ",
        "process_resident_memory_bytes ",
    ):
        assert metric in text, f"{name} lacks {metric}"
    assert f'service="{name}"' in text
