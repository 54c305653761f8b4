"""Every MLflow route: anonymous (401 UNAUTHENTICATED), each wrong role (403 PERMISSION_DENIED), the right role of
another project (never our records: 404, or its own), the happy path; and every route is in this matrix."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest
from django.test import Client
from django.urls import URLPattern
from django.utils import timezone

from interop.mlflow import urls as mlflow_urls
from registry import services
from registry.actors import Actor
from registry.models import AuditEvent
from tests import factories as f

SYSTEM = Actor.system()
READ = frozenset({"data_scientist", "compliance_officer", "risk_analyst"})
WRITE = frozenset({"data_scientist"})
PROMOTE = frozenset({"data_scientist", "compliance_officer"})
ROLES = READ | {"ingest"}
M = "/api/2.0/mlflow/"
A = "/api/2.0/mlflow-artifacts/artifacts"


def _world(project) -> SimpleNamespace:
    """Records of each kind in a project, written through the services as the protocol writes them."""
    slug = project.slug
    experiment = services.experiment_create(actor=SYSTEM, project=project, name=f"exp-{slug}")
    run = services.run_start(
        actor=SYSTEM,
        project=project,
        experiment=experiment,
        name=f"run-{slug}",
        run_uuid=uuid.uuid4().hex,
        started_at=timezone.now(),
        tags={"team": slug},
    )
    point = {
        "key": "loss",
        "value": 0.5,
        "step": 1,
        "timestamp": 1,
        "model_ref": "",
        "dataset_name": "",
        "dataset_digest": "",
    }
    services.run_log(actor=SYSTEM, run=run, params={"alpha": "1"}, metrics=[point])
    logged = services.logged_model_create(
        actor=SYSTEM, project=project, experiment=experiment, name="model", run=run, tags={"k": "v"}
    )
    prefix = services.logged_model_prefix(logged)
    services.artifact_store(
        actor=SYSTEM,
        project=project,
        path=f"{prefix}/MLmodel",
        stream=io.BytesIO(b"flavors: {}\n"),
        logged_model=logged,
    )
    run_file = f"{experiment.number}/{run.run_uuid}/artifacts/notes.txt"
    services.artifact_store(actor=SYSTEM, project=project, path=run_file, stream=io.BytesIO(b"notes"), run=run)
    logged = services.logged_model_update(actor=SYSTEM, logged_model=logged, status="ready")
    model = services.model_create(actor=SYSTEM, project=project, name=f"clf-{slug}")
    version = services.model_version_register(
        actor=SYSTEM,
        model=model,
        run=run,
        artifact_uri=f"mlflow-artifacts:/{prefix}",
        artifact_sha256=logged.artifact_sha256,
        logged_model=logged,
    )
    services.model_alias_set(actor=SYSTEM, model=model, name="challenger", model_version=version)
    return SimpleNamespace(
        project=project,
        experiment=experiment,
        run=run,
        logged=logged,
        model=model,
        version=version,
        run_file=run_file,
        secrets=[experiment.name, run.run_uuid, logged.model_id, model.name],
    )


@dataclass(frozen=True)
class Route:
    name: str
    method: str
    path: Callable
    allowed: frozenset[str]
    data: Callable = field(default=lambda w: {})

    def call(self, client: Client, w):
        path, data = self.path(w), self.data(w)
        if self.method == "get":
            return client.get(path, data)
        if self.method == "put":
            return client.put(path, data=data, content_type="text/plain")
        return getattr(client, self.method)(path, data=json.dumps(data), content_type="application/json")


def _run(w):
    return {"run_id": w.run.run_uuid}


def _version(w):
    return {"name": w.model.name, "version": "1"}


ROUTES = [
    Route(
        "experiments/get-by-name",
        "get",
        lambda w: M + "experiments/get-by-name",
        READ,
        lambda w: {"experiment_name": w.experiment.name},
    ),
    Route(
        "experiments/get",
        "get",
        lambda w: M + "experiments/get",
        READ,
        lambda w: {"experiment_id": str(w.experiment.number)},
    ),
    Route("experiments/create", "post", lambda w: M + "experiments/create", WRITE, lambda w: {"name": "brand-new"}),
    Route(
        "experiments/set-experiment-tag",
        "post",
        lambda w: M + "experiments/set-experiment-tag",
        WRITE,
        lambda w: {"experiment_id": str(w.experiment.number), "key": "k", "value": "v"},
    ),
    Route("experiments/search", "post", lambda w: M + "experiments/search", READ, lambda w: {"max_results": 10}),
    Route(
        "runs/create",
        "post",
        lambda w: M + "runs/create",
        WRITE,
        lambda w: {"experiment_id": str(w.experiment.number), "start_time": 1_700_000_000_000},
    ),
    Route("runs/get", "get", lambda w: M + "runs/get", READ, _run),
    Route(
        "runs/update",
        "post",
        lambda w: M + "runs/update",
        WRITE,
        lambda w: {**_run(w), "status": "FINISHED", "end_time": 1_800_000_000_000},
    ),
    Route(
        "runs/log-parameter",
        "post",
        lambda w: M + "runs/log-parameter",
        WRITE,
        lambda w: {**_run(w), "key": "beta", "value": "2"},
    ),
    Route(
        "runs/log-metric",
        "post",
        lambda w: M + "runs/log-metric",
        WRITE,
        lambda w: {**_run(w), "key": "loss", "value": 0.4, "timestamp": 2, "step": 2},
    ),
    Route(
        "runs/log-batch",
        "post",
        lambda w: M + "runs/log-batch",
        WRITE,
        lambda w: {**_run(w), "params": [{"key": "gamma", "value": "3"}], "metrics": [], "tags": []},
    ),
    Route("runs/set-tag", "post", lambda w: M + "runs/set-tag", WRITE, lambda w: {**_run(w), "key": "k", "value": "v"}),
    Route("runs/delete-tag", "post", lambda w: M + "runs/delete-tag", WRITE, lambda w: {**_run(w), "key": "team"}),
    Route(
        "runs/log-inputs",
        "post",
        lambda w: M + "runs/log-inputs",
        WRITE,
        lambda w: {
            **_run(w),
            "datasets": [
                {
                    "tags": [{"key": "mlflow.data.context", "value": "training"}],
                    "dataset": {
                        "name": "iris",
                        "digest": "8f9eb48c",
                        "source_type": "s3",
                        "source": '{"uri": "s3://b/iris.csv"}',
                        "schema": "{}",
                        "profile": '{"num_rows": 150}',
                    },
                }
            ],
        },
    ),
    Route(
        "runs/outputs",
        "post",
        lambda w: M + "runs/outputs",
        WRITE,
        lambda w: {**_run(w), "models": [{"model_id": w.logged.model_id, "step": 0}]},
    ),
    Route(
        "runs/search",
        "post",
        lambda w: M + "runs/search",
        READ,
        lambda w: {"experiment_ids": [str(w.experiment.number)], "filter": ""},
    ),
    Route(
        "metrics/get-history",
        "get",
        lambda w: M + "metrics/get-history",
        READ,
        lambda w: {**_run(w), "metric_key": "loss"},
    ),
    Route(
        "logged-models create",
        "post",
        lambda w: M + "logged-models",
        WRITE,
        lambda w: {"experiment_id": str(w.experiment.number), "name": "model", "source_run_id": w.run.run_uuid},
    ),
    Route(
        "logged-models/search",
        "post",
        lambda w: M + "logged-models/search",
        READ,
        lambda w: {"experiment_ids": [str(w.experiment.number)]},
    ),
    Route("logged-models/<id> get", "get", lambda w: f"{M}logged-models/{w.logged.model_id}", READ),
    Route(
        "logged-models/<id>/tags",
        "patch",
        lambda w: f"{M}logged-models/{w.logged.model_id}/tags",
        WRITE,
        lambda w: {"tags": [{"key": "k", "value": "v"}]},
    ),
    Route("logged-models/<id>/tags/<key>", "delete", lambda w: f"{M}logged-models/{w.logged.model_id}/tags/k", WRITE),
    Route(
        "logged-models/<id>/params",
        "post",
        lambda w: f"{M}logged-models/{w.logged.model_id}/params",
        WRITE,
        lambda w: {"params": [{"key": "p", "value": "1"}]},
    ),
    Route(
        "registered-models/create",
        "post",
        lambda w: M + "registered-models/create",
        WRITE,
        lambda w: {"name": "another-model"},
    ),
    Route(
        "registered-models/get", "get", lambda w: M + "registered-models/get", READ, lambda w: {"name": w.model.name}
    ),
    Route("registered-models/search", "get", lambda w: M + "registered-models/search", READ),
    Route(
        "registered-models/get-latest-versions",
        "get",
        lambda w: M + "registered-models/get-latest-versions",
        READ,
        lambda w: {"name": w.model.name},
    ),
    Route(
        "registered-models/alias get",
        "get",
        lambda w: M + "registered-models/alias",
        READ,
        lambda w: {"name": w.model.name, "alias": "challenger"},
    ),
    Route(
        "registered-models/alias set",
        "post",
        lambda w: M + "registered-models/alias",
        PROMOTE,
        lambda w: {"name": w.model.name, "alias": "candidate", "version": "1"},
    ),
    Route(
        "model-versions/create",
        "post",
        lambda w: M + "model-versions/create",
        WRITE,
        lambda w: {"name": w.model.name, "source": f"models:/{w.logged.model_id}", "model_id": w.logged.model_id},
    ),
    Route("model-versions/get", "get", lambda w: M + "model-versions/get", READ, _version),
    Route("model-versions/get-download-uri", "get", lambda w: M + "model-versions/get-download-uri", READ, _version),
    Route(
        "model-versions/search",
        "get",
        lambda w: M + "model-versions/search",
        READ,
        lambda w: {"filter": f"name = '{w.model.name}'"},
    ),
    Route(
        "model-versions/transition-stage",
        "post",
        lambda w: M + "model-versions/transition-stage",
        PROMOTE,
        lambda w: {**_version(w), "stage": "Staging", "archive_existing_versions": False},
    ),
    Route(
        "artifacts list",
        "get",
        lambda w: A,
        READ,
        lambda w: {"path": f"{w.experiment.number}/{w.run.run_uuid}/artifacts"},
    ),
    Route("artifact download", "get", lambda w: f"{A}/{w.run_file}", READ),
    Route(
        "artifact upload",
        "put",
        lambda w: f"{A}/{w.experiment.number}/{w.run.run_uuid}/artifacts/more.txt",
        WRITE,
        lambda w: "more",
    ),
    Route("server-info", "get", lambda w: "/api/3.0/mlflow/server-info", READ),
]
IDS = [route.name for route in ROUTES]


@pytest.fixture
def worlds(db):
    ours = _world(f.ProjectFactory(slug="acme"))
    theirs = _world(f.ProjectFactory(slug="globex"))
    return ours, theirs


def _client(project, role: str) -> Client:
    raw = services.api_key_create(actor=SYSTEM, project=project, role=role, name=role)[1]
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def _error(response) -> str:
    assert response["Content-Type"].startswith("application/json"), response.content[:200]
    body = response.json()
    assert set(body) == {"error_code", "message"}, body
    return body["error_code"]


@pytest.mark.parametrize("route", ROUTES, ids=IDS)
def test_anonymous_and_bad_keys_are_unauthenticated(route, worlds):
    ours, _ = worlds
    before = AuditEvent.objects.count()
    for client in (Client(), Client(HTTP_AUTHORIZATION="Bearer gk_nope_nope"), Client(HTTP_AUTHORIZATION="Basic !!")):
        response = route.call(client, ours)
        assert response.status_code == 401 and _error(response) == "UNAUTHENTICATED"
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize("route", ROUTES, ids=IDS)
def test_wrong_roles_are_permission_denied(route, worlds):
    ours, _ = worlds
    before = AuditEvent.objects.count()
    for role in sorted(ROLES - route.allowed):
        response = route.call(_client(ours.project, role), ours)
        assert response.status_code == 403 and _error(response) == "PERMISSION_DENIED", role
    assert AuditEvent.objects.count() == before + len(ROLES - route.allowed)  # the keys' own creation only


@pytest.mark.parametrize("route", ROUTES, ids=IDS)
def test_allowed_roles_succeed(route, worlds):
    ours, _ = worlds
    roles = sorted(route.allowed) if route.method == "get" else ["data_scientist"]
    for role in roles:
        response = route.call(_client(ours.project, role), ours)
        assert response.status_code == 200, (role, response.content[:300])


@pytest.mark.parametrize("route", ROUTES, ids=IDS)
def test_another_projects_key_never_reaches_our_records(route, worlds):
    """The same requests, naming our records, with a key of the other project: a 404, or an answer about that
    project's own records; never a byte of ours, and nothing of ours changes."""
    ours, theirs = worlds
    role = "data_scientist"
    ours_before = AuditEvent.objects.filter(project_id=ours.project.pk).count()
    response = route.call(_client(theirs.project, role), ours)
    if response.status_code != 200:  # the message may repeat the name the caller sent, nothing more
        assert response.status_code == 404 and _error(response) == "RESOURCE_DOES_NOT_EXIST", response.content[:300]
    else:
        body = b"".join(response.streaming_content) if response.streaming else response.content
        for secret in ours.secrets:
            assert secret.encode() not in body, (secret, body[:300])
    assert AuditEvent.objects.filter(project_id=ours.project.pk).count() == ours_before


def test_every_route_is_in_this_matrix():
    patterns = {str(p.pattern) for p in mlflow_urls.urlpatterns if isinstance(p, URLPattern)}
    covered = set()
    for route in ROUTES:
        path = route.path(
            SimpleNamespace(
                experiment=SimpleNamespace(number=1),
                run=SimpleNamespace(run_uuid="r" * 32),
                logged=SimpleNamespace(model_id="m-x"),
                model=SimpleNamespace(name="n"),
                run_file="1/r/artifacts/f",
            )
        )
        for pattern in mlflow_urls.urlpatterns:
            if pattern.resolve(path.lstrip("/")) is not None:
                covered.add(str(pattern.pattern))
                break
    missing = patterns - covered - {r"^api/[23]\.0/(?P<rest>.*)$"}
    assert not missing
