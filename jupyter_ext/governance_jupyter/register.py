"""Registering data versions, runs and model versions from pandas DataFrames and scikit-learn estimators.

    from governance_jupyter import register_dataset_version, register_run, register_model_version

    dv = register_dataset_version(train_df, dataset="arrests", subject_column="id", legal_basis="public task")
    run = register_run(name="logreg", estimator=clf, metrics={"auc": 0.81}, inputs=[(dv["id"], "train")])
    mv = register_model_version(clf, model="arrests-release", run=run["id"])

`register_training` does all three at once (what `%governance register-run` and the sidebar call).
Everything goes through the REST API; raw subject ids are sent only to be pseudonymised by the service.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypedDict

from .artifacts import artifact_dir, save_model
from .client import GovernanceClient
from .context import environment, git_info, notebook_path
from .errors import GovernanceError
from .hashing import dataframe_schema, dataframe_sha256
from .profiles import dataframe_profile

if TYPE_CHECKING:
    import pandas as pd

RUN_MIME = "application/vnd.governance.run+json"


class RunRecord(TypedDict):
    """What the notebook keeps under `metadata.governance.runs` (published as RUN_MIME)."""

    run_id: int
    run_name: str
    model_version_id: int | None
    model: str | None
    version: int | None
    data_version_id: int | None
    notebook_path: str
    git_commit: str


def _client(client: GovernanceClient | None, project: str | None) -> GovernanceClient:
    return client if client is not None else GovernanceClient(project=project)


def json_safe(value: Any) -> Any:
    """Numpy scalars to Python, non-finite floats to strings, anything else unusual to its repr."""
    if hasattr(value, "item") and not isinstance(value, (str, bytes)) and getattr(value, "ndim", 0) == 0:
        value = value.item()
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, (list, tuple)) and all(isinstance(v, (bool, int, float, str, type(None))) for v in value):
        return [json_safe(v) for v in value]
    return repr(value)


def estimator_params(estimator: Any) -> dict[str, Any]:
    """`estimator` (its qualified class name) and its `get_params(deep=True)`, flattened to JSON scalars."""
    cls = type(estimator)
    params: dict[str, Any] = {"estimator": f"{cls.__module__}.{cls.__qualname__}"}
    get_params = getattr(estimator, "get_params", None)
    if callable(get_params):
        params.update({str(k): json_safe(v) for k, v in sorted(get_params(deep=True).items())})
    return params


def clean_metrics(metrics: Mapping[str, Any] | None) -> dict[str, float | int | list[float]]:
    """Metrics as the service takes them: a number, or a list of numbers (a step series), per name."""
    out: dict[str, Any] = {}
    for name, value in (metrics or {}).items():
        if hasattr(value, "tolist"):
            value = value.tolist()
        if isinstance(value, (list, tuple)):
            series = [json_safe(v) for v in value]
            if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in series):
                raise GovernanceError(f"metric {name!r}: a series must hold numbers only")
            out[str(name)] = series
            continue
        value = json_safe(value)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise GovernanceError(f"metric {name!r} must be a number or a list of numbers, got {type(value).__name__}")
        out[str(name)] = value
    return out


def subject_ids(series: pd.Series) -> list[str | int]:
    """The raw ids of a subject column as strings or integers. Says how many are missing, never which."""
    import pandas as pd

    missing = int(series.isna().sum())
    if missing:
        raise GovernanceError(f"subject column {series.name!r} has {missing} missing values")
    if pd.api.types.is_bool_dtype(series):
        raise GovernanceError(f"subject column {series.name!r} is boolean; subject ids are strings or integers")
    if pd.api.types.is_integer_dtype(series):
        return [int(v) for v in series.tolist()]
    if pd.api.types.is_float_dtype(series):
        values = series.tolist()
        if all(float(v).is_integer() for v in values):
            return [int(v) for v in values]
    return [str(v) for v in series.tolist()]


# -- data versions --------------------------------------------------------------------------------


def register_dataset_version(
    df: pd.DataFrame,
    *,
    dataset: str,
    version: str | None = None,
    subject_column: str | None = None,
    profile_columns: Sequence[str] | None = None,
    contains_personal_data: bool | None = None,
    legal_basis: str = "",
    description: str = "",
    storage_uri: str = "",
    parents: Iterable[int] = (),
    transformation: str = "",
    project: str | None = None,
    client: GovernanceClient | None = None,
) -> dict:
    """Register (or find) an immutable data version of `df` in dataset `dataset` (created if needed).

    The content hash and schema are the service's canonical ones; the profile (the drift reference)
    covers `profile_columns` (default: every column but the subject column, whose raw ids never leave
    the client except to be pseudonymised). With `subject_column`, the column's ids are indexed.
    Without `version`, the version is named after the content hash, and registering the same content
    again returns the existing version instead of failing.
    """
    client = _client(client, project)
    project = project or client.project()
    if subject_column is not None and subject_column not in df.columns:
        raise GovernanceError(f"no column {subject_column!r} in the DataFrame (subject column)")
    content_sha256 = dataframe_sha256(df)
    personal = subject_column is not None if contains_personal_data is None else contains_personal_data
    ds = client.dataset(
        dataset, contains_personal_data=personal, legal_basis=legal_basis, description=description, project=project
    )
    lookup = (
        {"dataset": ds["id"], "version": version}
        if version
        else {"dataset": ds["id"], "content_sha256": content_sha256}
    )
    found = client.find_one("data-versions/", lookup)
    if found is not None and found["content_sha256"] == content_sha256:
        data_version = found
    else:
        if profile_columns is None:
            profile_columns = [c for c in df.columns if c != subject_column]
        missing = [c for c in profile_columns if c not in df.columns]
        if missing:
            raise GovernanceError(f"profile columns not in the DataFrame: {', '.join(map(str, missing))}")
        body: dict[str, Any] = {
            "dataset": ds["id"],
            "version": version or f"sha256-{content_sha256[:12]}",
            "content_sha256": content_sha256,
            "row_count": int(len(df)),
            "schema": dataframe_schema(df),
            "profile": dataframe_profile(df[list(profile_columns)]) if len(profile_columns) else None,
            "storage_uri": storage_uri,
            "parents": [int(p) for p in parents],
        }
        if transformation:
            body["transformation"] = transformation
        data_version = client.post("data-versions/", body)
    if subject_column is not None:
        ids = subject_ids(df[subject_column])
        unique = len(set(ids))
        if (data_version.get("subject_count") or 0) < unique:
            client.index_subjects(data_version["id"], ids)
            data_version = client.get(f"data-versions/{int(data_version['id'])}/")
    return data_version


# -- runs -----------------------------------------------------------------------------------------


def _inputs(inputs: Iterable[Any]) -> list[dict[str, Any]]:
    out = []
    for item in inputs:
        if isinstance(item, Mapping):
            out.append({"data_version": int(item["data_version"]), "role": str(item.get("role", "train"))})
        elif isinstance(item, (tuple, list)):
            out.append({"data_version": int(item[0]), "role": str(item[1]) if len(item) > 1 else "train"})
        else:
            out.append({"data_version": int(item), "role": "train"})
    return out


def register_run(
    *,
    name: str,
    estimator: Any = None,
    params: Mapping[str, Any] | None = None,
    metrics: Mapping[str, Any] | None = None,
    inputs: Iterable[Any] = (),
    notebook: str | None = None,
    git_directory: str | os.PathLike | None = None,
    env: Mapping[str, str] | None = None,
    source: str = "notebook",
    status: str = "finished",
    project: str | None = None,
    client: GovernanceClient | None = None,
) -> dict:
    """Register a training run: params (the estimator's and yours), metrics, input data versions
    (`[(data_version_id, role)]` or dicts), notebook path, git commit/branch/dirty, environment.
    """
    client = _client(client, project)
    project = project or client.project()
    git = git_info(git_directory, ignore=(artifact_dir(),))
    all_params = estimator_params(estimator) if estimator is not None else {}
    all_params.update({str(k): json_safe(v) for k, v in (params or {}).items()})
    body = {
        "project": project,
        "name": name,
        "params": all_params,
        "metrics": clean_metrics(metrics),
        "inputs": _inputs(inputs),
        "git_commit": git.commit,
        "git_branch": git.branch,
        "git_dirty": git.dirty,
        "notebook_path": notebook if notebook is not None else (notebook_path() or ""),
        "environment": dict(env) if env is not None else environment(estimator),
        "status": status,
        "source": source,
    }
    return client.post("runs/", body)


# -- model versions -------------------------------------------------------------------------------


def _framework(estimator: Any) -> str:
    module = type(estimator).__module__.split(".")[0]
    env = environment(estimator)
    dist = {"sklearn": "scikit-learn"}.get(module, module)
    return f"{dist} {env[dist]}" if dist in env else dist


def _signature(estimator: Any, feature_names: Sequence[str] | None, df: pd.DataFrame | None) -> dict:
    names = list(feature_names) if feature_names is not None else None
    if names is None and hasattr(estimator, "feature_names_in_"):
        names = [str(n) for n in estimator.feature_names_in_]
    signature: dict[str, Any] = {}
    if names is not None:
        dtypes = {c: str(df[c].dtype) for c in names if c in df.columns} if df is not None else {}
        signature["inputs"] = {n: dtypes.get(n, "") for n in names}
    classes = getattr(estimator, "classes_", None)
    if classes is not None:
        signature["output"] = {"classes": [json_safe(c) for c in list(classes)]}
    return signature


def register_model_version(
    estimator: Any,
    *,
    model: str,
    run: int | Mapping[str, Any],
    metrics: Mapping[str, Any] | None = None,
    framework: str | None = None,
    signature: Mapping[str, Any] | None = None,
    feature_names: Sequence[str] | None = None,
    intended_use: str = "",
    limitations: str = "",
    risk_tier: str | None = None,
    description: str = "",
    artifact_directory: str | os.PathLike | None = None,
    project: str | None = None,
    client: GovernanceClient | None = None,
) -> dict:
    """Save the estimator (joblib, to GOVERNANCE_ARTIFACT_DIR), hash it, and register a new version of
    `model` (created if needed) from `run`.
    """
    client = _client(client, project)
    project = project or client.project()
    run_id = int(run["id"]) if isinstance(run, Mapping) else int(run)
    mdl = client.model(model, risk_tier=risk_tier, description=description, project=project)
    artifact = save_model(estimator, model, directory=artifact_directory)
    body = {
        "model": mdl["id"],
        "run": run_id,
        "artifact_uri": artifact.uri,
        "artifact_sha256": artifact.sha256,
        "framework": framework or _framework(estimator),
        "metrics": clean_metrics(metrics),
        "signature": dict(signature) if signature is not None else _signature(estimator, feature_names, None),
        "intended_use": intended_use,
        "limitations": limitations,
    }
    return client.post("model-versions/", body)


# -- all three ------------------------------------------------------------------------------------


def register_training(
    estimator: Any,
    df: pd.DataFrame,
    *,
    target: str | None = None,
    subject_column: str | None = None,
    dataset: str,
    model: str,
    metrics: Mapping[str, Any] | None = None,
    run_name: str | None = None,
    data_version: str | None = None,
    role: str = "train",
    legal_basis: str = "",
    params: Mapping[str, Any] | None = None,
    intended_use: str = "",
    limitations: str = "",
    risk_tier: str | None = None,
    project: str | None = None,
    client: GovernanceClient | None = None,
) -> dict[str, Any]:
    """Data version of `df` -> run -> model version, in that order (the version with its model card: intended
    use, limitations and, for the model, the risk tier). Returns the three service records and
    the `record` the notebook keeps (RunRecord).

    The profile (drift reference) and the signature cover the model's features: the estimator's
    `feature_names_in_` when it has them, else every column but the target and the subject column.
    """
    client = _client(client, project)
    project = project or client.project()
    for label, column in (("target", target), ("subject column", subject_column)):
        if column is not None and column not in df.columns:
            raise GovernanceError(f"no column {column!r} in the DataFrame ({label})")
    if hasattr(estimator, "feature_names_in_"):
        features = [str(n) for n in estimator.feature_names_in_]
    else:
        features = [c for c in df.columns if c not in (target, subject_column)]
    profile_columns = [c for c in features if c in df.columns and c != subject_column]
    notebook = notebook_path() or ""
    dv = register_dataset_version(
        df,
        dataset=dataset,
        version=data_version,
        subject_column=subject_column,
        profile_columns=profile_columns,
        legal_basis=legal_basis,
        project=project,
        client=client,
    )
    run_params = {"features": ",".join(features), **({"target": target} if target else {}), **(params or {})}
    run = register_run(
        name=run_name or f"{model}: {type(estimator).__name__} on {dataset}",
        estimator=estimator,
        params=run_params,
        metrics=metrics,
        inputs=[(dv["id"], role)],
        notebook=notebook,
        project=project,
        client=client,
    )
    signature = _signature(estimator, features, df)
    if target is not None:
        signature.setdefault("output", {})["target"] = target
    mv = register_model_version(
        estimator,
        model=model,
        run=run["id"],
        metrics=metrics,
        signature=signature,
        intended_use=intended_use,
        limitations=limitations,
        risk_tier=risk_tier,
        project=project,
        client=client,
    )
    if risk_tier and mv.get("risk_tier") != risk_tier:  # the model existed with another tier: the card sets it
        mv = client.model_version_card(mv["id"], risk_tier=risk_tier)
    record: RunRecord = {
        "run_id": run["id"],
        "run_name": run["name"],
        "model_version_id": mv["id"],
        "model": model,
        "version": mv["version"],
        "data_version_id": dv["id"],
        "notebook_path": run.get("notebook_path", notebook),
        "git_commit": run.get("git_commit", ""),
    }
    return {"run": run, "model_version": mv, "data_version": dv, "record": record}


def summary(record: RunRecord, url: str) -> str:
    parts = [f"run {record['run_id']} ({record['run_name']})"]
    if record.get("model_version_id") is not None:
        parts.append(f"model {record['model']} version {record['version']} (id {record['model_version_id']})")
    if record.get("data_version_id") is not None:
        parts.append(f"data version {record['data_version_id']}")
    text = "registered " + ", ".join(parts) + f" at {url}"
    if record.get("git_commit"):
        text += f"; git {record['git_commit'][:12]}"
    return text
