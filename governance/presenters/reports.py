"""What a drift report's and a performance report's pages show beneath their fields: the rows, the figures
against the policy, and the charts' data."""

from __future__ import annotations

from typing import TypedDict

from governance.models import DriftReport, PerformanceReport
from governance.presenters.common import Badge, badge, figure
from registry.admin.kit import EMPTY, audit_trail_url, count
from registry.tones import Tone


class DriftFeatureChart(TypedDict):
    """The arguments of governance.charts.drift_feature_svg."""

    name: str
    result: dict
    max_psi: float | None
    id_prefix: str


class DriftPsiChart(TypedDict):
    """The arguments of governance.charts.drift_psi_chart_svg."""

    features: dict
    max_psi: float | None


class DriftRow(TypedDict):
    name: str
    kind: str
    psi: str
    js: str
    ks: str
    pvalue: str
    window_count: str
    reference_count: str
    drifted: bool
    notes: str
    chart: DriftFeatureChart


class DriftReportView(TypedDict):
    badge: Badge
    drifted_count: int
    feature_count: int
    max_psi: str
    rows: list[DriftRow]
    row_count: str
    chart: DriftPsiChart | None
    audit_trail_url: str


class PerformanceChart(TypedDict):
    """The arguments of governance.charts.performance_chart_svg."""

    windows: list[dict]
    baseline: float
    floor: float | None
    bucket: str
    metric: str


class PerformanceWindow(TypedDict):
    start: str
    count: str
    accuracy: str
    auc: str
    below: bool  # accuracy below the floor


class PerformanceReportView(TypedDict):
    badge: Badge
    windows: list[PerformanceWindow]
    below_count: int
    chart: PerformanceChart | None
    audit_trail_url: str


def drift_badge(report: DriftReport) -> Badge:
    if report.drifted:
        return badge("drifted: " + ", ".join(str(name) for name in report.drifted_features), Tone.DANGER)
    return badge("stable", Tone.SUCCESS)


def p_value(value: float | None) -> str:
    if value is None:
        return EMPTY
    return f"{value:.3f}" if value >= 0.001 else f"{value:.1e}"


def drift_report_view(report: DriftReport) -> DriftReportView:
    """A row per feature (highest PSI first, then by name), the PSI chart and each feature's distributions."""
    max_psi = (report.policy or {}).get("max_psi")
    features = report.features or {}
    names = sorted(features, key=lambda n: (-(features[n].get("psi") or -1.0), str(n)))
    rows: list[DriftRow] = []
    for index, name in enumerate(names):
        result = features[name]
        numeric = result.get("kind") == "numeric"
        notes = []
        if result.get("status"):
            notes.append(result["status"])
        if result.get("new_categories"):
            notes.append("new: " + ", ".join(str(c) for c in result["new_categories"][:5]))
        if numeric and result.get("window_mean") is not None and result.get("reference_mean") is not None:
            notes.append(f"mean {result['reference_mean']:.5g} → {result['window_mean']:.5g}")
        if result.get("ks_window_sample"):
            notes.append(f"KS on a sample of {result['ks_window_sample']:,}")
        rows.append(
            {
                "name": name,
                "kind": result.get("kind", ""),
                "psi": figure(result.get("psi")),
                "js": figure(result.get("js_distance")),
                "ks": figure(result.get("ks_statistic")) if numeric else EMPTY,
                "pvalue": p_value(result.get("ks_pvalue")) if numeric else EMPTY,
                "window_count": count(result.get("window_count", 0)),
                "reference_count": count(result["reference_count"]) if "reference_count" in result else EMPTY,
                "drifted": bool(result.get("drifted")),
                "notes": "; ".join(notes),
                "chart": {"name": name, "result": result, "max_psi": max_psi, "id_prefix": f"feature-{index}"},
            }
        )
    return {
        "badge": drift_badge(report),
        "drifted_count": len(report.drifted_features or []),
        "feature_count": len(features),
        "max_psi": f"{max_psi:g}" if max_psi is not None else EMPTY,
        "rows": rows,
        "row_count": count(report.row_count),
        "chart": {"features": features, "max_psi": max_psi} if features else None,
        "audit_trail_url": audit_trail_url(report),
    }


def performance_floor(report: PerformanceReport) -> float | None:
    """The baseline minus the policy's allowed drop: live accuracy below it is degraded."""
    drop = (report.policy or {}).get("max_performance_drop")
    return None if drop is None else report.baseline_value - drop


def performance_badge(report: PerformanceReport) -> Badge:
    return badge("degraded", Tone.DANGER) if report.degraded else badge("ok", Tone.SUCCESS)


def performance_report_view(report: PerformanceReport) -> PerformanceReportView:
    """Accuracy per window against the floor, and the chart over time."""
    floor = performance_floor(report)
    windows: list[PerformanceWindow] = []
    for window in report.windows or []:
        accuracy = window.get("accuracy")
        windows.append(
            {
                "start": window.get("start", "")[:10],
                "count": count(window.get("count", 0)),
                "accuracy": figure(accuracy),
                "auc": figure(window.get("auc")),
                "below": floor is not None and accuracy is not None and accuracy < floor,
            }
        )
    return {
        "badge": performance_badge(report),
        "windows": windows,
        "below_count": sum(w["below"] for w in windows),
        "chart": {
            "windows": report.windows,
            "baseline": report.baseline_value,
            "floor": floor,
            "bucket": report.bucket,
            "metric": report.baseline_metric,
        }
        if report.windows
        else None,
        "audit_trail_url": audit_trail_url(report),
    }
