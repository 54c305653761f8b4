"""Drift and performance reports and webhooks in admin: pages render on real reports from the demo, the
SVG charts parse and draw what they say, client labels are escaped, everything is read-only (superusers
included), other projects' reports are hidden, and a webhook's secret never reaches a page."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from django.urls import reverse

from governance.charts import drift_feature_svg, drift_psi_chart_svg, performance_chart_svg
from governance.models import DriftReport, PerformanceReport
from registry.admin.kit import admin_url
from tests.helpers import staff_client

NS = "{http://www.w3.org/2000/svg}"
DRIFTS = reverse("admin:governance_driftreport_changelist")
PERFORMANCES = reverse("admin:governance_performancereport_changelist")
START = datetime(2000, 1, 1, tzinfo=UTC)
END = datetime(2100, 1, 1, tzinfo=UTC)


def page(obj, name: str = "change") -> str:
    return reverse(f"admin:governance_{obj._meta.model_name}_{name}", args=[obj.pk])


def svgs(body: str, css_class: str) -> list[ET.Element]:
    found = re.findall(rf'<svg [^>]*class="{css_class}".*?</svg>', body, re.DOTALL)
    return [ET.fromstring(svg) for svg in found]


# The charts on their own ------------------------------------------------------------------------------

HOSTILE = {
    "<script>alert(1)</script>": {
        "kind": "numeric",
        "psi": 0.4,
        "drifted": True,
        "bin_edges": [0, 1, 2, 3],
        "reference_bins": [10, 10, 10],
        "window_bins": [0, 5, 25],
        "window_count": 30,
    },
    'colour & "x"': {
        "kind": "categorical",
        "psi": 0.05,
        "drifted": False,
        "categories": ["<b>bold</b>", "a\x1bb", *(f"c{i}" for i in range(12))],
        "reference_frequencies": [5, 5, *range(1, 13)],
        "window_frequencies": [6, 4, *range(12, 0, -1)],
        "new_categories": ["<b>bold</b>"],
        "window_count": 88,
    },
    "absent": {"kind": "numeric", "window_count": 0, "status": "absent from the window", "drifted": False},
}


def test_psi_chart_has_one_bar_per_feature_and_the_threshold_line():
    svg = drift_psi_chart_svg(HOSTILE, max_psi=0.2)
    root = ET.fromstring(svg)
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    bars = [e for e in root.iter(f"{NS}rect") if e.get("class") == "psi-bar"]
    assert [b.get("data-feature") for b in bars] == ["<script>alert(1)</script>", 'colour & "x"']
    assert float(bars[0].get("width")) > float(bars[1].get("width"))
    assert bars[0].get("fill").startswith("url(#")  # above the limit: hatched
    (line,) = [e for e in root.iter(f"{NS}line") if e.get("class") == "threshold"]
    assert line.get("x1") == line.get("x2")
    assert float(bars[1].get("x")) + float(bars[1].get("width")) < float(line.get("x1"))
    assert float(bars[0].get("x")) + float(bars[0].get("width")) > float(line.get("x1"))
    assert "absent from the window" in svg


def test_feature_charts_pair_reference_and_window_and_keep_ten_categories():
    numeric = ET.fromstring(drift_feature_svg("<script>", HOSTILE["<script>alert(1)</script>"], max_psi=0.2))
    rects = list(numeric.iter(f"{NS}rect"))
    assert len([r for r in rects if r.get("class") == "reference"]) == 3
    assert len([r for r in rects if r.get("class") == "window"]) == 3
    categorical_svg = drift_feature_svg('colour & "x"', HOSTILE['colour & "x"'])
    categorical = ET.fromstring(categorical_svg)
    groups = [g for g in categorical.iter(f"{NS}g") if g.get("class") == "category"]
    assert len(groups) == 10
    assert "<b>" not in categorical_svg and "and 4 smaller categories" in categorical_svg
    assert ET.fromstring(drift_feature_svg("absent", HOSTILE["absent"])) is not None


def test_performance_chart_marks_windows_below_the_floor():
    windows = [
        {"start": "2030-01-06T00:00:00+00:00", "count": 50, "accuracy": 0.82, "auc": 0.9},
        {"start": "2030-01-13T00:00:00+00:00", "count": 50, "accuracy": 0.61, "auc": None},
        {"start": "2030-01-20T00:00:00+00:00", "count": 50, "accuracy": 0.79, "auc": 0.88},
    ]
    root = ET.fromstring(performance_chart_svg(windows, baseline=0.8, floor=0.75))
    below = [e for e in root.iter(f"{NS}rect") if e.get("class") == "point below"]
    fine = [e for e in root.iter(f"{NS}circle") if e.get("class") == "point"]
    assert (len(below), len(fine)) == (1, 2)
    lines = {e.get("class"): e for e in root.iter(f"{NS}line") if e.get("class")}
    assert {"baseline", "floor"} <= set(lines)
    assert float(lines["floor"].get("y1")) > float(lines["baseline"].get("y1"))  # lower on the page
    assert float(below[0].get("y")) > float(lines["floor"].get("y1"))


# The pages ---------------------------------------------------------------------------------------------


def test_drift_pages_render_for_a_superuser_with_real_reports(admin_client, demo):
    body = admin_client.get(DRIFTS).content.decode()
    drifted = demo["drifted"]
    assert drifted.drifted and {"age", "employed"} <= set(drifted.drifted_features)
    assert "drifted: " + ", ".join(drifted.drifted_features) in body
    assert ">stable<" in body
    assert admin_client.get(DRIFTS, {"drifted": "yes"}).context_data["cl"].result_count == 1
    assert admin_client.get(DRIFTS, {"drifted": "no"}).context_data["cl"].result_count == 1

    response = admin_client.get(page(drifted))
    assert response.status_code == 200
    body = response.content.decode()
    assert admin_url(drifted.reference_data_version) in body
    assert "Policy PSI limit" in body and f"{drifted.policy['max_psi']:g}" in body
    (psi,) = svgs(body, "psi-chart")
    bars = [e for e in psi.iter(f"{NS}rect") if e.get("class") == "psi-bar"]
    assert sorted(b.get("data-feature") for b in bars) == sorted(drifted.features)
    assert len([e for e in psi.iter(f"{NS}line") if e.get("class") == "threshold"]) == 1
    assert len(svgs(body, "feature-chart")) == len(drifted.features)
    rows = re.findall(r'<tr class="drifted"', body)
    assert len(rows) == len(drifted.drifted_features)

    stable = admin_client.get(page(demo["stable"])).content.decode()
    assert "No feature&#x27;s PSI exceeds" in stable or "No feature's PSI exceeds" in stable


def test_performance_pages_render_for_a_superuser_with_a_real_report(admin_client, demo):
    report = demo["performance"]
    assert admin_client.get(PERFORMANCES).status_code == 200
    response = admin_client.get(page(report))
    assert response.status_code == 200
    body = response.content.decode()
    floor = report.baseline_value - report.policy["max_performance_drop"]
    assert f"{floor:.3f}" in body and f"{report.overall['accuracy']:.3f}" in body
    assert f"{report.overall['auc']:.3f}" in body
    (chart,) = svgs(body, "performance-chart")
    points = [e for e in chart.iter() if (e.get("class") or "").startswith("point")]
    assert len(points) == len(report.windows)
    assert {"baseline", "floor"} <= {e.get("class") for e in chart.iter(f"{NS}line")}
    assert body.count("<tr><td>") >= len(report.windows)


def test_hostile_feature_names_and_categories_are_escaped(admin_client, demo):
    version = demo["version"]
    report = DriftReport.objects.create(
        project_id=version.project_id,
        model_version=version,
        reference_data_version=demo["drifted"].reference_data_version,
        window_start=START,
        window_end=END,
        row_count=30,
        features=HOSTILE,
        drifted=True,
        drifted_features=["<script>alert(1)</script>"],
        policy={"max_psi": 0.2},
    )
    for url in (DRIFTS, page(report)):
        body = admin_client.get(url).content.decode()
        assert "<script>alert(1)</script>" not in body
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    body = admin_client.get(page(report)).content.decode()
    assert "<b>bold</b>" not in body
    for svg in svgs(body, "psi-chart") + svgs(body, "feature-chart"):
        assert svg is not None  # each parses


def test_reports_are_read_only_even_for_superusers(admin_client, demo):
    for report in (demo["drifted"], demo["performance"]):
        name = report._meta.model_name
        assert admin_client.get(reverse(f"admin:governance_{name}_add")).status_code == 403
        assert admin_client.post(page(report), {"drifted": "", "degraded": ""}).status_code == 403
        assert admin_client.post(page(report, "delete"), {"post": "yes"}).status_code == 403
        body = admin_client.get(page(report)).content.decode()
        assert 'name="_save"' not in body
    assert DriftReport.objects.filter(pk=demo["drifted"].pk, drifted=True).exists()
    assert PerformanceReport.objects.filter(pk=demo["performance"].pk).exists()


def test_other_projects_reports_are_hidden(demo, other_project):
    outsider = staff_client("otto", "risk_analyst", other_project)
    assert outsider.get(DRIFTS).context_data["cl"].result_count == 0
    assert outsider.get(PERFORMANCES).context_data["cl"].result_count == 0
    assert outsider.get(page(demo["drifted"])).status_code == 302  # admin's "does not exist" redirect
    member = staff_client("rita", "risk_analyst", demo["version"].project)
    assert member.get(DRIFTS).context_data["cl"].result_count == 2
    assert member.get(page(demo["drifted"])).status_code == 200
    assert member.get(page(demo["performance"])).status_code == 200


def test_the_yes_no_filters(admin_client, demo):
    def listed(url, **params):
        return {r.pk for r in admin_client.get(url, params).context_data["cl"].result_list}

    assert listed(DRIFTS, drifted="yes") == {demo["drifted"].pk}
    assert listed(DRIFTS, drifted="no") == {demo["stable"].pk}
    assert listed(DRIFTS) == {demo["drifted"].pk, demo["stable"].pk}
    performance = demo["performance"]
    assert listed(PERFORMANCES, degraded="yes" if performance.degraded else "no") == {performance.pk}
    assert listed(PERFORMANCES, degraded="no" if performance.degraded else "yes") == set()
