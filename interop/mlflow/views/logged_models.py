"""MLflow 3 logged models: create, get, finalize, tags, params, search."""

from __future__ import annotations

from interop.mlflow import search, shapes
from interop.mlflow.protocol import (
    ENDPOINT_NOT_FOUND,
    INVALID_PARAMETER_VALUE,
    RESOURCE_DOES_NOT_EXIST,
    MlflowError,
    endpoint,
)
from interop.mlflow.views.common import (
    MAX_RESULTS,
    READ,
    WRITE,
    find_experiment,
    find_logged_model,
    find_run,
    require_role,
)
from registry import services
from registry.models import (
    LoggedModel,
)


@endpoint(methods={"POST"}, roles=WRITE)
def logged_model_create(request, actor, key, message):
    project = key.project
    experiment = find_experiment(actor, project, message.str("experiment_id", required=True))
    run = None
    if message.has("source_run_id"):
        run = find_run(project, message, names=("source_run_id",))
    model = services.logged_model_create(
        actor=actor,
        project=project,
        experiment=experiment,
        name=message.str("name") or "model",
        run=run,
        params=message.key_values("params"),
        tags=message.key_values("tags"),
        model_type=message.str("model_type", limit=200),
    )
    return {"model": shapes.logged_model_json(find_logged_model(project, model.model_id))}


@endpoint(methods={"GET", "PATCH", "DELETE"}, roles=READ)
def logged_model(request, actor, key, message, model_id: str):
    model = find_logged_model(key.project, model_id)
    if request.method == "GET":
        return {"model": shapes.logged_model_json(model)}
    if request.method == "DELETE":
        raise MlflowError(ENDPOINT_NOT_FOUND, "logged models are records of what was trained; they are not deleted")
    require_role(key, WRITE)
    status = message.str("status", required=True)
    if status not in shapes.LOGGED_MODEL_STATUS_IN or status == "LOGGED_MODEL_PENDING":
        raise MlflowError(INVALID_PARAMETER_VALUE, "status must be LOGGED_MODEL_READY or LOGGED_MODEL_UPLOAD_FAILED")
    services.logged_model_update(actor=actor, logged_model=model, status=shapes.LOGGED_MODEL_STATUS_IN[status])
    return {"model": shapes.logged_model_json(find_logged_model(key.project, model_id))}


@endpoint(methods={"PATCH"}, roles=WRITE)
def logged_model_tags(request, actor, key, message, model_id: str):
    model = find_logged_model(key.project, model_id)
    services.logged_model_update(actor=actor, logged_model=model, tags=message.key_values("tags"))
    return {}


@endpoint(methods={"DELETE"}, roles=WRITE)
def logged_model_delete_tag(request, actor, key, message, model_id: str, tag_key: str):
    model = find_logged_model(key.project, model_id)
    if tag_key not in model.tags:
        raise MlflowError(RESOURCE_DOES_NOT_EXIST, f"logged model {model_id} has no tag {tag_key!r}")
    services.logged_model_update(actor=actor, logged_model=model, remove_tags=[tag_key])
    return {}


@endpoint(methods={"POST"}, roles=WRITE)
def logged_model_params(request, actor, key, message, model_id: str):
    model = find_logged_model(key.project, model_id)
    services.logged_model_update(actor=actor, logged_model=model, params=message.key_values("params"))
    return {}


@endpoint(methods={"POST"}, roles=READ)
def logged_model_search(request, actor, key, message):
    project = key.project
    numbers = [find_experiment(actor, project, e).number for e in message.strings("experiment_ids")]
    clauses = search.parse_filter(message.str("filter"))
    models = list(
        LoggedModel.objects.select_related("experiment", "run")
        .prefetch_related("model_versions__model")
        .filter(project=project, experiment__number__in=numbers)
        .order_by("-created_at", "-id")
    )

    def value(model: LoggedModel, family: str, name: str):
        if family == "tags":
            return model.tags.get(name)
        if family == "params":
            return model.params.get(name)
        if family == "metrics":
            return None
        return shapes.logged_model_json(model)["info"].get(name)

    matched = [m for m in models if search.matches(clauses, lambda f, n, m=m: value(m, f, n))]
    chunk, token = search.page(
        matched, message.int64("max_results", default=100, low=1, high=MAX_RESULTS), message.str("page_token")
    )
    return {"models": [shapes.logged_model_json(m) for m in chunk], **({"next_page_token": token} if token else {})}
