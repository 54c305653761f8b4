"""Live performance metrics from (score, outcome) pairs: no database access."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_auc_score


def auc(pairs: list[tuple[float, object]], positive_label: object) -> float | None:
    """ROC AUC of the scores against outcomes equal to `positive_label`; None without a positive label, with
    fewer than two pairs, or when the outcomes hold one class only (AUC is then undefined)."""
    if positive_label is None or len(pairs) < 2:
        return None
    scores = np.array([s for s, _ in pairs], dtype=float)
    truth = np.array([o == positive_label for _, o in pairs], dtype=int)
    if truth.min() == truth.max():
        return None  # one class only: AUC is undefined
    return float(roc_auc_score(truth, scores))
