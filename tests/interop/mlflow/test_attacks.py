"""The MLflow routes under attack: paths that climb out of the artifact root, a stored file overwritten or swapped
on disk, a finalized model's files changed, an alias moved by SQL, oversized uploads, and garbage input, which
must be a 4xx in MLflow's shape (the client retries 5xx for minutes) and write nothing."""

from __future__ import annotations

import io
import json

import pytest
from django.db import connection
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registry import services
from registry.models import Artifact, AuditEvent, ModelAlias, ModelVersion
from registry.records import records_verify
from tests import factories as f
from tests.interop.mlflow.test_authorization import ROUTES, SYSTEM, _world

A = "/api/2.0/mlflow-artifacts/artifacts"


@pytest.fixture
def world(db, settings, tmp_path):
    settings.ARTIFACT_ROOT = tmp_path / "artifacts"
    w = _world(f.ProjectFactory(slug="acme"))
    raw = services.api_key_create(actor=SYSTEM, project=w.project, role="data_scientist", name="ds")[1]
    w.client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    w.root = tmp_path / "artifacts"
    return w


def _bad_records(kind: str) -> list[dict]:
    return [bad for bad in records_verify().bad_records if bad["record"] == kind]


@pytest.mark.parametrize(
    "tail",
    ["../../../../escape.txt", "..%2F..%2F..%2Fescape.txt", "./x.txt", "a//b.txt", "%2e%2e/%2e%2e/escape.txt"],
)
def test_artifact_paths_cannot_climb_out(world, tail):
    base = f"{A}/{world.experiment.number}/{world.run.run_uuid}/artifacts/"
    before = Artifact.objects.count()
    response = world.client.put(base + tail, data=b"x", content_type="text/plain")
    assert 400 <= response.status_code < 500, response.content
    assert response.json()["error_code"] in ("INVALID_PARAMETER_VALUE", "RESOURCE_DOES_NOT_EXIST", "ENDPOINT_NOT_FOUND")
    assert Artifact.objects.count() == before
    assert not list(world.root.parent.glob("escape.txt")) and not list(world.root.glob("**/escape.txt"))
    listing = world.client.get(A, {"path": "../.."})
    assert listing.status_code == 400 and listing.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_a_stored_file_is_written_once(world):
    path = f"{A}/{world.run_file}"
    again = world.client.put(path, data=b"notes", content_type="text/plain")
    assert again.status_code == 200  # the same bytes again are the same file
    other = world.client.put(path, data=b"forged notes", content_type="text/plain")
    assert other.status_code == 400 and other.json()["error_code"] == "RESOURCE_ALREADY_EXISTS"
    assert world.client.get(path).getvalue() == b"notes"


def test_a_finalized_models_files_do_not_change(world):
    path = f"{A}/{services.logged_model_prefix(world.logged)}/extra.pkl"
    response = world.client.put(path, data=b"payload", content_type="application/octet-stream")
    assert response.status_code == 400 and "finalized" in response.json()["message"]
    assert not Artifact.objects.filter(path__endswith="extra.pkl").exists()


def test_a_file_lost_from_storage_is_a_404_and_named_by_the_verify(world):
    row = Artifact.objects.get(path=world.run_file)
    services.artifact_file(world.project.pk, world.run_file).unlink()
    response = world.client.get(f"{A}/{world.run_file}")
    assert response.status_code == 404 and "missing from storage" in response.json()["message"]
    assert [(bad["id"], bad["reason"]) for bad in _bad_records("registry.artifact")] == [
        (row.pk, "content does not match its sha256")
    ]


def test_a_model_file_swapped_on_disk_is_named_by_the_verify(world):
    assert records_verify().ok
    mlmodel = Artifact.objects.get(logged_model=world.logged)
    services.artifact_file(world.project.pk, mlmodel.path).write_bytes(b"flavors: {evil: {}}\n")
    assert [(bad["id"], bad["reason"]) for bad in _bad_records("registry.artifact")] == [
        (mlmodel.pk, "content does not match its sha256")
    ]


def test_a_file_slipped_into_a_finalized_model_by_sql_is_named_by_the_verify(world):
    prefix = services.logged_model_prefix(world.logged)
    services.artifact_file(world.project.pk, f"{prefix}/model.pkl").write_bytes(b"payload")
    forged = Artifact.objects.create(
        project=world.project, path=f"{prefix}/model.pkl", logged_model=world.logged, size=7, sha256="f" * 64
    )
    assert {bad["id"] for bad in _bad_records("registry.loggedmodel")} == {world.logged.pk}
    assert {(bad["id"], bad["reason"]) for bad in _bad_records("registry.artifact")} == {
        (forged.pk, "no creation event records it")
    }


