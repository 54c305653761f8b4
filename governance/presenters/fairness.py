"""What a fairness audit's page shows beneath its fields: the checks against the policy, the groups with their
intervals, the small groups apart, and the chart's data."""

from __future__ import annotations

from typing import TypedDict

from governance import charts
from governance.models import FairnessAudit
from governance.presenters.common import Badge, figure, positive_label_text, result_badge
from registry.admin.kit import EMPTY, audit_trail_url

RATES = [
    ("selection_rate", "Selection rate"),
    ("accuracy", "Accuracy"),
    ("tpr", "True positive rate"),
    ("fpr", "False positive rate"),
    ("fnr", "False negative rate"),
    ("precision", "Precision"),
]
# The policy's fairness checks: (check, name, what it measures, policy field, how the value must compare)
FAIRNESS_CHECKS = [
    (
        "demographic_parity_ratio",
        "Demographic parity ratio",
        "the lowest group's selection rate divided by the highest group's (the four-fifths rule)",
        "min_demographic_parity_ratio",
        "≥",
    ),
    (
        "equalized_odds_difference",
        "Equalized odds difference",
        "the largest gap between two groups in true positive rate or in false positive rate",
        "max_equalized_odds_difference",
        "≤",
    ),
]


class RateCell(TypedDict):
    value: str
    interval: str
    below: bool  # a selection rate below the four-fifths line


class GroupRow(TypedDict):
    values: list  # the group's value of each attribute (None: missing)
    count: str
    rates: list[RateCell]


class Check(TypedDict):
    name: str
    meaning: str
    threshold: str
    value: str
    passed: bool
    badge: Badge
    message: str


class FairnessChart(TypedDict):
    """The arguments of governance.charts.fairness_chart_svg."""

    groups: list[dict]
    attributes: list[str]
    min_ratio: float
    max_odds_difference: float | None
    positive_label: object


class FairnessAuditView(TypedDict):
    attributes: list[str]
    badge: Badge
    failed_count: int
    check_count: int
    checks: list[Check]
    parity_difference: str
    groups_compared: int
    min_group_size: int | None
    rate_names: list[str]
    groups: list[GroupRow]
    any_below: bool
    small_groups: list[GroupRow]
    overall: list[str]
    row_count: str
    excluded_rows: str
    has_excluded: bool
    positive: str
    line: str
    min_ratio: str
    confidence: str
    resamples: str
    seed: int | None
    method: str
    chart: FairnessChart | None
    audit_trail_url: str


def fairness_audit_view(audit: FairnessAudit) -> FairnessAuditView:
    """The audit as its page reads it; `line` is the four-fifths line (the highest selection rate times the
    policy's minimum ratio) under which a compared group's selection rate is marked."""
    attributes = list(audit.sensitive_features)
    policy = audit.policy or {}
    disparities = audit.disparities or {}
    failed = {check["check"]: check for check in audit.failed_checks or []}
    min_ratio = policy.get("min_demographic_parity_ratio", 0.8)
    compared = [g for g in audit.by_group if g.get("selection_rate") is not None]
    highest = max((g["selection_rate"] for g in compared), default=None)
    line = highest * min_ratio if highest is not None else None

    def rows(groups: list[dict], *, mark_below: bool) -> list[GroupRow]:
        return [
            {
                "values": [group["group"].get(a) for a in attributes],
                "count": f"{group['count']:,}",
                "rates": [
                    {
                        "value": figure(group.get(metric)),
                        "interval": charts.interval((group.get("intervals") or {}).get(metric)),
                        "below": mark_below
                        and metric == "selection_rate"
                        and line is not None
                        and group.get(metric) is not None
                        and group[metric] < line - 1e-12,
                    }
                    for metric, _ in RATES
                ],
            }
            for group in groups
        ]

    checks: list[Check] = []
    for name, label, meaning, policy_field, comparison in FAIRNESS_CHECKS:
        threshold = policy.get(policy_field)
        checks.append(
            {
                "name": label,
                "meaning": meaning,
                "threshold": f"{comparison} {threshold:g}" if threshold is not None else EMPTY,
                "value": figure(disparities.get(name)),
                "passed": name not in failed,
                "badge": result_badge(name not in failed),
                "message": failed[name]["message"] if name in failed else "",
            }
        )
    bootstrap = audit.bootstrap or {}
    overall = audit.overall or {}
    groups = rows(audit.by_group, mark_below=True)
    return {
        "attributes": attributes,
        "badge": result_badge(audit.passed),
        "failed_count": len(failed),
        "check_count": len(FAIRNESS_CHECKS),
        "checks": checks,
        "parity_difference": figure(disparities.get("demographic_parity_difference")),
        "groups_compared": disparities.get("groups_compared", len(audit.by_group)),
        "min_group_size": policy.get("min_group_size"),
        "rate_names": [label for _, label in RATES],
        "groups": groups,
        "any_below": any(cell["below"] for group in groups for cell in group["rates"]),
        "small_groups": rows(audit.small_groups or [], mark_below=False),
        "overall": [figure(overall.get(metric)) for metric, _ in RATES],
        "row_count": f"{audit.row_count:,}",
        "excluded_rows": f"{bootstrap.get('excluded_rows', 0):,}",
        "has_excluded": bool(bootstrap.get("excluded_rows")),
        "positive": positive_label_text(audit.positive_label),
        "line": figure(line),
        "min_ratio": f"{min_ratio:g}",
        "confidence": f"{bootstrap.get('confidence', 0.95):.0%}",
        "resamples": f"{bootstrap.get('resamples', 0):,}",
        "seed": bootstrap.get("seed"),
        "method": bootstrap.get("method", ""),
        "chart": {
            "groups": audit.by_group,
            "attributes": attributes,
            "min_ratio": min_ratio,
            "max_odds_difference": policy.get("max_equalized_odds_difference"),
            "positive_label": audit.positive_label,
        }
        if audit.by_group
        else None,
        "audit_trail_url": audit_trail_url(audit),
    }
