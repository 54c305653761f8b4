"""Explanations of decisions computed with `shap` (``pip install governance-jupyter[explain]``), in the shape the
service's decision ingest takes (`explanation` of each decision):

    explanations = shap_explanations(model, X, background=X_train, reason_codes={"checks": "R02"})
    decisions = attach_explanations(decisions, explanations)   # then POST /api/v1/decisions/bulk/

Each explanation holds the per-feature attributions of the model's score (SHAP values, one per column of `X`),
the explainer's base value, the library, its version and the method, and the reason codes of the features that
pushed the score down the most (the principal reasons of an adverse decision, ECOA / Regulation B), from a map
of feature -> code of the project's reason-code catalogue.

The score explained is, for a scikit-learn classifier, the probability of its positive class (the last of
`classes_`); for a fairlearn reduction (`ExponentiatedGradient`), the mixture of its predictors' probabilities
weighted as it randomizes; otherwise `model.predict`. Pass `score=` to explain another function of `X`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any


def _positive_probability(model: Any) -> Callable:
    def score(frame):
        proba = model.predict_proba(frame)
        return proba[:, len(model.classes_) - 1]

    return score


def _mixture_probability(model: Any) -> Callable:
    import numpy as np

    def score(frame):
        total = np.zeros(len(frame))
        for weight, predictor in zip(model.weights_, model.predictors_, strict=True):
            total += weight * predictor.predict_proba(frame)[:, len(predictor.classes_) - 1]
        return total

    return score


def model_score(model: Any) -> Callable:
    """The function of a DataFrame whose value is explained (see the module's docstring)."""
    if hasattr(model, "predictors_") and hasattr(model, "weights_"):
        return _mixture_probability(model)
    if hasattr(model, "predict_proba") and hasattr(model, "classes_"):
        return _positive_probability(model)
    return model.predict


def shap_explanations(
    model: Any,
    X: Any,
    *,
    background: Any = None,
    score: Callable | None = None,
    reason_codes: Mapping[str, str] | None = None,
    top: int = 3,
    background_size: int = 100,
    seed: int = 0,
) -> list[dict]:
    """One explanation per row of the DataFrame `X`, computed by shap's model-agnostic explainer over `score`
    (default: `model_score(model)`) with `background` (default: `X`; at most `background_size` rows, sampled
    with `seed`) as the masker's data."""
    import pandas as pd
    import shap

    if not isinstance(X, pd.DataFrame):
        raise TypeError("X must be a pandas DataFrame (its columns name the attributions)")
    function = score or model_score(model)
    columns, dtypes = list(X.columns), X.dtypes.to_dict()
    reference = X if background is None else background[columns]
    if len(reference) > background_size:
        reference = reference.sample(background_size, random_state=seed)
    # shap's tabular masker works on numbers: text and categorical columns go in as codes and come back out
    categories = {
        name: pd.Index(pd.concat([reference[name], X[name]]).dropna().unique())
        for name in columns
        if not pd.api.types.is_numeric_dtype(X[name]) or pd.api.types.is_bool_dtype(X[name])
    }

    def encoded(frame):
        return pd.DataFrame(
            {name: categories[name].get_indexer(frame[name]) if name in categories else frame[name] for name in columns}
        ).to_numpy(dtype=float)

    def on_frame(values):  # shap passes arrays of codes; the model wants the columns back, with their types
        frame = pd.DataFrame(values, columns=columns)
        for name, index in categories.items():
            frame[name] = index.take(frame[name].round().astype(int).clip(0, len(index) - 1)).to_numpy()
        return function(frame.astype(dtypes))

    masker = shap.maskers.Independent(encoded(reference), max_samples=background_size)
    explainer = shap.Explainer(on_frame, masker, algorithm="permutation", seed=seed)
    explained = explainer(encoded(X), silent=True)
    method = type(explainer).__name__.removesuffix("Explainer").lower() or "permutation"
    codes = dict(reason_codes or {})
    out = []
    for row in range(len(X)):
        values = [float(v) for v in explained.values[row]]
        attributions = dict(zip(columns, values, strict=True))
        explanation = {
            "attributions": attributions,
            "base_value": float(explained.base_values[row]),
            "library": "shap",
            "library_version": shap.__version__,
            "method": method,
        }
        if codes:
            against = sorted((value, name) for name, value in attributions.items() if value < 0 and name in codes)
            explanation["reason_codes"] = list(dict.fromkeys(codes[name] for _, name in against[:top]))
        out.append(explanation)
    return out


def attach_explanations(decisions: Sequence[dict], explanations: Sequence[dict]) -> list[dict]:
    """The decisions, each with its explanation (same order, same length), as new dicts."""
    if len(decisions) != len(explanations):
        raise ValueError(f"{len(decisions)} decisions but {len(explanations)} explanations")
    return [
        {**decision, "explanation": explanation} for decision, explanation in zip(decisions, explanations, strict=True)
    ]
