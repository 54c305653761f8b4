"""Our records in MLflow's JSON shapes (the full shapes, so that MLflow's UI, `MlflowClient` readers and
`search_runs` DataFrames find the fields they read), and MLflow's enum names for our choices."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime

from registry import services
from registry.models import DataVersion, Experiment, LoggedModel, MetricPoint, ModelVersion, Run, RunInput, Stage

RUN_STATUS = {
    Run.Status.RUNNING: "RUNNING",
    Run.Status.FINISHED: "FINISHED",
    Run.Status.FAILED: "FAILED",
    Run.Status.KILLED: "KILLED",
}
RUN_STATUS_IN = {"RUNNING": Run.Status.RUNNING, "SCHEDULED": Run.Status.RUNNING} | {
    name: status for status, name in RUN_STATUS.items()
}
STAGE = {Stage.NONE: "None", Stage.STAGING: "Staging", Stage.PRODUCTION: "Production", Stage.ARCHIVED: "Archived"}
STAGE_IN = {name.lower(): stage for stage, name in STAGE.items()}
LOGGED_MODEL_STATUS = {
    LoggedModel.Status.PENDING: "LOGGED_MODEL_PENDING",
    LoggedModel.Status.READY: "LOGGED_MODEL_READY",
    LoggedModel.Status.FAILED: "LOGGED_MODEL_UPLOAD_FAILED",
}
LOGGED_MODEL_STATUS_IN = {name: status for status, name in LOGGED_MODEL_STATUS.items()}


def ms(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp() * 1000)


def from_ms(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, tz=UTC)


def number(value: float | None) -> float | str:
    """A double as protobuf's JSON writes it: NaN and the infinities as strings."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def key_values(mapping: dict) -> list[dict]:
    return [{"key": key, "value": str(value)} for key, value in mapping.items()]


def experiment_json(experiment: Experiment) -> dict:
    return {
        "experiment_id": str(experiment.number),
        "name": experiment.name,
        "artifact_location": f"mlflow-artifacts:/{experiment.number}",
        "lifecycle_stage": "active",
        "creation_time": ms(experiment.created_at),
        "last_update_time": ms(experiment.created_at),
        "tags": key_values(experiment.tags),
    }


def run_artifact_uri(run: Run) -> str:
    return f"mlflow-artifacts:/{run.experiment.number}/{run.run_uuid}/artifacts"


def run_info_json(run: Run) -> dict:
    """A run's info; `run` comes with its experiment."""
    return {
        "run_id": run.run_uuid,
        "run_uuid": run.run_uuid,
        "run_name": run.name,
        "experiment_id": str(run.experiment.number),
        "user_id": run.user_name,
        "status": RUN_STATUS.get(run.status, "FINISHED"),
        "start_time": ms(run.started_at or run.created_at),
        "end_time": ms(run.ended_at),
        "artifact_uri": run_artifact_uri(run),
        "lifecycle_stage": "active",
    }


def run_json(run: Run, *, started: bool = False) -> dict:
    """A run with its data, inputs and outputs; `run` comes with its experiment, input links (and their data
    versions and datasets) and logged models prefetched when many are shaped. A run just `started` has no
    inputs or outputs yet (nothing is read for them)."""
    steps = run.metric_steps or {}
    metrics = []
    for key, value in run.metrics.items():
        step, timestamp = steps.get(key, [0, ms(run.created_at)])
        metrics.append({"key": key, "value": number(value), "timestamp": timestamp, "step": step})
    links = () if started else run.input_links.all()
    models = () if started else run.logged_models.all()
    return {
        "info": run_info_json(run),
        "data": {"params": key_values(run.params), "metrics": metrics, "tags": key_values(run.tags)},
        "inputs": {"dataset_inputs": [dataset_input_json(link) for link in links], "model_inputs": []},
        "outputs": {"model_outputs": [{"model_id": m.model_id, "step": 0} for m in models]},
    }


def dataset_input_json(link: RunInput) -> dict:
    version: DataVersion = link.data_version
    dataset = version.dataset
    source = {"uri": dataset.source_uri or version.storage_uri} if (dataset.source_uri or version.storage_uri) else {}
    return {
        "tags": [{"key": "mlflow.data.context", "value": link.role}],
        "dataset": {
            "name": dataset.name,
            "digest": version.digest or version.content_sha256[:8] or version.version,
            "source_type": (dataset.source_uri.split(":", 1)[0] if ":" in dataset.source_uri else "code"),
            "source": json.dumps(source),
            "schema": json.dumps(version.schema),
            "profile": json.dumps(version.profile or {"num_rows": version.row_count}),
        },
    }


def metric_json(point: MetricPoint) -> dict:
    out = {"key": point.key, "value": number(point.value), "timestamp": point.timestamp, "step": point.step}
    if point.model_ref:
        out["model_id"] = point.model_ref
    if point.dataset_name:
        out["dataset_name"] = point.dataset_name
        out["dataset_digest"] = point.dataset_digest
    return out


def logged_model_json(model: LoggedModel) -> dict:
    registrations = [
        {"name": version.model.name, "version": str(version.version)} for version in model.model_versions.all()
    ]
    return {
        "info": {
            "model_id": model.model_id,
            "experiment_id": str(model.experiment.number),
            "name": model.name,
            "artifact_uri": f"mlflow-artifacts:/{services.logged_model_prefix(model)}",
            "creation_timestamp_ms": ms(model.created_at),
            "last_updated_timestamp_ms": ms(model.finalized_at or model.created_at),
            "model_type": model.model_type,
            "source_run_id": model.run.run_uuid if model.run is not None else "",
            "status": LOGGED_MODEL_STATUS[model.status],
            "tags": key_values(model.tags),
            "registrations": registrations,
        },
        "data": {"params": key_values(model.params), "metrics": []},
    }


def model_version_json(version: ModelVersion) -> dict:
    logged = version.logged_model
    return {
        "name": version.model.name,
        "version": str(version.version),
        "creation_timestamp": ms(version.created_at),
        "last_updated_timestamp": ms(version.created_at),
        "current_stage": STAGE.get(version.stage, "None"),
        "description": version.intended_use,
        "source": f"models:/{logged.model_id}" if logged is not None else version.artifact_uri,
        "run_id": version.run.run_uuid or "",
        "status": "READY",
        "tags": [],
        "aliases": [alias.name for alias in version.aliases.all()],
        "model_id": logged.model_id if logged is not None else "",
        "run_link": "",
    }


def registered_model_json(model, versions: list[ModelVersion]) -> dict:
    latest: dict[str, ModelVersion] = {}
    for version in versions:
        stage = STAGE.get(version.stage, "None")
        if stage not in latest or version.version > latest[stage].version:
            latest[stage] = version
    return {
        "name": model.name,
        "creation_timestamp": ms(model.created_at),
        "last_updated_timestamp": ms(max((v.created_at for v in versions), default=model.created_at)),
        "description": model.description,
        "latest_versions": [model_version_json(v) for v in sorted(latest.values(), key=lambda v: v.version)],
        "tags": [],
        "aliases": [
            {"alias": alias.name, "version": str(alias.model_version.version)} for alias in model.aliases.all()
        ],
    }
