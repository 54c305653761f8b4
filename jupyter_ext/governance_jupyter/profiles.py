"""The service's reference profile format (`gov-profile-v1`, the drift reference), without Django.

Same definition as the service's registry/profiles.py (a test asserts equality on a real data set):

    {"format": "gov-profile-v1", "row_count": N, "columns": {NAME: COLUMN, ...}}

numeric columns (bool excluded): count, missing, quantile bin_edges (duplicates dropped), bin_counts,
a seeded sample of at most 5,000 values, min, max, mean, std; any other column is categorical:
count, missing, the 100 most frequent values (as strings) with the rest summed as "__other__".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

PROFILE_FORMAT = "gov-profile-v1"
DEFAULT_BINS = 10
SAMPLE_SIZE = 5000
MAX_CATEGORIES = 100
OTHER = "__other__"


def _numeric(series: pd.Series) -> bool:
    import pandas as pd

    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def _bin_counts(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    import numpy as np

    nbins = max(len(edges) - 1, 1)
    index = np.searchsorted(edges[1:-1], np.asarray(values, dtype=float), side="right")
    return np.bincount(np.clip(index, 0, nbins - 1), minlength=nbins)


def numeric_profile(values: Any, *, bins: int = DEFAULT_BINS, seed: int = 0, missing: int = 0) -> dict:
    import numpy as np

    values = np.asarray(values, dtype=float)
    if values.size == 0:
        return {"kind": "numeric", "count": 0, "missing": missing, "bin_edges": [], "bin_counts": [], "sample": []}
    edges = np.unique(np.quantile(values, np.linspace(0, 1, bins + 1)))
    if edges.size == 1:
        edges = np.array([edges[0], edges[0]])
    counts = _bin_counts(values, edges)
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


def categorical_profile(values: pd.Series, *, missing: int = 0) -> dict:
    counts = values.astype(str).value_counts()
    frequencies = {str(k): int(v) for k, v in counts.iloc[:MAX_CATEGORIES].items()}
    rest = int(counts.iloc[MAX_CATEGORIES:].sum())
    if rest:
        frequencies[OTHER] = rest
    return {"kind": "categorical", "count": int(counts.sum()), "missing": int(missing), "frequencies": frequencies}


def dataframe_profile(df: pd.DataFrame, *, bins: int = DEFAULT_BINS, seed: int = 0) -> dict:
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
