"""Fairness audits with fairlearn's MetricFrame, computed on counts rather than rows.

The database groups a version's decisions (with outcomes, in a window) by their sensitive
attributes, the outcome and the prediction (each positive when equal to `positive_label`) and
counts them; MetricFrame then runs on those few combinations with the counts as `sample_weight`,
which gives the same figures as running it on every row. Bootstrap intervals resample the counts
(multinomial), vectorised in numpy.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime
from functools import partial

import numpy as np
import pandas as pd
from django.db import connection, transaction
from django.db.models import Case, CharField, Count, F, Func, IntegerField, Q, QuerySet, Value, When
from django.db.models.fields.json import KeyTextTransform
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    demographic_parity_ratio,
    equalized_odds_difference,
    false_negative_rate,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from sklearn.metrics import accuracy_score, precision_score

from governance.models import Decision, FairnessAudit, Policy
from governance.services.alerts import alert_raise
from governance.services.policies import policy_for
from registry.actors import Actor
from registry.audit import AuditEventType as Event
from registry.audit import audit_append
from registry.errors import field_error
from registry.models import ModelVersion

# The per-group metrics; tests run the same functions through MetricFrame on the raw rows.
METRICS = {
    "selection_rate": selection_rate,
    "accuracy": accuracy_score,
    "tpr": true_positive_rate,
    "fpr": false_positive_rate,
    "fnr": false_negative_rate,
    "precision": partial(precision_score, zero_division=0.0),
}
BOOTSTRAP_RESAMPLES = 1000
CONFIDENCE = 0.95


@dataclass(frozen=True)
class GroupCounts:
    """One row per (group values, y_true, y_pred) combination, with how many decisions have it."""

    frame: pd.DataFrame  # columns: the sensitive attributes, y_true, y_pred, weight
    attributes: list[str]
    excluded_rows: int  # decisions lacking one of the attributes

    @property
    def total(self) -> int:
        return int(self.frame["weight"].sum())


def decision_group_counts(
    *,
    model_version_id: int,
    attributes: list[str],
    positive_label: object,
    window_start: datetime | None = None,
    window_end: datetime | None = None,
) -> GroupCounts:
    """Let the database count decisions by (attributes, outcome positive, prediction positive)."""
    rows = _window_rows(model_version_id, window_start, window_end)
    names = {attribute: f"g{i}" for i, attribute in enumerate(attributes)}
    annotated = rows.annotate(
        **{alias: KeyTextTransform(attribute, "sensitive") for attribute, alias in names.items()},
        y_true=Case(When(outcome=positive_label, then=Value(1)), default=Value(0), output_field=IntegerField()),
        y_pred=Case(When(prediction=positive_label, then=Value(1)), default=Value(0), output_field=IntegerField()),
    )
    # One pass: decisions lacking an attribute group under NULL and are counted apart here.
    combos = list(annotated.values(*names.values(), "y_true", "y_pred").annotate(weight=Count("id")).order_by())
    complete = [c for c in combos if all(c[alias] is not None for alias in names.values())]
    excluded = sum(c["weight"] for c in combos) - sum(c["weight"] for c in complete)
    frame = pd.DataFrame(complete, columns=[*names.values(), "y_true", "y_pred", "weight"])
    frame = frame.rename(columns={alias: attribute for attribute, alias in names.items()})
    return GroupCounts(frame=frame, attributes=list(attributes), excluded_rows=excluded)


def _clean(value: float) -> float | None:
    value = float(value)
    return None if math.isnan(value) else value


def _group_key(values: tuple, attributes: list[str]) -> dict:
    return dict(zip(attributes, values, strict=True))


def compute_fairness(counts: GroupCounts, *, policy: Policy, seed: int = 0) -> dict:
    """The audit's figures from the counts. Raises a ServiceError when no audit can be made."""
    frame, attributes = counts.frame, counts.attributes
    if frame.empty:
        raise field_error("window_start", "no decisions with outcomes (and the sensitive attributes) in this window")
    sizes = frame.groupby(attributes)["weight"].sum()
    if len(sizes) < 2:
        only = ", ".join(f"{a}={v}" for a, v in zip(attributes, np.atleast_1d(sizes.index[0]), strict=False))
        raise field_error("sensitive_features", f"the decisions form one group only ({only}): nothing to compare")
    large = sizes[sizes >= policy.min_group_size]
    if len(large) < 2:
        raise field_error(
            "sensitive_features",
            f"fewer than two groups have at least {policy.min_group_size} decisions (the policy's minimum group size)",
        )

    weight = frame["weight"].to_numpy(dtype=float)
    metric_frame = MetricFrame(
        metrics=METRICS,
        y_true=frame["y_true"].to_numpy(),
        y_pred=frame["y_pred"].to_numpy(),
        sensitive_features=frame[attributes],
        sample_params={name: {"sample_weight": weight} for name in METRICS},
    )
    intervals = _bootstrap(frame, attributes, seed=seed)
    by_group = []
    for values, row in metric_frame.by_group.iterrows():
        values = values if isinstance(values, tuple) else (values,)
        size = int(sizes.loc[values if len(values) > 1 else values[0]])
        by_group.append(
            {
                "group": _group_key(values, attributes),
                "count": size,
                **{name: _clean(row[name]) for name in METRICS},
                "intervals": intervals.get(values, {}),
                "below_min_size": size < policy.min_group_size,
            }
        )

    eligible = frame[frame.set_index(attributes).index.isin(large.index)]
    args = {
        "y_true": eligible["y_true"].to_numpy(),
        "y_pred": eligible["y_pred"].to_numpy(),
        "sensitive_features": eligible[attributes],
        "sample_weight": eligible["weight"].to_numpy(dtype=float),
    }
    disparities = {
        "demographic_parity_difference": _clean(demographic_parity_difference(**args)),
        "demographic_parity_ratio": _clean(demographic_parity_ratio(**args)),
        "equalized_odds_difference": _clean(equalized_odds_difference(**args)),
        "groups_compared": len(large),
    }
    failed = []
    ratio, odds = disparities["demographic_parity_ratio"], disparities["equalized_odds_difference"]
    if ratio is None or ratio < policy.min_demographic_parity_ratio:
        failed.append(
            {
                "check": "demographic_parity_ratio",
                "value": ratio,
                "threshold": policy.min_demographic_parity_ratio,
                "message": f"demographic parity ratio {ratio:.3f} is below {policy.min_demographic_parity_ratio}"
                if ratio is not None
                else "demographic parity ratio is undefined",
            }
        )
    if odds is None or odds > policy.max_equalized_odds_difference:
        failed.append(
            {
                "check": "equalized_odds_difference",
                "value": odds,
                "threshold": policy.max_equalized_odds_difference,
                "message": f"equalized odds difference {odds:.3f} is above {policy.max_equalized_odds_difference}"
                if odds is not None
                else "equalized odds difference is undefined",
            }
        )
    return {
        "row_count": counts.total,
        "excluded_rows": counts.excluded_rows,
        "overall": {"count": counts.total, **{name: _clean(metric_frame.overall[name]) for name in METRICS}},
        "by_group": [g for g in by_group if not g["below_min_size"]],
        "small_groups": [g for g in by_group if g["below_min_size"]],
        "disparities": disparities,
        "passed": not failed,
        "failed_checks": failed,
        "bootstrap": {
            "resamples": BOOTSTRAP_RESAMPLES,
            "seed": seed,
            "confidence": CONFIDENCE,
            "method": "multinomial resampling of the counts, percentile intervals",
        },
    }


