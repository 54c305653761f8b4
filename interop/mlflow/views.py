"""MLflow's routes: each parses its request message, finds our records in the key's project, calls a registry
service and answers MLflow's JSON. Route names follow MLflow's service definitions (mlflow/protos)."""

from __future__ import annotations

import mimetypes
import re
import uuid

from django.db.models import Prefetch
from django.http import FileResponse
from django.utils import timezone

from interop.mlflow import search, shapes
from interop.mlflow.protocol import (
    ENDPOINT_NOT_FOUND,
    INVALID_PARAMETER_VALUE,
    REQUEST_LIMIT_EXCEEDED,
    RESOURCE_ALREADY_EXISTS,
    RESOURCE_DOES_NOT_EXIST,
    Message,
    MlflowError,
    endpoint,
    error_response,
)
from registry import services
from registry.errors import Conflict
from registry.models import (
    Artifact,
    Experiment,
    LoggedModel,
    MetricPoint,
    Model,
    ModelAlias,
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


# ---- lookups in the key's project ----------------------------------------------------------------------------


def _experiment(actor, project: Project, experiment_id: str) -> Experiment:
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


def _run(project: Project, message: Message, *, names=("run_id", "run_uuid")) -> Run:
    run_id = message.first(*names, required=True)
    found = Run.objects.select_related("experiment").filter(project=project, run_uuid=run_id).first()
    if found is None:
        raise MlflowError(RESOURCE_DOES_NOT_EXIST, f"Run with id={run_id} not found")
    return found


def _runs_for_json():
    return Run.objects.select_related("experiment").prefetch_related(
        Prefetch("input_links", queryset=RunInput.objects.select_related("data_version__dataset")),
        Prefetch("logged_models", queryset=LoggedModel.objects.only("model_id", "run_id")),
    )


def _logged_model(project: Project, model_id: str) -> LoggedModel:
    found = (
        LoggedModel.objects.select_related("experiment", "run")
        .prefetch_related("model_versions__model")
        .filter(project=project, model_id=model_id)
        .first()
    )
    if found is None:
        raise MlflowError(RESOURCE_DOES_NOT_EXIST, f"Logged model with ID '{model_id}' not found")
    return found


def _model(project: Project, name: str) -> Model:
    found = Model.objects.prefetch_related("aliases__model_version").filter(project=project, name=name).first()
    if found is None:
        raise MlflowError(RESOURCE_DOES_NOT_EXIST, f"Registered Model with name={name} not found")
    return found


def _versions(model: Model):
    return list(
        ModelVersion.objects.select_related("model", "run", "logged_model")
        .prefetch_related("aliases")
        .filter(model=model)
        .order_by("version")
    )


def _version(model: Model, version: str) -> ModelVersion:
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


def _page(name: str, items: list, message: Message, shape, *, default: int = 100) -> dict:
    """One page of a search answer: `max_results` items from `page_token` on, and the next token if any."""
    max_results = message.int64("max_results", default=default, low=1, high=MAX_RESULTS)
    chunk, token = search.page(items, max_results, message.str("page_token"))
    return {name: [shape(item) for item in chunk], **({"next_page_token": token} if token else {})}


def _ms(message: Message, name: str, *, default: int | None = None) -> int | None:
    return message.int64(name, default=default, low=0, high=MAX_MS)


def _now_ms() -> int:
    return int(timezone.now().timestamp() * 1000)


def _run_fields(project: Project, tags: dict[str, str]) -> dict:
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


# ---- experiments -----------------------------------------------------------------------------------------------


@endpoint(methods={"GET"}, roles=READ)
def experiment_get_by_name(request, actor, key, message):
    name = message.str("experiment_name", required=True)
    if name == Experiment.DEFAULT_NAME:
        services.experiment_default(actor=actor, project=key.project)
    found = Experiment.objects.filter(project=key.project, name=name).first()
    if found is None:
        raise MlflowError(RESOURCE_DOES_NOT_EXIST, f"Could not find experiment with name '{name}'")
    return {"experiment": shapes.experiment_json(found)}


@endpoint(methods={"GET"}, roles=READ)
def experiment_get(request, actor, key, message):
    return {
        "experiment": shapes.experiment_json(
            _experiment(actor, key.project, message.str("experiment_id", required=True))
        )
    }


@endpoint(methods={"POST"}, roles=WRITE)
def experiment_create(request, actor, key, message):
    name = message.str("name", required=True, limit=500)
    try:
        experiment = services.experiment_create(
            actor=actor, project=key.project, name=name, tags=message.key_values("tags")
        )
    except Conflict:
        raise MlflowError(RESOURCE_ALREADY_EXISTS, f"Experiment '{name}' already exists.") from None
    return {"experiment_id": str(experiment.number)}


@endpoint(methods={"POST"}, roles=WRITE)
def experiment_set_tag(request, actor, key, message):
    experiment = _experiment(actor, key.project, message.str("experiment_id", required=True))
    services.experiment_tags_set(
        actor=actor, experiment=experiment, tags={message.str("key", required=True, limit=250): message.str("value")}
    )
    return {}


@endpoint(methods={"GET", "POST"}, roles=READ)
def experiment_search(request, actor, key, message):
    services.experiment_default(actor=actor, project=key.project)
    clauses = search.parse_filter(message.str("filter"))
    experiments = [
        e
        for e in Experiment.objects.filter(project=key.project).order_by("number")
        if search.matches(
            clauses, lambda family, name, e=e: e.tags.get(name) if family == "tags" else getattr(e, name, None)
        )
    ]
    return _page("experiments", experiments, message, shapes.experiment_json, default=1000)


# ---- runs ------------------------------------------------------------------------------------------------------


@endpoint(methods={"POST"}, roles=WRITE)
def run_create(request, actor, key, message):
    project = key.project
    experiment = _experiment(actor, project, message.str("experiment_id") or "0")
    tags = message.key_values("tags")
    run_uuid = uuid.uuid4().hex
    name = message.str("run_name", limit=200) or tags.get("mlflow.runName", "") or f"run-{run_uuid[:8]}"
    fields = _run_fields(project, tags)
    if message.str("user_id"):
        fields.setdefault("user_name", message.str("user_id"))
    fields.pop("name", None)
    run = services.run_start(
        actor=actor,
        project=project,
        experiment=experiment,
        name=name[:200],
        run_uuid=run_uuid,
        started_at=shapes.from_ms(_ms(message, "start_time", default=_now_ms())),
        tags={**tags, "mlflow.runName": name} if "mlflow.runName" not in tags else tags,
        fields=fields,
    )
    return {"run": shapes.run_json(_runs_for_json().get(pk=run.pk))}


@endpoint(methods={"GET"}, roles=READ)
def run_get(request, actor, key, message):
    run = _run(key.project, message)
    return {"run": shapes.run_json(_runs_for_json().get(pk=run.pk))}


@endpoint(methods={"POST"}, roles=WRITE)
def run_update(request, actor, key, message):
    run = _run(key.project, message)
    status = message.str("status")
    if status and status not in shapes.RUN_STATUS_IN:
        raise MlflowError(INVALID_PARAMETER_VALUE, f"status {status!r} is not one of {', '.join(shapes.RUN_STATUS_IN)}")
    end = _ms(message, "end_time")
    run = services.run_update(
        actor=actor,
        run=run,
        status=shapes.RUN_STATUS_IN[status] if status else None,
        ended_at=shapes.from_ms(end) if end is not None else None,
        name=message.str("run_name", limit=200) or None,
    )
    return {"run_info": shapes.run_json(_runs_for_json().get(pk=run.pk))["info"]}


def _metric(message: Message) -> services.MetricSpec:
    value = message.double("value", required=True)
    return {
        "key": message.str("key", required=True, limit=250),
        "value": None if value != value else value,  # NaN is stored as null
        "step": message.int64("step", default=0),
        "timestamp": _ms(message, "timestamp", default=_now_ms()),
        "model_ref": message.str("model_id", limit=64),
        "dataset_name": message.str("dataset_name", limit=500),
        "dataset_digest": message.str("dataset_digest", limit=200),
    }


def _log(actor, run: Run, *, params=None, metrics=(), tags=None, remove_tags=()) -> dict:
    fields = _run_fields(run.project, tags) if tags else {}
    services.run_log(
        actor=actor, run=run, params=params, metrics=metrics, tags=tags, remove_tags=remove_tags, fields=fields
    )
    return {}


@endpoint(methods={"POST"}, roles=WRITE)
def run_log_parameter(request, actor, key, message):
    run = _run(key.project, message)
    return _log(actor, run, params={message.str("key", required=True, limit=250): message.str("value", limit=6000)})


@endpoint(methods={"POST"}, roles=WRITE)
def run_log_metric(request, actor, key, message):
    return _log(actor, _run(key.project, message), metrics=[_metric(message)])


@endpoint(methods={"POST"}, roles=WRITE)
def run_set_tag(request, actor, key, message):
    run = _run(key.project, message)
    return _log(actor, run, tags={message.str("key", required=True, limit=250): message.str("value", limit=8000)})


@endpoint(methods={"POST"}, roles=WRITE)
def run_delete_tag(request, actor, key, message):
    run = _run(key.project, message, names=("run_id",))
    return _log(actor, run, remove_tags=[message.str("key", required=True, limit=250)])


@endpoint(methods={"POST"}, roles=WRITE)
def run_log_batch(request, actor, key, message):
    run = _run(key.project, message, names=("run_id",))
    for family, limit in MAX_BATCH.items():
        if len(message.messages(family)) > limit:
            raise MlflowError(INVALID_PARAMETER_VALUE, f"A batch logging request can contain at most {limit} {family}")
    params: dict[str, str] = {}
    for item in message.messages("params"):
        name, value = item.str("key", required=True, limit=250), item.str("value", limit=6000)
        if params.get(name, value) != value:
            raise MlflowError(INVALID_PARAMETER_VALUE, f"Duplicate parameter keys have been submitted: {name}")
        params[name] = value
    return _log(
        actor,
        run,
        params=params,
        metrics=[_metric(item) for item in message.messages("metrics")],
        tags=message.key_values("tags"),
    )


def _json_field(message: Message, name: str) -> dict:
    text = message.str(name, limit=1_000_000)
    if not text:
        return {}
    try:
        import json

        value = json.loads(text)
    except ValueError:
        raise MlflowError(INVALID_PARAMETER_VALUE, f"'{message.path}{name}' must be a JSON string") from None
    if not isinstance(value, dict):
        raise MlflowError(INVALID_PARAMETER_VALUE, f"'{message.path}{name}' must be a JSON object")
    return value


def _schema(raw: dict) -> dict | list:
    """MLflow's column spec as our schema (column -> type); a tensor spec is kept as it came."""
    columns = raw.get("mlflow_colspec")
    if isinstance(columns, list):
        out = {}
        for index, column in enumerate(columns):
            if isinstance(column, dict):
                out[str(column.get("name", index))] = str(column.get("type", "unknown"))
        return out
    return raw


def _source_uri(source: dict) -> str:
    for name in ("uri", "url", "path", "table_name"):
        value = source.get(name)
        if isinstance(value, str) and value:
            return value[:1000]
    return ""


@endpoint(methods={"POST"}, roles=WRITE)
def run_log_inputs(request, actor, key, message):
    run = _run(key.project, message, names=("run_id",))
    inputs: list[services.RunInputSpec] = []
    for item in message.messages("datasets"):
        dataset = item.message("dataset")
        tags = item.key_values("tags")
        source = _json_field(dataset, "source")
        profile = _json_field(dataset, "profile")
        rows = profile.get("num_rows")
        digest = dataset.str("digest", required=True, limit=100)
        record = services.dataset_ensure(
            actor=actor,
            project=key.project,
            name=dataset.str("name", required=True, limit=200),
            source_uri=_source_uri(source),
        )
        version = services.data_version_ensure(
            actor=actor,
            dataset=record,
            version=digest,
            digest=digest,
            row_count=rows if isinstance(rows, int) and not isinstance(rows, bool) and rows >= 0 else None,
            schema=_schema(_json_field(dataset, "schema")),
            profile=profile or None,
            storage_uri=_source_uri(source),
        )
        context = tags.get("mlflow.data.context", "train").strip().lower()
        inputs.append({"data_version": version, "role": CONTEXT_ROLES.get(context, RunInput.Role.TRAIN)})
    services.run_inputs_log(actor=actor, run=run, inputs=inputs)
    return {}


@endpoint(methods={"POST"}, roles=WRITE)
def run_outputs(request, actor, key, message):
    run = _run(key.project, message, names=("run_id",))
    for item in message.messages("models"):
        model = _logged_model(key.project, item.str("model_id", required=True))
        if model.run_id != run.pk:
            raise MlflowError(
                INVALID_PARAMETER_VALUE,
                f"logged model {model.model_id} was logged by another run; a model is the output of its own run",
            )
    return {}


@endpoint(methods={"POST"}, roles=READ)
def run_search(request, actor, key, message):
    project = key.project
    numbers = []
    for experiment_id in message.strings("experiment_ids"):
        numbers.append(_experiment(actor, project, experiment_id).number)
    clauses = search.parse_filter(message.str("filter"))
    order = search.parse_order(message.strings("order_by"))
    max_results = 1000
    runs = list(_runs_for_json().filter(project=project, experiment__number__in=numbers).order_by("-started_at", "-id"))

    def value(run: Run, family: str, name: str):
        if family == "metrics":
            return run.metrics.get(name)
        if family == "params":
            return run.params.get(name)
        if family == "tags":
            return run.tags.get(name)
        if family == "datasets":
            return None
        info = shapes.run_json(run)["info"] if family == "attributes" else {}
        return info.get({"run_name": "run_name", "status": "status", "user_id": "user_id"}.get(name, name))

    matched = [run for run in runs if search.matches(clauses, lambda f, n, run=run: value(run, f, n))]
    for family, name, descending in reversed(order):
        matched.sort(key=lambda run, f=family, n=name: search.sort_key(value(run, f, n)), reverse=descending)
    return _page("runs", matched, message, shapes.run_json, default=max_results)


@endpoint(methods={"GET"}, roles=READ)
def metric_history(request, actor, key, message):
    run = _run(key.project, message)
    points = MetricPoint.objects.filter(run=run, key=message.str("metric_key", required=True)).order_by(
        "step", "timestamp", "id"
    )
    max_results = message.int64("max_results", default=25_000, low=1, high=100_000)
    token = message.str("page_token")
    offset = 0
    if token:
        offset = message.int64("page_token", low=0) or 0
    chunk = list(points[offset : offset + max_results + 1])
    answer = {"metrics": [shapes.metric_json(point) for point in chunk[:max_results]]}
    if len(chunk) > max_results:
        answer["next_page_token"] = str(offset + max_results)
    return answer


# ---- logged models -----------------------------------------------------------------------------------------------


@endpoint(methods={"POST"}, roles=WRITE)
def logged_model_create(request, actor, key, message):
    project = key.project
    experiment = _experiment(actor, project, message.str("experiment_id", required=True))
    run = None
    if message.has("source_run_id"):
        run = _run(project, message, names=("source_run_id",))
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
    return {"model": shapes.logged_model_json(_logged_model(project, model.model_id))}


@endpoint(methods={"GET", "PATCH", "DELETE"}, roles=READ)
def logged_model(request, actor, key, message, model_id: str):
    model = _logged_model(key.project, model_id)
    if request.method == "GET":
        return {"model": shapes.logged_model_json(model)}
    if request.method == "DELETE":
        raise MlflowError(ENDPOINT_NOT_FOUND, "logged models are records of what was trained; they are not deleted")
    _require(key, WRITE)
    status = message.str("status", required=True)
    if status not in shapes.LOGGED_MODEL_STATUS_IN or status == "LOGGED_MODEL_PENDING":
        raise MlflowError(INVALID_PARAMETER_VALUE, "status must be LOGGED_MODEL_READY or LOGGED_MODEL_UPLOAD_FAILED")
    services.logged_model_update(actor=actor, logged_model=model, status=shapes.LOGGED_MODEL_STATUS_IN[status])
    return {"model": shapes.logged_model_json(_logged_model(key.project, model_id))}


@endpoint(methods={"PATCH"}, roles=WRITE)
def logged_model_tags(request, actor, key, message, model_id: str):
    model = _logged_model(key.project, model_id)
    services.logged_model_update(actor=actor, logged_model=model, tags=message.key_values("tags"))
    return {}


@endpoint(methods={"DELETE"}, roles=WRITE)
def logged_model_delete_tag(request, actor, key, message, model_id: str, tag_key: str):
    model = _logged_model(key.project, model_id)
    if tag_key not in model.tags:
        raise MlflowError(RESOURCE_DOES_NOT_EXIST, f"logged model {model_id} has no tag {tag_key!r}")
    services.logged_model_update(actor=actor, logged_model=model, remove_tags=[tag_key])
    return {}


@endpoint(methods={"POST"}, roles=WRITE)
def logged_model_params(request, actor, key, message, model_id: str):
    model = _logged_model(key.project, model_id)
    services.logged_model_update(actor=actor, logged_model=model, params=message.key_values("params"))
    return {}


@endpoint(methods={"POST"}, roles=READ)
def logged_model_search(request, actor, key, message):
    project = key.project
    numbers = [_experiment(actor, project, e).number for e in message.strings("experiment_ids")]
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


def _require(key, roles) -> None:
    if key.role not in roles:
        from interop.mlflow.protocol import PERMISSION_DENIED

        raise MlflowError(PERMISSION_DENIED, f"the role {key.role} may not change this")


# ---- model registry ------------------------------------------------------------------------------------------------


@endpoint(methods={"POST"}, roles=WRITE)
def registered_model_create(request, actor, key, message):
    name = message.str("name", required=True, limit=200)
    try:
        model = services.model_create(
            actor=actor, project=key.project, name=name, description=message.str("description", limit=10_000)
        )
    except Conflict:
        raise MlflowError(RESOURCE_ALREADY_EXISTS, f"Registered Model (name={name}) already exists.") from None
    return {"registered_model": shapes.registered_model_json(_model(key.project, model.name), [])}


@endpoint(methods={"GET"}, roles=READ)
def registered_model_get(request, actor, key, message):
    model = _model(key.project, message.str("name", required=True))
    return {"registered_model": shapes.registered_model_json(model, _versions(model))}


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
        "registered_models": [shapes.registered_model_json(m, _versions(m)) for m in chunk],
        **({"next_page_token": token} if token else {}),
    }


