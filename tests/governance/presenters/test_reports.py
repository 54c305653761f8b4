"""governance.presenters.reports on its own: drift and performance reports (built in memory, as the services
store them) as their pages read them; the pages' HTML is tested in tests/governance/admin/test_reports.py."""

from __future__ import annotations

from django.urls import reverse

from governance.models import DriftReport, PerformanceReport
from governance.presenters.reports import (
    drift_report_view,
    p_value,
    performance_floor,
    performance_report_view,
)
from tests.governance.presenters.helpers import no_html

FEATURES = {
    "age": {
        "kind": "numeric",
        "psi": 0.31,
        "js_distance": 0.2,
        "ks_statistic": 0.25,
        "ks_pvalue": 0.00002,
        "window_count": 1500,
        "reference_count": 3000,
        "drifted": True,
        "reference_mean": 30.123456,
        "window_mean": 55.5,
        "ks_window_sample": 1000,
    },
    "employed": {
        "kind": "categorical",
        "psi": 0.05,
        "js_distance": 0.01,
        "window_count": 1500,
        "reference_count": 3000,
        "drifted": False,
        "new_categories": ["Maybe", "a", "b", "c", "d", "e"],
    },
    "zip": {"kind": "categorical", "psi": None, "window_count": 0, "status": "no values in the window"},
}


def drift(**overrides) -> DriftReport:
    fields = {
        "pk": 5,
        "features": FEATURES,
        "policy": {"max_psi": 0.2},
        "drifted": True,
        "drifted_features": ["age"],
        "row_count": 1500,
    }
    return DriftReport(**{**fields, **overrides})


def test_drift_rows_highest_psi_first_with_figures_and_notes():
    view = drift_report_view(drift())
    no_html(view)
    assert [row["name"] for row in view["rows"]] == ["age", "employed", "zip"]
    age, employed, zip_ = view["rows"]
    assert {key: value for key, value in age.items() if key != "chart"} == {
        "name": "age",
        "kind": "numeric",
        "psi": "0.310",
        "js": "0.200",
        "ks": "0.250",
        "pvalue": "2.0e-05",
        "window_count": "1,500",
        "reference_count": "3,000",
        "drifted": True,
        "notes": "mean 30.123 → 55.5; KS on a sample of 1,000",
    }
    assert (employed["ks"], employed["pvalue"], employed["drifted"]) == ("-", "-", False)  # categorical: no KS
    assert employed["notes"] == "new: Maybe, a, b, c, d"  # five at most
    assert (zip_["psi"], zip_["js"], zip_["reference_count"]) == ("-", "-", "-")
    assert zip_["notes"] == "no values in the window"
    assert [row["chart"] for row in view["rows"]] == [
        {"name": name, "result": FEATURES[name], "max_psi": 0.2, "id_prefix": f"feature-{index}"}
        for index, name in enumerate(["age", "employed", "zip"])
    ]


def test_drift_result_counts_limit_chart_and_trail():
    view = drift_report_view(drift())
    assert view["badge"] == {"text": "drifted: age", "tone": "danger"}
    assert (view["drifted_count"], view["feature_count"], view["max_psi"], view["row_count"]) == (1, 3, "0.2", "1,500")
    assert view["chart"] == {"features": FEATURES, "max_psi": 0.2}
    assert view["audit_trail_url"] == (
        reverse("admin:registry_auditevent_changelist") + "?target_type__exact=governance.driftreport&q=5"
    )
    stable = drift_report_view(drift(drifted=False, drifted_features=[], features={}, policy=None))
    assert stable["badge"] == {"text": "stable", "tone": "success"}
    assert (stable["rows"], stable["chart"], stable["max_psi"], stable["drifted_count"]) == ([], None, "-", 0)


def test_p_values_small_ones_in_scientific_notation():
    assert [p_value(v) for v in (None, 0.5, 0.001, 0.00099)] == ["-", "0.500", "0.001", "9.9e-04"]


WINDOWS = [
    {"start": "2026-01-05T00:00:00+00:00", "count": 1200, "accuracy": 0.72, "auc": 0.8},
    {"start": "2026-01-12T00:00:00+00:00", "count": 90, "accuracy": 0.6, "auc": None},
    {"start": "2026-01-19T00:00:00+00:00", "count": 0, "accuracy": None},
]


def performance(**overrides) -> PerformanceReport:
    fields = {
        "pk": 9,
        "windows": WINDOWS,
        "policy": {"max_performance_drop": 0.05},
        "baseline_value": 0.7,
        "baseline_metric": "accuracy",
        "bucket": "week",
        "degraded": True,
    }
    return PerformanceReport(**{**fields, **overrides})


def test_performance_windows_against_the_floor():
    report = performance()
    assert performance_floor(report) == 0.7 - 0.05
    view = performance_report_view(report)
    no_html(view)
    assert view["badge"] == {"text": "degraded", "tone": "danger"}
    assert view["windows"] == [
        {"start": "2026-01-05", "count": "1,200", "accuracy": "0.720", "auc": "0.800", "below": False},
        {"start": "2026-01-12", "count": "90", "accuracy": "0.600", "auc": "-", "below": True},
        {"start": "2026-01-19", "count": "0", "accuracy": "-", "auc": "-", "below": False},
    ]
    assert view["below_count"] == 1
    assert view["chart"] == {
        "windows": WINDOWS,
        "baseline": 0.7,
        "floor": 0.7 - 0.05,
        "bucket": "week",
        "metric": "accuracy",
    }
    assert view["audit_trail_url"] == (
        reverse("admin:registry_auditevent_changelist") + "?target_type__exact=governance.performancereport&q=9"
    )


def test_performance_without_a_policy_drop_or_windows():
    report = performance(policy={}, windows=[], degraded=False)
    assert performance_floor(report) is None
    view = performance_report_view(report)
    assert view["badge"] == {"text": "ok", "tone": "success"}
    assert (view["windows"], view["below_count"], view["chart"]) == ([], 0, None)
    no_floor = performance_report_view(performance(policy=None))
    assert [w["below"] for w in no_floor["windows"]] == [False, False, False]  # no floor: nothing below it