def _bootstrap(frame: pd.DataFrame, attributes: list[str], *, seed: int) -> dict[tuple, dict[str, list]]:
    """Percentile intervals of each group's rates, resampling all decisions' counts (multinomial)."""
    rng = np.random.default_rng(seed)
    weight = frame["weight"].to_numpy(dtype=float)
    total = int(weight.sum())
    keys = list(frame[attributes].itertuples(index=False, name=None))
    groups = sorted(set(keys), key=str)
    index = {g: i for i, g in enumerate(groups)}
    one_hot = np.zeros((len(frame), len(groups)))
    one_hot[np.arange(len(frame)), [index[k] for k in keys]] = 1.0
    yt = frame["y_true"].to_numpy() == 1
    yp = frame["y_pred"].to_numpy() == 1
    samples = rng.multinomial(total, weight / total, size=BOOTSTRAP_RESAMPLES).astype(float)

    def per_group(mask: np.ndarray) -> np.ndarray:
        return samples @ (one_hot * mask[:, None])

    everyone = per_group(np.ones(len(frame), dtype=bool))
    tp, fp = per_group(yt & yp), per_group(~yt & yp)
    fn, tn = per_group(yt & ~yp), per_group(~yt & ~yp)
    with np.errstate(divide="ignore", invalid="ignore"):
        rates = {
            "selection_rate": (tp + fp) / everyone,
            "accuracy": (tp + tn) / everyone,
            "tpr": tp / (tp + fn),
            "fpr": fp / (fp + tn),
            "fnr": fn / (tp + fn),
            "precision": np.where(tp + fp > 0, tp / (tp + fp), 0.0),
        }
    low, high = (1 - CONFIDENCE) / 2 * 100, (1 + CONFIDENCE) / 2 * 100
    out: dict[tuple, dict[str, list]] = {}
    for g, i in index.items():
        out[g] = {}
        for name, values in rates.items():
            column = values[:, i]
            column = column[~np.isnan(column)]
            out[g][name] = (
                [float(np.percentile(column, low)), float(np.percentile(column, high))] if column.size else None
            )
    return out


def audit_gates(sensitive_features: list[str], policy: Policy) -> bool:
    """Whether an audit by these attributes is the one the policy asks for: by exactly its required attributes
    (their intersection when several). Any other audit, and every audit while the policy names none, is
    exploratory: stored and shown, never alerting or gating."""
    required = set(policy.required_sensitive_features or [])
    return bool(required) and set(sensitive_features) == required


SEEN_VALUES_SHOWN = 20