@endpoint(methods={"GET", "POST"}, roles=READ)
def registered_model_latest_versions(request, actor, key, message):
    model = _model(key.project, message.str("name", required=True))
    stages = (
        {s.lower() for s in (message.data.get("stages") or [])}
        if not message.from_query
        else {s.lower() for s in message.data.get("stages", [])}
    )
    latest = shapes.registered_model_json(model, _versions(model))["latest_versions"]
    return {"model_versions": [v for v in latest if not stages or v["current_stage"].lower() in stages]}


@endpoint(methods={"GET", "POST"}, roles=READ)
def registered_model_alias(request, actor, key, message):
    model = _model(key.project, message.str("name", required=True))
    alias_name = message.str("alias", required=True, limit=255)
    if request.method == "POST":
        _require(key, PROMOTE)
        version = _version(model, message.str("version", required=True))
        services.model_alias_set(actor=actor, model=model, name=alias_name, model_version=version)
        return {}
    alias = ModelAlias.objects.filter(model=model, name=alias_name).first()
    if alias is None:
        raise MlflowError(RESOURCE_DOES_NOT_EXIST, f"Registered model alias {alias_name} not found.")
    return {"model_version": shapes.model_version_json(_version(model, str(alias.model_version.version)))}


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
    model = _model(project, message.str("name", required=True))
    source = message.str("source", limit=1000)
    model_id = message.str("model_id", limit=64)
    if not model_id and source.startswith("models:/"):
        model_id = source[len("models:/") :]
    logged = _logged_model(project, model_id) if model_id else None
    run = None
    if message.has("run_id"):
        run = _run(project, message, names=("run_id",))
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
    return {"model_version": shapes.model_version_json(_version(model, str(version.version)))}


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
    model = _model(key.project, message.str("name", required=True))
    return {"model_version": shapes.model_version_json(_version(model, message.str("version", required=True)))}


