"""MLflow runs: create, get, update, params, metrics, tags, inputs (datasets), outputs, search and metric history."""

from __future__ import annotations

import uuid

from interop.mlflow import search, shapes
from interop.mlflow.protocol import (
    INVALID_PARAMETER_VALUE,
    RESOURCE_DOES_NOT_EXIST,
    Message,
    MlflowError,
    endpoint,
)
from interop.mlflow.views.common import (
    CONTEXT_ROLES,
    MAX_BATCH,
    READ,
    WRITE,
    find_experiment,
    find_logged_model,
    find_run,
    ms_field,
    now_ms,
    run_fields_from_tags,
    runs_for_json,
    search_page,
)
from registry import services
from registry.models import (
    MetricPoint,
    Run,
    RunInput,
)


@endpoint(methods={"POST"}, roles=WRITE)
def run_create(request, actor, key, message):
    project = key.project
    experiment = find_experiment(actor, project, message.str("experiment_id") or "0")
    tags = message.key_values("tags")
    run_uuid = uuid.uuid4().hex
    name = message.str("run_name", limit=200) or tags.get("mlflow.runName", "") or f"run-{run_uuid[:8]}"
    fields = run_fields_from_tags(project, tags)
    if message.str("user_id"):
        fields.setdefault("user_name", message.str("user_id"))
    fields.pop("name", None)
    run = services.run_start(
        actor=actor,
        project=project,
        experiment=experiment,
        name=name[:200],
        run_uuid=run_uuid,
        started_at=shapes.from_ms(ms_field(message, "start_time", default=now_ms())),
        tags={**tags, "mlflow.runName": name} if "mlflow.runName" not in tags else tags,
        fields=fields,
    )
    run.experiment = experiment
    return {"run": shapes.run_json(run, started=True)}


@endpoint(methods={"GET"}, roles=READ)
def run_get(request, actor, key, message):
    run_id = message.first("run_id", "run_uuid", required=True)
    run = runs_for_json().filter(project=key.project, run_uuid=run_id).first()
    if run is None:
        raise MlflowError(RESOURCE_DOES_NOT_EXIST, f"Run with id={run_id} not found")
    return {"run": shapes.run_json(run)}


@endpoint(methods={"POST"}, roles=WRITE)
def run_update(request, actor, key, message):
    run = find_run(key.project, message)
    status = message.str("status")
    if status and status not in shapes.RUN_STATUS_IN:
        raise MlflowError(INVALID_PARAMETER_VALUE, f"status {status!r} is not one of {', '.join(shapes.RUN_STATUS_IN)}")
    end = ms_field(message, "end_time")
    updated = services.run_update(
        actor=actor,
        run=run,
        status=shapes.RUN_STATUS_IN[status] if status else None,
        ended_at=shapes.from_ms(end) if end is not None else None,
        name=message.str("run_name", limit=200) or None,
    )
    updated.experiment = run.experiment
    return {"run_info": shapes.run_info_json(updated)}


def _metric(message: Message) -> services.MetricSpec:
    value = message.double("value", required=True)
    return {
        "key": message.str("key", required=True, limit=250),
        "value": None if value != value else value,  # NaN is stored as null
        "step": message.int64("step", default=0),
        "timestamp": ms_field(message, "timestamp", default=now_ms()),
        "model_ref": message.str("model_id", limit=64),
        "dataset_name": message.str("dataset_name", limit=500),
        "dataset_digest": message.str("dataset_digest", limit=200),
    }


def _log(actor, run: Run, *, params=None, metrics=(), tags=None, remove_tags=()) -> dict:
    fields = run_fields_from_tags(run.project, tags) if tags else {}
    services.run_log(
        actor=actor, run=run, params=params, metrics=metrics, tags=tags, remove_tags=remove_tags, fields=fields
    )
    return {}


@endpoint(methods={"POST"}, roles=WRITE)
def run_log_parameter(request, actor, key, message):
    run = find_run(key.project, message)
    return _log(actor, run, params={message.str("key", required=True, limit=250): message.str("value", limit=6000)})


@endpoint(methods={"POST"}, roles=WRITE)
def run_log_metric(request, actor, key, message):
    return _log(actor, find_run(key.project, message), metrics=[_metric(message)])


@endpoint(methods={"POST"}, roles=WRITE)
def run_set_tag(request, actor, key, message):
    run = find_run(key.project, message)
    return _log(actor, run, tags={message.str("key", required=True, limit=250): message.str("value", limit=8000)})


@endpoint(methods={"POST"}, roles=WRITE)
def run_delete_tag(request, actor, key, message):
    run = find_run(key.project, message, names=("run_id",))
    return _log(actor, run, remove_tags=[message.str("key", required=True, limit=250)])


@endpoint(methods={"POST"}, roles=WRITE)
def run_log_batch(request, actor, key, message):
    run = find_run(key.project, message, names=("run_id",))
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
    run = find_run(key.project, message, names=("run_id",))
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
    run = find_run(key.project, message, names=("run_id",))
    for item in message.messages("models"):
        model = find_logged_model(key.project, item.str("model_id", required=True))
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
        numbers.append(find_experiment(actor, project, experiment_id).number)
    clauses = search.parse_filter(message.str("filter"))
    order = search.parse_order(message.strings("order_by"))
    max_results = 1000
    runs = list(runs_for_json().filter(project=project, experiment__number__in=numbers).order_by("-started_at", "-id"))

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
    return search_page("runs", matched, message, shapes.run_json, default=max_results)


@endpoint(methods={"GET"}, roles=READ)
def metric_history(request, actor, key, message):
    run = find_run(key.project, message)
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
