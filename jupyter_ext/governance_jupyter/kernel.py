"""Called by the sidebar inside the notebook's kernel; each function prints exactly one line of JSON.

import governance_jupyter.kernel as _g; _g.list_candidates()
import governance_jupyter.kernel as _g; _g.register_from_sidebar('{"model": "clf", "data": "df", ...}')
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import Any

from .errors import GovernanceError


def _namespace() -> Mapping[str, Any]:
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - the sidebar always runs inside IPython
        return {}
    shell = get_ipython()
    return shell.user_ns if shell is not None else {}


def _emit(payload: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(payload, default=str, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def candidates(namespace: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """DataFrames and scikit-learn estimators (fitted or not) among the notebook's public variables."""
    dataframes: list[dict[str, Any]] = []
    estimators: list[dict[str, Any]] = []
    pd = sys.modules.get("pandas")
    base = getattr(sys.modules.get("sklearn.base"), "BaseEstimator", None)
    for name, value in list(namespace.items()):
        if name.startswith("_") or isinstance(value, type):
            continue
        if pd is not None and isinstance(value, pd.DataFrame):
            dataframes.append({"name": name, "rows": int(len(value)), "columns": [str(c) for c in value.columns]})
        elif base is not None and isinstance(value, base):
            cls = type(value)
            estimators.append({"name": name, "class": f"{cls.__module__}.{cls.__qualname__}"})
    dataframes.sort(key=lambda d: d["name"])
    estimators.sort(key=lambda e: e["name"])
    return {"dataframes": dataframes, "estimators": estimators}


def list_candidates() -> None:
    _emit(candidates(_namespace()))


def register_from_sidebar(options_json: str) -> None:
    """Same registration as `%governance register-run`; prints `{"ok": true, "run", "model_version",
    "data_version"}` or `{"ok": false, "error"}`."""
    from .magics import register_from_namespace

    try:
        options = json.loads(options_json)
    except ValueError as exc:
        _emit({"ok": False, "error": f"invalid options (not JSON): {exc}"})
        return
    try:
        if not isinstance(options, dict):
            raise GovernanceError("options must be a JSON object")
        for required in ("model", "data"):
            if not options.get(required):
                raise GovernanceError(f"{required!r} is required")
        metrics = options.get("metrics") or {}
        if not isinstance(metrics, dict):
            raise GovernanceError("metrics must be an object (name -> number)")
        result = register_from_namespace(
            _namespace(),
            model=str(options["model"]),
            data=str(options["data"]),
            target=options.get("target") or None,
            subject_column=options.get("subject_column") or None,
            metrics=metrics,
            dataset=options.get("dataset") or None,
            model_name=options.get("model_name") or None,
            run_name=options.get("run_name") or None,
            data_version=options.get("data_version") or None,
            role=options.get("role") or "train",
            intended_use=options.get("intended_use") or None,
            limitations=options.get("limitations") or None,
            risk_tier=options.get("risk_tier") or None,
            legal_basis=options.get("legal_basis") or "",
            project=options.get("project") or None,
        )
    except GovernanceError as exc:
        payload: dict[str, Any] = {"ok": False, "error": str(exc)}
        fields = getattr(exc, "fields", None)
        if fields:
            payload["fields"] = fields
        _emit(payload)
        return
    except Exception as exc:  # noqa: BLE001 - the sidebar shows the reason rather than a traceback
        _emit({"ok": False, "error": f"{type(exc).__name__}: {exc}"})
        return
    _emit(
        {
            "ok": True,
            "run": result["run"],
            "model_version": result["model_version"],
            # the profile (up to 5,000 sampled values per column) stays out of the sidebar's one line
            "data_version": {k: v for k, v in result["data_version"].items() if k != "profile"},
            "record": result["record"],
        }
    )
