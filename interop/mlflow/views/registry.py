"""MLflow's model registry: registered models, versions, aliases (through the gate when protected), stages."""

from __future__ import annotations

import re

from interop.mlflow import search, shapes
from interop.mlflow.protocol import (
    INVALID_PARAMETER_VALUE,
    RESOURCE_ALREADY_EXISTS,
    RESOURCE_DOES_NOT_EXIST,
    MlflowError,
    endpoint,
)
from interop.mlflow.views.common import (
    MAX_RESULTS,
    PROMOTE,
    READ,
    WRITE,
    find_logged_model,
    find_model,
    find_run,
    find_version,
    model_versions_of,
    require_role,
)
from registry import services
from registry.errors import Conflict
from registry.models import (
    Artifact,
    LoggedModel,
    Model,
    ModelAlias,
    ModelVersion,
    Run,
)


@endpoint(methods={"POST"}, roles=WRITE)
def registered_model_create(request, actor, key, message):
    name = message.str("name", required=True, limit=200)
    try:
        model = services.model_create(
            actor=actor, project=key.project, name=name, description=message.str("description", limit=10_000)
        )
    except Conflict:
        raise MlflowError(RESOURCE_ALREADY_EXISTS, f"Registered Model (name={name}) already exists.") from None
    return {"registered_model": shapes.registered_model_json(find_model(key.project, model.name), [])}


@endpoint(methods={"GET"}, roles=READ)
def registered_model_get(request, actor, key, message):
    model = find_model(key.project, message.str("name", required=True))
    return {"registered_model": shapes.registered_model_json(model, model_versions_of(model))}


@endpoint(methods={"GET", "POST"}, roles=READ)
def registered_model_search(request, actor, key, message):
    clauses = search.parse_filter(message.str("filter"))
    models = [
        m
        for m in Model.objects.prefetch_related("aliases__model_version").filter(project=key.project).order_by("name")
        if search.matches(clauses, lambda f, n, m=m: m.name if n == "name" else None)
    ]
    chunk, token = search.page(
        models, message.int64("max_results", default=100, low=1, high=MAX_RESULTS), message.str("page_token")
    )
    return {
        "registered_models": [shapes.registered_model_json(m, model_versions_of(m)) for m in chunk],
        **({"next_page_token": token} if token else {}),
    }


@endpoint(methods={"GET", "POST"}, roles=READ)
def registered_model_latest_versions(request, actor, key, message):
    model = find_model(key.project, message.str("name", required=True))
    stages = (
        {s.lower() for s in (message.data.get("stages") or [])}
        if not message.from_query
        else {s.lower() for s in message.data.get("stages", [])}
    )
    latest = shapes.registered_model_json(model, model_versions_of(model))["latest_versions"]
    return {"model_versions": [v for v in latest if not stages or v["current_stage"].lower() in stages]}


@endpoint(methods={"GET", "POST"}, roles=READ)
def registered_model_alias(request, actor, key, message):
    model = find_model(key.project, message.str("name", required=True))
    alias_name = message.str("alias", required=True, limit=255)
    if request.method == "POST":
        require_role(key, PROMOTE)
        version = find_version(model, message.str("version", required=True))
        services.model_alias_set(actor=actor, model=model, name=alias_name, model_version=version)
        return {}
    alias = ModelAlias.objects.filter(model=model, name=alias_name).first()
    if alias is None:
        raise MlflowError(RESOURCE_DOES_NOT_EXIST, f"Registered model alias {alias_name} not found.")
    return {"model_version": shapes.model_version_json(find_version(model, str(alias.model_version.version)))}


def _flavor(project_id: int, prefix: str) -> str:
    """The framework named in a logged model's MLmodel file (`flavors:`), e.g. "sklearn 1.9.1"."""
    artifact = Artifact.objects.filter(project_id=project_id, path=f"{prefix}/MLmodel").first()
    if artifact is None or artifact.size > 1_000_000:
        return ""
    try:
        text = services.artifact_file(project_id, artifact.path).read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return ""
    flavor, version, inside = "", "", False
    for line in text.splitlines():
        if line.startswith("flavors:"):
            inside = True
            continue
        if inside and line and not line.startswith(" "):
            break
        match = re.match(r"^  ([A-Za-z0-9_]+):\s*$", line)
        if inside and match and match.group(1) != "python_function" and not flavor:
            flavor = match.group(1)
            continue
        found = re.match(rf"^    {re.escape(flavor)}_version:\s*['\"]?([^'\"\s]+)", line) if flavor else None
        if found:
            version = found.group(1)
            break
    return f"{flavor} {version}".strip()


