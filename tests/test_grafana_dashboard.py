"""The Grafana dashboard only charts metrics that exist, so it cannot drift from the code."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import ray

from glossify import metrics
from tests.paths import REPO_ROOT

DASHBOARD = REPO_ROOT / "grafana" / "glossify-dashboard.json"
_EXPORTED_NAME = re.compile(r"\bray_[a-z0-9_]+")
_HISTOGRAM_SERIES = ("_bucket", "_sum", "_count")


def load() -> dict[str, Any]:
    return json.loads(DASHBOARD.read_text())


def all_panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in panels:
        yield panel
        yield from all_panels(panel.get("panels", []))


def expressions(dashboard: dict[str, Any]) -> list[str]:
    exprs = [
        target["expr"]
        for panel in all_panels(dashboard["panels"])
        for target in panel.get("targets", [])
    ]
    exprs += [
        variable["definition"]
        for variable in dashboard["templating"]["list"]
        if variable["type"] == "query"
    ]
    return exprs


def referenced_names() -> set[str]:
    return {name for expr in expressions(load()) for name in _EXPORTED_NAME.findall(expr)}


def ours(name: str) -> tuple[metrics.Metric, str] | None:
    """Our metric behind an exported series name, and the series suffix ("" or _bucket…)."""
    by_name = {metrics.EXPORT_PREFIX + metric.name: metric for metric in metrics.ALL}
    if name in by_name:
        return by_name[name], ""
    for suffix in _HISTOGRAM_SERIES:
        base = name.removesuffix(suffix)
        if base != name and base in by_name:
            return by_name[base], suffix
    return None


@cache
def ray_serve_source() -> str:
    root = Path(ray.__file__).parent / "serve"
    return "\n".join(path.read_text(errors="replace") for path in root.rglob("*.py"))


def test_the_dashboard_is_a_grafana_dashboard_on_a_prometheus_variable() -> None:
    dashboard = load()
    assert dashboard["schemaVersion"] >= 36
    assert dashboard["uid"] and dashboard["title"]
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    panels = list(all_panels(dashboard["panels"]))
    ids = [panel["id"] for panel in panels]
    assert len(ids) == len(set(ids))
    charts = [panel for panel in panels if panel["type"] != "row"]
    assert charts and all(panel["type"] == "timeseries" for panel in charts)
    for panel in charts:
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == "${datasource}", panel["title"]


def test_every_glossify_metric_on_the_dashboard_is_defined_in_the_code() -> None:
    names = referenced_names()
    unknown = []
    for name in names:
        if not name.startswith(metrics.EXPORT_PREFIX + "glossify_"):
            continue
        found = ours(name)
        if found is None:
            unknown.append(name)
            continue
        metric, suffix = found
        # _bucket, _sum and _count exist only for histograms; a histogram is charted by them.
        assert (suffix != "") == (metric.kind == "histogram"), name
    assert not unknown, f"not in glossify/metrics.py: {sorted(unknown)}"


def test_histograms_are_charted_as_quantiles_of_bucket_rates() -> None:
    for expr in expressions(load()):
        if "_bucket" in expr:
            assert expr.startswith("histogram_quantile("), expr
            assert re.search(r"rate\(ray_glossify_\w+_bucket\{[^}]*\}\[\w+\]\)", expr), expr


def test_every_glossify_metric_has_a_panel() -> None:
    charted = {found[0].name for name in referenced_names() if (found := ours(name))}
    assert not [m.name for m in metrics.ALL if m.name not in charted]


def test_ray_metrics_on_the_dashboard_exist_in_this_ray() -> None:
    missing = []
    for name in referenced_names():
        if name.startswith(metrics.EXPORT_PREFIX + "glossify_"):
            continue
        base = name.removeprefix(metrics.EXPORT_PREFIX)
        for suffix in ("_total", *_HISTOGRAM_SERIES):
            base = base.removesuffix(suffix)
        if f'"{base}"' not in ray_serve_source():
            missing.append(name)
    assert not missing, f"not defined by Ray Serve {ray.__version__}: {missing}"