@endpoint(methods={"GET"}, roles=READ)
def model_version_download_uri(request, actor, key, message):
    model = _model(key.project, message.str("name", required=True))
    return {"artifact_uri": _version(model, message.str("version", required=True)).artifact_uri}


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
    model = _model(key.project, message.str("name", required=True))
    version = _version(model, message.str("version", required=True))
    stage = message.str("stage", required=True)
    if stage.lower() not in shapes.STAGE_IN:
        raise MlflowError(INVALID_PARAMETER_VALUE, f"stage must be one of {', '.join(shapes.STAGE.values())}")
    services.model_version_transition(
        actor=actor,
        model_version=version,
        to_stage=shapes.STAGE_IN[stage.lower()],
        reason=f"MLflow transition-model-version-stage to {stage}",
    )
    return {"model_version": shapes.model_version_json(_version(model, str(version.version)))}


# ---- artifacts -------------------------------------------------------------------------------------------------------

_RUN_PATH = re.compile(r"^(?P<exp>\d+)/(?P<run>[0-9a-f]{32})/artifacts/.+")
_MODEL_PATH = re.compile(r"^(?P<exp>\d+)/models/(?P<model>m-[0-9a-f]{32})/artifacts/.+")


@endpoint(methods={"GET", "PUT"}, roles=READ)
def artifact(request, actor, key, message, path: str):
    project = key.project
    path = services.artifact_path_clean(path)
    if request.method == "GET":
        stored = Artifact.objects.filter(project=project, path=path).first()
        if stored is None:
            raise MlflowError(RESOURCE_DOES_NOT_EXIST, f"no artifact at {path}")
        content_type = stored.content_type or mimetypes.guess_type(path)[0] or "application/octet-stream"
        response = FileResponse(open(services.artifact_file(project.pk, path), "rb"), content_type=content_type)
        response["Content-Length"] = str(stored.size)
        return response
    _require(key, WRITE)
    run = model = None
    if match := _MODEL_PATH.match(path):
        model = _logged_model(project, match.group("model"))
        if str(model.experiment.number) != match.group("exp"):
            raise MlflowError(INVALID_PARAMETER_VALUE, f"{path} is not under the experiment of {model.model_id}")
    elif match := _RUN_PATH.match(path):
        run = Run.objects.select_related("experiment").filter(project=project, run_uuid=match.group("run")).first()
        if run is None or str(run.experiment.number) != match.group("exp"):
            raise MlflowError(
                RESOURCE_DOES_NOT_EXIST, f"no run {match.group('run')} in experiment {match.group('exp')}"
            )
    else:
        raise MlflowError(
            INVALID_PARAMETER_VALUE,
            "artifacts belong to a run (<experiment>/<run id>/artifacts/...) or a logged model "
            "(<experiment>/models/<model id>/artifacts/...)",
        )
    from django.conf import settings

    length = request.META.get("CONTENT_LENGTH") or ""
    if length.isdigit() and int(length) > settings.ARTIFACT_MAX_BYTES:
        return error_response(
            REQUEST_LIMIT_EXCEEDED, f"the file is larger than {settings.ARTIFACT_MAX_BYTES} bytes (ARTIFACT_MAX_BYTES)"
        )
    services.artifact_store(
        actor=actor,
        project=project,
        path=path,
        stream=request,
        content_type=request.content_type or "",
        run=run,
        logged_model=model,
    )
    return {}


@endpoint(methods={"GET"}, roles=READ)
def artifact_list(request, actor, key, message):
    base = message.str("path").strip("/")
    if base:
        base = services.artifact_path_clean(base)
    prefix = f"{base}/" if base else ""
    files: dict[str, dict] = {}
    rows = Artifact.objects.filter(project=key.project, path__startswith=prefix).values_list("path", "size")
    for path, size in rows.iterator():
        rest = path[len(prefix) :]
        head, slash, _ = rest.partition("/")
        if slash:
            files.setdefault(head, {"path": head, "is_dir": True})
        else:
            files[head] = {"path": head, "is_dir": False, "file_size": size}
    return {"files": [files[name] for name in sorted(files)]}


@endpoint(methods={"GET"}, roles=READ)
def server_info(request, actor, key, message):
    return {"multipart_uploads_enabled": False, "multipart_downloads_enabled": False}


def not_built(request, rest: str = ""):
    return error_response(ENDPOINT_NOT_FOUND, f"no {request.method} {request.path} on this server")