@endpoint(methods={"POST"}, roles=WRITE)
def model_version_create(request, actor, key, message):
    project = key.project
    model = find_model(project, message.str("name", required=True))
    source = message.str("source", limit=1000)
    model_id = message.str("model_id", limit=64)
    if not model_id and source.startswith("models:/"):
        model_id = source[len("models:/") :]
    logged = find_logged_model(project, model_id) if model_id else None
    run = None
    if message.has("run_id"):
        run = find_run(project, message, names=("run_id",))
    if logged is not None:
        if logged.status != LoggedModel.Status.READY:
            raise MlflowError(INVALID_PARAMETER_VALUE, f"logged model {logged.model_id} is not finalized as ready")
        if logged.run is None:
            raise MlflowError(INVALID_PARAMETER_VALUE, "a model version needs the run that trained it (source_run_id)")
        if run is not None and run.pk != logged.run_id:
            raise MlflowError(INVALID_PARAMETER_VALUE, f"run_id {run.run_uuid} is not the run of {logged.model_id}")
        run = logged.run
        prefix = services.logged_model_prefix(logged)
        digest = logged.artifact_sha256
    else:
        if run is None:
            raise MlflowError(INVALID_PARAMETER_VALUE, "give model_id (a logged model) or run_id with a source")
        prefix = _run_artifact_prefix(run, source)
        digest = services.artifact_tree_digest(project.pk, prefix)
        if not digest:
            raise MlflowError(INVALID_PARAMETER_VALUE, f"no artifact files are stored at {source}")
    version = services.model_version_register(
        actor=actor,
        model=model,
        run=run,
        artifact_uri=f"mlflow-artifacts:/{prefix}",
        artifact_sha256=digest,
        framework=_flavor(project.pk, prefix),
        intended_use=message.str("description", limit=10_000),
        logged_model=logged,
    )
    return {"model_version": shapes.model_version_json(find_version(model, str(version.version)))}


def _run_artifact_prefix(run: Run, source: str) -> str:
    """A version's files from a run's artifacts: `runs:/<run id>/<path>` or this server's artifact URI."""
    base = f"{run.experiment.number}/{run.run_uuid}/artifacts"
    if source.startswith("runs:/"):
        run_id, _, path = source[len("runs:/") :].partition("/")
        if run_id != run.run_uuid:
            raise MlflowError(INVALID_PARAMETER_VALUE, f"source {source} names another run than run_id")
        return services.artifact_path_clean(f"{base}/{path}") if path else base
    if source.startswith("mlflow-artifacts:/"):
        path = services.artifact_path_clean(source[len("mlflow-artifacts:/") :].strip("/"))
        if not path.startswith(base):
            raise MlflowError(
                INVALID_PARAMETER_VALUE, f"source {source} is not among the artifacts of run {run.run_uuid}"
            )
        return path
    raise MlflowError(INVALID_PARAMETER_VALUE, f"source {source!r} is not a runs:/, models:/ or mlflow-artifacts:/ URI")


@endpoint(methods={"GET"}, roles=READ)
def model_version_get(request, actor, key, message):
    model = find_model(key.project, message.str("name", required=True))
    return {"model_version": shapes.model_version_json(find_version(model, message.str("version", required=True)))}


@endpoint(methods={"GET"}, roles=READ)
def model_version_download_uri(request, actor, key, message):
    model = find_model(key.project, message.str("name", required=True))
    return {"artifact_uri": find_version(model, message.str("version", required=True)).artifact_uri}


@endpoint(methods={"GET", "POST"}, roles=READ)
def model_version_search(request, actor, key, message):
    clauses = search.parse_filter(message.str("filter"))
    versions = list(
        ModelVersion.objects.select_related("model", "run", "logged_model")
        .prefetch_related("aliases")
        .filter(project_id=key.project_id)
        .order_by("model__name", "-version")
    )

    def value(version: ModelVersion, family: str, name: str):
        shaped = shapes.model_version_json(version)
        if family == "tags":
            return None
        return shaped.get(name)

    matched = [v for v in versions if search.matches(clauses, lambda f, n, v=v: value(v, f, n))]
    chunk, token = search.page(
        matched, message.int64("max_results", default=200_000, low=1, high=200_000), message.str("page_token")
    )
    return {
        "model_versions": [shapes.model_version_json(v) for v in chunk],
        **({"next_page_token": token} if token else {}),
    }


@endpoint(methods={"POST"}, roles=PROMOTE)
def model_version_transition_stage(request, actor, key, message):
    model = find_model(key.project, message.str("name", required=True))
    version = find_version(model, message.str("version", required=True))
    stage = message.str("stage", required=True)
    if stage.lower() not in shapes.STAGE_IN:
        raise MlflowError(INVALID_PARAMETER_VALUE, f"stage must be one of {', '.join(shapes.STAGE.values())}")
    services.model_version_transition(
        actor=actor,
        model_version=version,
        to_stage=shapes.STAGE_IN[stage.lower()],
        reason=f"MLflow transition-model-version-stage to {stage}",
    )
    return {"model_version": shapes.model_version_json(find_version(model, str(version.version)))}
