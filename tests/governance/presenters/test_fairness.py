"""governance.presenters.fairness on its own: an audit (built in memory, as the service stores it) as its page
reads it; the page's HTML is tested in tests/governance/admin/test_fairness.py."""

from __future__ import annotations

from django.urls import reverse

from governance.models import FairnessAudit
from governance.presenters.fairness import fairness_audit_view
from tests.governance.presenters.helpers import no_html


def group(name: str, count: int, selection: float | None, **rates) -> dict:
    return {
        "group": {"group": name},
        "count": count,
        "selection_rate": selection,
        "accuracy": rates.get("accuracy", 0.7),
        "tpr": rates.get("tpr", 0.6),
        "fpr": rates.get("fpr", 0.2),
        "fnr": rates.get("fnr", 0.4),
        "precision": rates.get("precision", 0.5),
        "intervals": {"selection_rate": [selection - 0.05, selection + 0.05]} if selection is not None else {},
    }


def audit(**overrides) -> FairnessAudit:
    fields = {
        "pk": 41,
        "sensitive_features": ["group"],
        "positive_label": "Yes",
        "row_count": 1212,
        "passed": False,
        "policy": {"min_demographic_parity_ratio": 0.8, "max_equalized_odds_difference": 0.1, "min_group_size": 30},
        "disparities": {
            "demographic_parity_ratio": 0.4,
            "equalized_odds_difference": 0.05,
            "demographic_parity_difference": 0.3,
            "groups_compared": 2,
        },
        "failed_checks": [
            {"check": "demographic_parity_ratio", "message": "demographic parity ratio 0.400 is below 0.8"}
        ],
        "by_group": [group("a", 1100, 0.5), group("b", 100, 0.2)],
        "small_groups": [group("c", 12, 0.5)],
        "overall": {"selection_rate": 0.47, "accuracy": 0.71, "tpr": 0.6, "fpr": 0.2, "fnr": 0.4, "precision": 0.5},
        "bootstrap": {"confidence": 0.9, "resamples": 2000, "seed": 7, "method": "percentile", "excluded_rows": 3},
    }
    return FairnessAudit(**{**fields, **overrides})


def test_checks_against_the_policy():
    view = fairness_audit_view(audit())
    no_html(view)
    assert view["badge"] == {"text": "failed", "tone": "danger"}
    assert (view["failed_count"], view["check_count"]) == (1, 2)
    assert view["checks"] == [
        {
            "name": "Demographic parity ratio",
            "meaning": "the lowest group's selection rate divided by the highest group's (the four-fifths rule)",
            "threshold": "≥ 0.8",
            "value": "0.400",
            "passed": False,
            "badge": {"text": "failed", "tone": "danger"},
            "message": "demographic parity ratio 0.400 is below 0.8",
        },
        {
            "name": "Equalized odds difference",
            "meaning": "the largest gap between two groups in true positive rate or in false positive rate",
            "threshold": "≤ 0.1",
            "value": "0.050",
            "passed": True,
            "badge": {"text": "passed", "tone": "success"},
            "message": "",
        },
    ]
    assert view["parity_difference"] == "0.300"
    assert view["groups_compared"] == 2
    assert view["min_group_size"] == 30


def test_groups_with_intervals_the_four_fifths_line_and_small_groups_apart():
    view = fairness_audit_view(audit())
    assert view["attributes"] == ["group"]
    assert view["rate_names"] == [
        "Selection rate",
        "Accuracy",
        "True positive rate",
        "False positive rate",
        "False negative rate",
        "Precision",
    ]
    a, b = view["groups"]
    assert (a["values"], a["count"], b["values"], b["count"]) == (["a"], "1,100", ["b"], "100")
    assert a["rates"][0] == {"value": "0.500", "interval": "0.450–0.550", "below": False}
    assert b["rates"][0] == {"value": "0.200", "interval": "0.150–0.250", "below": True}  # 0.2 < 0.8 x 0.5
    assert [cell["value"] for cell in a["rates"]] == ["0.500", "0.700", "0.600", "0.200", "0.400", "0.500"]
    assert [cell["interval"] for cell in a["rates"][1:]] == [""] * 5
    assert not any(cell["below"] for cell in b["rates"][1:])  # only selection rates are marked
    assert view["any_below"] is True
    assert (view["line"], view["min_ratio"]) == ("0.400", "0.8")
    [small] = view["small_groups"]
    assert small["values"] == ["c"] and small["count"] == "12"
    assert not any(cell["below"] for cell in small["rates"])  # small groups are not compared
    assert view["overall"] == ["0.470", "0.710", "0.600", "0.200", "0.400", "0.500"]


def test_method_figures_positive_label_chart_data_and_trail():
    record = audit()
    view = fairness_audit_view(record)
    assert (view["row_count"], view["excluded_rows"], view["has_excluded"]) == ("1,212", "3", True)
    assert view["positive"] == "Yes"
    assert (view["confidence"], view["resamples"], view["seed"], view["method"]) == ("90%", "2,000", 7, "percentile")
    assert view["chart"] == {
        "groups": record.by_group,
        "attributes": ["group"],
        "min_ratio": 0.8,
        "max_odds_difference": 0.1,
        "positive_label": "Yes",
    }
    assert view["audit_trail_url"] == (
        reverse("admin:registry_auditevent_changelist") + "?target_type__exact=governance.fairnessaudit&q=41"
    )


def test_a_passed_audit_without_groups_or_bootstrap():
    view = fairness_audit_view(
        audit(
            passed=True,
            failed_checks=[],
            by_group=[],
            small_groups=None,
            bootstrap=None,
            positive_label=1,
            policy={},
            disparities={},
        )
    )
    assert view["badge"] == {"text": "passed", "tone": "success"}
    assert [check["threshold"] for check in view["checks"]] == ["-", "-"]
    assert [check["value"] for check in view["checks"]] == ["-", "-"]
    assert all(check["passed"] for check in view["checks"])
    assert view["chart"] is None
    assert (view["groups"], view["small_groups"], view["any_below"], view["line"]) == ([], [], False, "-")
    assert (view["min_ratio"], view["confidence"], view["resamples"], view["has_excluded"]) == (
        "0.8",
        "95%",
        "0",
        False,
    )
    assert view["positive"] == "1"  # a number as JSON
    assert view["groups_compared"] == 0