def _window_rows(
    model_version_id: int, window_start: datetime | None, window_end: datetime | None
) -> QuerySet[Decision]:
    rows = Decision.objects.filter(model_version_id=model_version_id, outcome__isnull=False, erased_at__isnull=True)
    if window_start is not None:
        rows = rows.filter(occurred_at__gte=window_start)
    if window_end is not None:
        rows = rows.filter(occurred_at__lt=window_end)
    return rows


def _sensitive_keys(rows: QuerySet[Decision]) -> set[str]:
    if connection.vendor == "postgresql":
        keys = rows.annotate(
            key=Func(F("sensitive"), function="jsonb_object_keys", output_field=CharField())
        ).values_list("key", flat=True)
        return set(keys.order_by().distinct())
    found: set[str] = set()  # SQLite: no set-returning function in a select list; the slower way
    for sensitive in rows.values_list("sensitive", flat=True).iterator():
        if isinstance(sensitive, dict):
            found.update(sensitive)
    return found


def _refuse_unseen(
    *,
    model_version_id: int,
    attributes: list[str],
    positive_label: object,
    window_start: datetime | None,
    window_end: datetime | None,
) -> None:
    """A typo must not become a failed audit: an attribute no decision of the window carries, or a positive label
    no outcome nor prediction equals, is refused, listing what the window holds."""
    rows = _window_rows(model_version_id, window_start, window_end)
    if not rows.exists():
        return  # compute_fairness says there is nothing to audit
    missing = [a for a in attributes if not rows.filter(sensitive__has_key=a).exists()]
    if missing:
        seen = sorted(_sensitive_keys(rows))
        raise field_error(
            "sensitive_features",
            f"no decision in the window carries {', '.join(missing)}; the attributes seen are: "
            + (", ".join(seen) if seen else "none"),
        )
    if not rows.filter(Q(outcome=positive_label) | Q(prediction=positive_label)).exists():
        values: list = []
        for name in ("outcome", "prediction"):
            for value in rows.values_list(name, flat=True).order_by().distinct()[:SEEN_VALUES_SHOWN]:
                if value not in values:
                    values.append(value)
        raise field_error(
            "positive_label",
            f"no outcome or prediction in the window equals {json.dumps(positive_label)}; the values seen are: "
            + ", ".join(json.dumps(v) for v in values[:SEEN_VALUES_SHOWN]),
        )


def fairness_audit_run(
    *,
    actor: Actor,
    model_version: ModelVersion,
    sensitive_features: list[str],
    positive_label: object,
    window_start: datetime | None = None,
    window_end: datetime | None = None,
) -> FairnessAudit:
    """Audit one version's decisions with outcomes, store the result and record it in the audit trail."""
    if not sensitive_features:
        raise field_error("sensitive_features", "name at least one sensitive attribute")
    if len(set(sensitive_features)) != len(sensitive_features):
        raise field_error("sensitive_features", "names an attribute twice")
    if window_start and window_end and window_end <= window_start:
        raise field_error("window_end", "must be after window_start")
    policy = policy_for(model_version.project_id)
    _refuse_unseen(
        model_version_id=model_version.pk,
        attributes=list(sensitive_features),
        positive_label=positive_label,
        window_start=window_start,
        window_end=window_end,
    )
    exploratory = not audit_gates(sensitive_features, policy)
    counts = decision_group_counts(
        model_version_id=model_version.pk,
        attributes=list(sensitive_features),
        positive_label=positive_label,
        window_start=window_start,
        window_end=window_end,
    )
    result = compute_fairness(counts, policy=policy, seed=model_version.pk)
    with transaction.atomic():
        audit = FairnessAudit.objects.create(
            project_id=model_version.project_id,
            model_version=model_version,
            sensitive_features=list(sensitive_features),
            positive_label=positive_label,
            window_start=window_start,
            window_end=window_end,
            row_count=result["row_count"],
            overall=result["overall"],
            by_group=result["by_group"],
            small_groups=result["small_groups"],
            disparities=result["disparities"],
            policy=policy.snapshot(),
            bootstrap={**result["bootstrap"], "excluded_rows": result["excluded_rows"]},
            passed=result["passed"],
            failed_checks=result["failed_checks"],
            exploratory=exploratory,
            created_by_user=actor.user if actor.user is not None and actor.user.pk else None,
            created_by_key=actor.api_key,
        )
        audit_append(
            actor=actor,
            event_type=Event.FAIRNESS_AUDITED,
            target=audit,
            after={
                "model_version": model_version.pk,
                "sensitive_features": list(sensitive_features),
                "rows": result["row_count"],
                "passed": result["passed"],
                "exploratory": exploratory,
                "disparities": result["disparities"],
                "failed_checks": [c["check"] for c in result["failed_checks"]],
            },
        )
        if not audit.passed and not exploratory:  # an exploration never alerts (nor gates: see governance/gate.py)
            alert_raise(
                actor=actor,
                project_id=model_version.project_id,
                alert_type="fairness.audit_failed",
                target=audit,
                payload={
                    "model_version": model_version.pk,
                    "fairness_audit": audit.pk,
                    "failed_checks": [c["message"] for c in result["failed_checks"]],
                },
            )
    return audit