def test_an_artifact_hash_rewritten_by_sql_is_named_by_the_verify(world):
    row = Artifact.objects.get(logged_model=world.logged)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE registry_artifact SET sha256 = %s WHERE id = %s", ["0" * 64, row.pk])
    assert [bad["reason"] for bad in _bad_records("registry.artifact")] == [
        "sha256 differs from the one its creation event recorded"
    ]


def test_an_alias_moved_by_sql_is_named_by_the_verify(world):
    version = services.model_version_register(
        actor=SYSTEM,
        model=world.model,
        run=world.run,
        artifact_uri=world.version.artifact_uri,
        artifact_sha256=world.version.artifact_sha256,
    )
    alias = ModelAlias.objects.get(model=world.model, name="challenger")
    assert records_verify().ok
    ModelAlias.objects.filter(pk=alias.pk).update(model_version=version)  # what an insider with SQL would do
    assert [bad["id"] for bad in _bad_records("registry.modelalias")] == [alias.pk]


def test_an_upload_over_the_limit_is_413_and_leaves_nothing(world, settings):
    settings.ARTIFACT_MAX_BYTES = 1000
    path = f"{A}/{world.experiment.number}/{world.run.run_uuid}/artifacts/big.bin"
    response = world.client.put(path, data=b"x" * 1001, content_type="application/octet-stream")
    assert response.status_code == 413 and response.json()["error_code"] == "REQUEST_LIMIT_EXCEEDED"
    with pytest.raises(Exception, match="larger than 1000 bytes"):  # a stream without a length: counted as read
        services.artifact_store(
            actor=SYSTEM, project=world.project, path="1/x/artifacts/big.bin", stream=io.BytesIO(b"x" * 1001)
        )
    assert not Artifact.objects.filter(path__endswith="big.bin").exists()
    assert not [p for p in world.root.rglob("*") if p.is_file() and p.stat().st_size > 1000]


def test_the_gate_refusal_moves_no_alias_and_transitions_nothing(world):
    """A protected alias through the other way in, MLflow's deprecated stage transition: the same gate."""
    response = world.client.post(
        "/api/2.0/mlflow/model-versions/transition-stage",
        data=json.dumps({"name": world.model.name, "version": "1", "stage": "Production"}),
        content_type="application/json",
    )
    assert response.status_code == 403 and response.json()["error_code"] == "PERMISSION_DENIED"
    assert "fairness" in response.json()["message"]
    refused_alias = world.client.post(
        "/api/2.0/mlflow/registered-models/alias",
        data=json.dumps({"name": world.model.name, "alias": "production", "version": "1"}),
        content_type="application/json",
    )
    assert refused_alias.status_code == 403
    assert ModelVersion.objects.get(pk=world.version.pk).stage == "none"
    assert not ModelAlias.objects.filter(name="production").exists()


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
FIELDS = [
    "run_id",
    "run_uuid",
    "experiment_id",
    "name",
    "key",
    "value",
    "step",
    "timestamp",
    "metrics",
    "params",
    "tags",
    "datasets",
    "models",
    "version",
    "alias",
    "source",
    "model_id",
    "status",
    "filter",
    "max_results",
    "page_token",
    "order_by",
    "experiment_ids",
    "stage",
    "start_time",
    "end_time",
    "metric_key",
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    route=st.sampled_from([r for r in ROUTES if r.method != "put"]),
    body=st.dictionaries(st.sampled_from(FIELDS), JSON, max_size=6) | JSON,
)
def test_garbage_is_a_4xx_in_mlflows_shape(world, route, body):
    path = route.path(world)
    if route.method == "get":
        query = (
            {k: json.dumps(v) if not isinstance(v, str) else v for k, v in body.items()}
            if isinstance(body, dict)
            else {}
        )
        response = world.client.get(path, query)
    else:
        response = getattr(world.client, route.method)(path, data=json.dumps(body), content_type="application/json")
    assert response.status_code < 500, (route.name, body, response.content[:300])
    if response.status_code >= 400:
        assert set(response.json()) == {"error_code", "message"}


def test_garbage_bytes_are_a_400(world):
    before = AuditEvent.objects.count()
    for body in (b"{", b"\xff\xfe", b'{"run_id": NaN}', b"[1, 2]", b'"text"', b'{"a": "\\u0000"}'):
        response = world.client.post("/api/2.0/mlflow/runs/log-batch", data=body, content_type="application/json")
        assert response.status_code == 400 and response.json()["error_code"] == "INVALID_PARAMETER_VALUE", body
    assert AuditEvent.objects.count() == before
