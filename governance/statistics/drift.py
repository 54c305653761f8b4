"""Data drift: a window of logged decisions' features against the training data version's profile.

Per feature: the population stability index (PSI) over the profile's bins (numeric: its quantile
bins; categorical: its categories), the Jensen-Shannon distance (base 2, so within 0..1) of the
same two distributions, and for numerics the two-sample Kolmogorov-Smirnov statistic and p-value
(scipy.stats.ks_2samp) of the window's values against the profile's stored sample. A feature has
drifted when its PSI exceeds the project policy's `max_psi`.

PSI = sum((a - e) * ln(a / e)) over the bins, with e and a the reference and window shares, each
floored at 1e-4 so that an empty bin counts as rare rather than infinitely surprising.

Functions of counts and samples only (no database): the window's summary comes from
`governance.queries.drift.window_summary`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.spatial.distance import jensenshannon
from scipy.stats import ks_2samp

from registry.profiles import OTHER, bin_counts

PSI_FLOOR = 1e-4


def psi(reference_counts, window_counts) -> float:
    e = np.asarray(reference_counts, dtype=float)
    a = np.asarray(window_counts, dtype=float)
    e = np.maximum(e / e.sum(), PSI_FLOOR)
    a = np.maximum(a / a.sum(), PSI_FLOOR)
    return float(np.sum((a - e) * np.log(a / e)))


def js_distance(reference_counts, window_counts) -> float:
    e = np.asarray(reference_counts, dtype=float)
    a = np.asarray(window_counts, dtype=float)
    return float(jensenshannon(e / e.sum(), a / a.sum(), base=2))


@dataclass
class WindowFeature:
    """What the window holds of one feature: all that `compare_feature` needs."""

    present: int = 0  # values that are not null
    numbers: int = 0  # numeric: how many of them are numbers
    bins: list[int] = field(default_factory=list)  # numeric: those numbers in the profile's bins
    mean: float | None = None  # numeric: the mean of `sample`
    sample: np.ndarray = field(default_factory=lambda: np.empty(0))  # numeric: what KS compares
    sampled: bool = False  # numeric: `sample` is a sample of the numbers, not all of them
    counts: dict[str, int] = field(default_factory=dict)  # categorical: by str(value)


def summarise(reference: dict, values: list) -> WindowFeature:
    """One feature's window from its values (the Python path)."""
    if reference["kind"] == "numeric":
        numbers = np.array([v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)], dtype=float)
        return WindowFeature(
            present=len(values),
            numbers=int(numbers.size),
            bins=[int(c) for c in bin_counts(numbers, reference["bin_edges"])],
            mean=float(numbers.mean()) if numbers.size else None,
            sample=numbers,
        )
    counts: dict[str, int] = {}
    for value in values:
        counts[str(value)] = counts.get(str(value), 0) + 1
    return WindowFeature(present=len(values), counts=counts)


def compare_feature(reference: dict, window: WindowFeature, *, max_psi: float) -> dict:
    if not window.present:
        return {"kind": reference["kind"], "window_count": 0, "status": "absent from the window", "drifted": False}
    if reference["kind"] == "numeric":
        if window.numbers == 0 or not reference["bin_counts"]:
            return {"kind": "numeric", "window_count": 0, "status": "no numeric values in the window", "drifted": False}
        counts = window.bins
        ks = ks_2samp(np.asarray(reference["sample"], dtype=float), window.sample)
        result = {
            "kind": "numeric",
            "window_count": window.numbers,
            "reference_count": reference["count"],
            "bin_edges": reference["bin_edges"],
            "reference_bins": reference["bin_counts"],
            "window_bins": counts,
            "psi": psi(reference["bin_counts"], counts),
            "js_distance": js_distance(reference["bin_counts"], counts),
            "ks_statistic": float(ks.statistic),
            "ks_pvalue": float(ks.pvalue),
            "window_mean": window.mean,
            "reference_mean": reference.get("mean"),
        }
        if window.sampled:
            result["ks_window_sample"] = int(window.sample.size)
    else:
        known = reference["frequencies"]
        counted: dict[str, int] = {}
        for key, count in window.counts.items():
            key = key if key in known else (OTHER if OTHER in known else key)
            counted[key] = counted.get(key, 0) + count
        categories = sorted(set(known) | set(counted))
        ref = [known.get(c, 0) for c in categories]
        win = [counted.get(c, 0) for c in categories]
        result = {
            "kind": "categorical",
            "window_count": window.present,
            "reference_count": reference["count"],
            "categories": categories,
            "reference_frequencies": ref,
            "window_frequencies": win,
            "psi": psi(ref, win),
            "js_distance": js_distance(ref, win),
            "new_categories": [c for c in categories if c not in known],
        }
    result["drifted"] = result["psi"] > max_psi
    return result
