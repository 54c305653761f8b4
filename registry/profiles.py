r"""Reference profiles of data versions (`DataVersion.profile`), the drift reference.

The service never needs the raw training data: a client (the demo, the notebook client) computes
this profile from a pandas DataFrame and registers it with the data version. Format
`gov-profile-v1`:

    {"format": "gov-profile-v1", "row_count": N, "columns": {NAME: COLUMN, ...}}

A numeric column (bool excluded):

    {"kind": "numeric", "count": non-missing values, "missing": missing values,
     "bin_edges": [e0, ..., ek],   # quantile edges (0, 1/k, ..., 1), duplicates dropped
     "bin_counts": [c1, ..., ck],  # values in [e(i-1), e(i)), the last bin closed on the right
     "sample": [...],              # a uniform random sample of at most 5,000 values (seeded)
     "min", "max", "mean", "std"}

Any other column is categorical (values as strings):

    {"kind": "categorical", "count", "missing",
     "frequencies": {VALUE: COUNT, ...}}   # the 100 most frequent; the rest summed as "__other__"

Comparing a window of logged decisions with it (governance.statistics.drift): a numeric value below e0 falls
in the first bin, above ek in the last.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

PROFILE_FORMAT = "gov-profile-v1"
DEFAULT_BINS = 10
SAMPLE_SIZE = 5000
MAX_CATEGORIES = 100
OTHER = "__other__"


def _numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def numeric_profile(values: np.ndarray, *, bins: int = DEFAULT_BINS, seed: int = 0, missing: int = 0) -> dict:
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        return {"kind": "numeric", "count": 0, "missing": missing, "bin_edges": [], "bin_counts": [], "sample": []}
    edges = np.unique(np.quantile(values, np.linspace(0, 1, bins + 1)))
    if edges.size == 1:  # a constant column: one bin
        edges = np.array([edges[0], edges[0]])
    counts = bin_counts(values, edges)
    rng = np.random.default_rng(seed)
    sample = values if values.size <= SAMPLE_SIZE else rng.choice(values, SAMPLE_SIZE, replace=False)
    return {
        "kind": "numeric",
        "count": int(values.size),
        "missing": int(missing),
        "bin_edges": [float(e) for e in edges],
        "bin_counts": [int(c) for c in counts],
        "sample": [float(v) for v in sample],
        "min": float(values.min()),
        "max": float(values.max()),
        "mean": float(values.mean()),
        "std": float(values.std(ddof=1)) if values.size > 1 else 0.0,
    }


def bin_counts(values: np.ndarray, edges: np.ndarray | list[float]) -> np.ndarray:
    """Counts per bin of the profile's edges; values outside the edges go to the first or last bin."""
    edges = np.asarray(edges, dtype=float)
    nbins = max(len(edges) - 1, 1)
    # bin i holds [e(i), e(i+1)); searchsorted on the inner edges, the last bin closed on the right
    index = np.searchsorted(edges[1:-1], np.asarray(values, dtype=float), side="right")
    return np.bincount(np.clip(index, 0, nbins - 1), minlength=nbins)


def categorical_profile(values: pd.Series, *, missing: int = 0) -> dict:
    counts = values.astype(str).value_counts()
    top = counts.iloc[:MAX_CATEGORIES]
    frequencies = {str(k): int(v) for k, v in top.items()}
    rest = int(counts.iloc[MAX_CATEGORIES:].sum())
    if rest:
        frequencies[OTHER] = rest
    return {"kind": "categorical", "count": int(counts.sum()), "missing": int(missing), "frequencies": frequencies}


def dataframe_profile(df: pd.DataFrame, *, bins: int = DEFAULT_BINS, seed: int = 0) -> dict:
    """The reference profile of a DataFrame (see this module's docstring for the format)."""
    columns = {}
    for name in df.columns:
        series = df[name]
        present = series.dropna()
        missing = int(series.isna().sum())
        if _numeric(series):
            columns[str(name)] = numeric_profile(present.to_numpy(), bins=bins, seed=seed, missing=missing)
        else:
            columns[str(name)] = categorical_profile(present, missing=missing)
    return {"format": PROFILE_FORMAT, "row_count": int(len(df)), "columns": columns}
