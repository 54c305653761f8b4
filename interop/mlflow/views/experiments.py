"""MLflow experiments: get, get by name, create, tag, search."""

from __future__ import annotations

from interop.mlflow import search, shapes
from interop.mlflow.protocol import (
    RESOURCE_ALREADY_EXISTS,
    RESOURCE_DOES_NOT_EXIST,
    MlflowError,
    endpoint,
)
from interop.mlflow.views.common import (
    READ,
    WRITE,
    find_experiment,
    search_page,
)
from registry import services
from registry.errors import Conflict
from registry.models import (
    Experiment,
)


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
            find_experiment(actor, key.project, message.str("experiment_id", required=True))
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
    experiment = find_experiment(actor, key.project, message.str("experiment_id", required=True))
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
    return search_page("experiments", experiments, message, shapes.experiment_json, default=1000)
