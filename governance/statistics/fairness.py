"""Fairness figures from decision counts: fairlearn's MetricFrame per group, the disparities, the policy's
checks and bootstrap intervals. Functions of the counts only (no database): the counts come from
`governance.queries.fairness.decision_group_counts`.

MetricFrame runs on the few (group, y_true, y_pred) combinations with their counts as `sample_weight`,
which gives the same figures as running it on every row. Bootstrap intervals resample the counts
(multinomial), vectorised in numpy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
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

from registry.errors import field_error

if TYPE_CHECKING:
    from governance.models import Policy

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
    intervals = bootstrap_intervals(frame, attributes, seed=seed)
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


def bootstrap_intervals(frame: pd.DataFrame, attributes: list[str], *, seed: int) -> dict[tuple, dict[str, list]]:
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
