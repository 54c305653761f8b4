"""What every MLflow route shares: the roles, limits and lookups of records in the key's project."""

from __future__ import annotations

import re

from django.db.models import Prefetch
from django.utils import timezone

from interop.mlflow import search
from interop.mlflow.protocol import (
    ENDPOINT_NOT_FOUND,
    INVALID_PARAMETER_VALUE,
    PERMISSION_DENIED,
    RESOURCE_DOES_NOT_EXIST,
    Message,
    MlflowError,
    error_response,
)
from registry import services
from registry.models import (
    Experiment,
    LoggedModel,
    Model,
    ModelVersion,
    Project,
    Run,
    RunInput,
)
from registry.permissions import ALL_HUMAN_ROLES, REGISTRY_WRITERS, TRANSITIONERS

READ = ALL_HUMAN_ROLES
WRITE = REGISTRY_WRITERS
PROMOTE = TRANSITIONERS
MAX_MS = 253_402_300_799_999  # the end of year 9999
RUN_ID = re.compile(r"^[a-zA-Z0-9][\w\-]{0,255}$")
MAX_BATCH = {"metrics": 1000, "params": 100, "tags": 100}
MAX_RESULTS = 50_000
# MLflow's dataset contexts in our input roles; any other context is training data, the role that obliges a
# retraining when a subject is erased (the safe reading of an unknown word).
CONTEXT_ROLES = {
    "train": RunInput.Role.TRAIN,
    "training": RunInput.Role.TRAIN,
    "eval": RunInput.Role.VALIDATION,
    "evaluation": RunInput.Role.VALIDATION,
    "validation": RunInput.Role.VALIDATION,
    "val": RunInput.Role.VALIDATION,
    "test": RunInput.Role.TEST,
    "testing": RunInput.Role.TEST,
}
# `mlflow.*` run tags that fill our run fields
TAG_FIELDS = {
    "mlflow.user": "user_name",
    "mlflow.source.name": "source_name",
    "mlflow.source.git.commit": "git_commit",
    "mlflow.source.git.branch": "git_branch",
    "mlflow.runName": "name",
}


def find_experiment(actor, project: Project, experiment_id: str) -> Experiment:
    try:
        number = int(experiment_id)
    except ValueError:
        raise MlflowError(INVALID_PARAMETER_VALUE, f"experiment_id {experiment_id!r} is not an id") from None
    if number == Experiment.DEFAULT_NUMBER:
        return services.experiment_default(actor=actor, project=project)
    found = Experiment.objects.filter(project=project, number=number).first()
    if found is None:
        raise MlflowError(RESOURCE_DOES_NOT_EXIST, f"No Experiment with id={experiment_id} exists")
    return found


def find_run(project: Project, message: Message, *, names=("run_id", "run_uuid")) -> Run:
    run_id = message.first(*names, required=True)
    found = Run.objects.select_related("experiment").filter(project=project, run_uuid=run_id).first()
    if found is None:
        raise MlflowError(RESOURCE_DOES_NOT_EXIST, f"Run with id={run_id} not found")
    found.project = project  # the key's, already loaded: the services read run.project
    return found


def runs_for_json():
    return Run.objects.select_related("experiment").prefetch_related(
        Prefetch("input_links", queryset=RunInput.objects.select_related("data_version__dataset")),
        Prefetch("logged_models", queryset=LoggedModel.objects.only("model_id", "run_id")),
    )


def find_logged_model(project: Project, model_id: str) -> LoggedModel:
    found = (
        LoggedModel.objects.select_related("experiment", "run")
        .prefetch_related("model_versions__model")
        .filter(project=project, model_id=model_id)
        .first()
    )
    if found is None:
        raise MlflowError(RESOURCE_DOES_NOT_EXIST, f"Logged model with ID '{model_id}' not found")
    return found


def find_model(project: Project, name: str) -> Model:
    found = Model.objects.prefetch_related("aliases__model_version").filter(project=project, name=name).first()
    if found is None:
        raise MlflowError(RESOURCE_DOES_NOT_EXIST, f"Registered Model with name={name} not found")
    return found


def model_versions_of(model: Model):
    return list(
        ModelVersion.objects.select_related("model", "run", "logged_model")
        .prefetch_related("aliases")
        .filter(model=model)
        .order_by("version")
    )


def find_version(model: Model, version: str) -> ModelVersion:
    try:
        number = int(version)
    except ValueError:
        raise MlflowError(INVALID_PARAMETER_VALUE, f"version {version!r} must be a whole number") from None
    found = (
        ModelVersion.objects.select_related("model", "run", "logged_model")
        .prefetch_related("aliases")
        .filter(model=model, version=number)
        .first()
    )
    if found is None:
        raise MlflowError(RESOURCE_DOES_NOT_EXIST, f"Model Version (name={model.name}, version={version}) not found")
    return found


def search_page(name: str, items: list, message: Message, shape, *, default: int = 100) -> dict:
    """One page of a search answer: `max_results` items from `page_token` on, and the next token if any."""
    max_results = message.int64("max_results", default=default, low=1, high=MAX_RESULTS)
    chunk, token = search.page(items, max_results, message.str("page_token"))
    return {name: [shape(item) for item in chunk], **({"next_page_token": token} if token else {})}


def ms_field(message: Message, name: str, *, default: int | None = None) -> int | None:
    return message.int64(name, default=default, low=0, high=MAX_MS)


def now_ms() -> int:
    return int(timezone.now().timestamp() * 1000)


def run_fields_from_tags(project: Project, tags: dict[str, str]) -> dict:
    fields = {field: tags[tag] for tag, field in TAG_FIELDS.items() if tags.get(tag)}
    if tags.get("mlflow.source.type") == "NOTEBOOK" and tags.get("mlflow.source.name"):
        fields["notebook_path"] = tags["mlflow.source.name"][:1000]
    parent_id = tags.get("mlflow.parentRunId")
    if parent_id:
        parent = Run.objects.filter(project=project, run_uuid=parent_id).first()
        if parent is None:
            raise MlflowError(RESOURCE_DOES_NOT_EXIST, f"the parent run {parent_id} (mlflow.parentRunId) is not found")
        fields["parent"] = parent
    return fields


def require_role(key, roles) -> None:
    if key.role not in roles:
        raise MlflowError(PERMISSION_DENIED, f"the role {key.role} may not change this")


def not_built(request, rest: str = ""):
    return error_response(ENDPOINT_NOT_FOUND, f"no {request.method} {request.path} on this server")
