"""The registry through its REST API: the chain built by a data scientist's key, and its errors."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from registry import services
from registry.actors import Actor
from registry.models import DataVersion, ModelVersion, Run, StageTransition, SubjectIndex
from registry.subjects import subject_key
from tests import factories as f
from tests.helpers import make_promotable

SHA = "c" * 64


@pytest.fixture
def ds(make_client, project):
    return make_client("data_scientist", project)


def post(client, path, body):
    return client.post(f"/api/v1/{path}", body, format="json")


def test_the_chain_is_registered_through_the_api(ds, project):
    dataset = post(ds, "datasets/", {"name": "loans", "contains_personal_data": True, "legal_basis": "contract"})
    assert dataset.status_code == 201, dataset.json()
    assert dataset.json()["project"] == "acme"  # the key's only project is the default

    raw = post(
        ds,
        "data-versions/",
        {
            "dataset": dataset.json()["id"],
            "version": "2026-01",
            "content_sha256": SHA.upper(),
            "row_count": 3,
            "schema": {"age": "int64", "income": "float64"},
            "storage_uri": "s3://bucket/loans/2026-01.parquet",
        },
    ).json()
    assert raw["content_sha256"] == SHA
    train = post(
        ds,
        "data-versions/",
        {
            "dataset": dataset.json()["id"],
            "version": "2026-01-train",
            "content_sha256": "d" * 64,
            "row_count": 2,
            "schema": {"age": "int64"},
            "parents": [raw["id"]],
            "transformation": "drop income; 2/3 split",
        },
    )
    assert train.status_code == 201, train.json()
    assert train.json()["parents"] == [raw["id"]]
    assert DataVersion.objects.get(pk=train.json()["id"]).parent_links.get().transformation == "drop income; 2/3 split"

    indexed = post(ds, f"data-versions/{train.json()['id']}/subjects/", {"subject_ids": ["alice", "bob", 42, "bob"]})
    assert indexed.json() == {"indexed": 3, "duplicates": 1}
    again = post(ds, f"data-versions/{train.json()['id']}/subjects/", {"subject_ids": ["alice"]})
    assert again.json() == {"indexed": 0, "duplicates": 1}
    assert set(SubjectIndex.objects.values_list("subject_key", flat=True)) == {
        subject_key("alice"),
        subject_key("bob"),
        subject_key("42"),
    }

    run = post(
        ds,
        "runs/",
        {
            "name": "logreg",
            "params": {"C": 0.5},
            "metrics": {"accuracy": 0.81, "loss": [0.9, 0.5, 0.4]},
            "inputs": [{"data_version": train.json()["id"], "role": "train"}],
            "git_commit": "abc123",
            "notebook_path": "notebooks/train.ipynb",
            "environment": {"python": "3.11"},
        },
    )
    assert run.status_code == 201, run.json()
    assert run.json()["inputs"] == [{"data_version": train.json()["id"], "role": "train"}]

    model = post(ds, "models/", {"name": "credit", "risk_tier": "high"}).json()
    v1 = post(
        ds,
        "model-versions/",
        {"model": model["id"], "run": run.json()["id"], "artifact_uri": "s3://m/1.pkl", "artifact_sha256": SHA},
    )
    assert v1.status_code == 201, v1.json()
    assert v1.json()["version"] == 1
    assert v1.json()["metrics"] == {"accuracy": 0.81, "loss": [0.9, 0.5, 0.4]}  # taken from the run
    assert v1.json()["stage"] == "none"
    v2 = post(
        ds,
        "model-versions/",
        {"model": model["id"], "run": run.json()["id"], "artifact_uri": "s3://m/2.pkl", "artifact_sha256": SHA},
    )
    assert v2.json()["version"] == 2

    refused = post(ds, "deployments/", {"model_version": v1.json()["id"], "environment": "production"})
    assert refused.json()["error"]["code"] == "gate_refused"  # not in production: see test_gate_attacks
    deployment = post(ds, "deployments/", {"model_version": v1.json()["id"], "environment": "staging"})
    assert deployment.status_code == 201, deployment.json()
    assert deployment.json()["strategy"] == "direct"
    assert deployment.json()["traffic_percent"] == "100.00"


def test_missing_and_wrong_fields_are_named(ds, chain):
    response = post(ds, "data-versions/", {"dataset": chain.raw.dataset_id, "row_count": "many", "schema": []})
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert set(fields) == {"version", "content_sha256", "row_count", "schema"}
    assert response.json()["error"]["code"] == "invalid"

    response = post(ds, "data-versions/", {**_dv(chain), "content_sha256": "xyz"})
    assert response.json()["error"]["fields"] == {"content_sha256": ["must be 64 hexadecimal characters (a SHA-256)"]}

    response = post(ds, "runs/", {"name": "r", "metrics": {"acc": "high"}})
    assert "metrics" in response.json()["error"]["fields"]

    response = post(ds, "runs/", {"name": "r", "inputs": [{"data_version": 999999, "role": "train"}]})
    assert "inputs[0].data_version" in response.json()["error"]["fields"]

    response = post(ds, "datasets/", {"name": "x", "contains_personal_data": True})
    assert response.json()["error"]["fields"] == {
        "legal_basis": ["is required when the dataset contains personal data"]
    }
    assert DataVersion.objects.count() == 2 and Run.objects.count() == 1


def _dv(chain, **extra):
    return {
        "dataset": chain.raw.dataset_id,
        "version": "new",
        "content_sha256": SHA,
        "row_count": 1,
        "schema": {"a": "int64"},
        **extra,
    }


def test_data_versions_are_immutable(ds, chain):
    response = post(ds, "data-versions/", _dv(chain, version="raw"))
    assert response.status_code == 409
    assert response.json()["error"]["fields"] == {"version": ["already registered"]}
    assert ds.patch(f"/api/v1/data-versions/{chain.raw.pk}/", {"row_count": 5}, format="json").status_code == 405
    assert ds.delete(f"/api/v1/data-versions/{chain.raw.pk}/").status_code == 405


def test_a_run_cannot_use_another_projects_data(ds, chain, other_project):
    foreign = f.DataVersionFactory(dataset__project=other_project)
    response = post(ds, "runs/", {"name": "r", "inputs": [{"data_version": foreign.pk, "role": "train"}]})
    assert response.status_code == 400
    assert "inputs[0].data_version" in response.json()["error"]["fields"]


def test_a_key_with_no_default_project_must_name_one(superuser_client, chain):
    response = post(superuser_client, "models/", {"name": "m"})
    assert response.json()["error"]["fields"] == {"project": ["This field is required."]}
    assert post(superuser_client, "models/", {"name": "m", "project": "acme"}).status_code == 201


def test_subject_index_limits_and_bad_ids(ds, chain):
    response = post(ds, f"data-versions/{chain.raw.pk}/subjects/", {"subject_ids": ["ok", "", None, {"a": 1}]})
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"subject_ids[1]", "subject_ids[2]", "subject_ids[3]"}
    assert SubjectIndex.objects.count() == 0
    response = post(ds, f"data-versions/{chain.raw.pk}/subjects/", {"subject_ids": list(range(100_001))})
    assert response.status_code == 400
    assert "at most 100000" in response.json()["error"]["fields"]["subject_ids"][0]


def test_subject_index_takes_100000_ids_in_one_request(ds, chain):
    response = post(ds, f"data-versions/{chain.raw.pk}/subjects/", {"subject_ids": [f"s{i}" for i in range(100_000)]})
    assert response.json() == {"indexed": 100_000, "duplicates": 0}
    assert SubjectIndex.objects.filter(data_version=chain.raw).count() == 100_000


def test_transitions_are_recorded_and_production_replaces_production(ds, chain, make_client):
    v2 = f.ModelVersionFactory(model=chain.model, run=chain.run, version=2)
    make_promotable(chain.version)
    make_promotable(v2)
    path = f"model-versions/{chain.version.pk}/transition/"
    assert post(ds, path, {"to_stage": "production", "reason": "passed review"}).status_code == 200
    officer = make_client("compliance_officer", chain.project)
    response = post(officer, f"model-versions/{v2.pk}/transition/", {"to_stage": "production", "reason": "better"})
    assert response.status_code == 200, response.json()
    assert response.json()["from_stage"] == "none"
    chain.version.refresh_from_db()
    v2.refresh_from_db()
    assert (chain.version.stage, v2.stage) == ("archived", "production")
    archived = StageTransition.objects.get(model_version=chain.version, to_stage="archived")
    assert archived.reason == "replaced in production by v2"


def test_invalid_transitions_are_refused(ds, chain):
    path = f"model-versions/{chain.version.pk}/transition/"
    response = post(ds, path, {"to_stage": "staging"})
    assert response.json()["error"]["fields"] == {"reason": ["This field is required."]}
    response = post(ds, path, {"to_stage": "gold", "reason": "x"})
    assert "to_stage" in response.json()["error"]["fields"]
    post(ds, path, {"to_stage": "archived", "reason": "retired"})
    response = post(ds, path, {"to_stage": "production", "reason": "back"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_transition"
    assert ModelVersion.objects.get(pk=chain.version.pk).stage == "archived"


def test_live_versions_across_a_canary_and_a_rollback(ds, chain):
    """v1 live from Jan; v2 canary at 10% from Feb 1; v2 takes all traffic on Feb 10; rollback to v1 on Feb 20.

    History loaded with `backfill` (code only: the API refuses a start in the past); each version is in
    production, through the gate, when it is deployed, as a rollback's version must be again."""
    chain.deployment.delete()
    v1 = chain.version
    v2 = f.ModelVersionFactory(model=chain.model, run=chain.run, version=2)
    make_promotable(v1)
    make_promotable(v2)
    system = Actor.system()

    def promote(version):
        if version.stage == "archived":
            services.model_version_transition(actor=system, model_version=version, to_stage="staging", reason="back")
        services.model_version_transition(actor=system, model_version=version, to_stage="production", reason="go")

    def deploy(version, strategy, at, traffic=None):
        return services.deployment_create(
            actor=system,
            model_version=version,
            environment="production",
            strategy=strategy,
            traffic_percent=None if traffic is None else Decimal(traffic),
            started_at=datetime.fromisoformat(at),
            backfill=True,
        ).pk

    promote(v1)
    d1 = deploy(v1, "direct", "2026-01-01T00:00:00+00:00")
    promote(v2)  # archives v1, whose deployment still serves 90% beside the canary
    canary = deploy(v2, "canary", "2026-02-01T00:00:00+00:00", 10)
    d2 = deploy(v2, "direct", "2026-02-10T00:00:00+00:00")
    v1.refresh_from_db()
    promote(v1)
    rollback = deploy(v1, "direct", "2026-02-20T00:00:00+00:00")

    def live(at):
        response = ds.get(f"/api/v1/models/{chain.model.pk}/live/", {"at": at})
        assert response.status_code == 200, response.json()
        return sorted((row["version"], row["deployment"], row["traffic_percent"]) for row in response.json()["live"])

    assert live("2025-12-31T00:00:00Z") == []
    assert live("2026-01-15T00:00:00Z") == [(1, d1, "100.00")]
    assert live("2026-02-05T00:00:00Z") == [(1, d1, "100.00"), (2, canary, "10.00")]
    assert live("2026-02-15T00:00:00Z") == [(2, d2, "100.00")]
    assert live("2026-02-25T00:00:00Z") == [(1, rollback, "100.00")]
    assert live("2026-02-20T00:00:00Z") == [(1, rollback, "100.00")]  # the switch-over instant

    response = ds.get(f"/api/v1/models/{chain.model.pk}/live/", {"at": "yesterday"})
    assert response.status_code == 400
    assert "at" in response.json()["error"]["fields"]


def test_deployment_validation_and_end(ds, chain):
    response = post(
        ds,
        "deployments/",
        {
            "model_version": chain.version.pk,
            "environment": "eu",
            "strategy": "canary",
            "traffic_percent": 100,
        },
    )
    assert response.json()["error"]["fields"] == {"traffic_percent": ["a canary takes a share of traffic below 100"]}
    response = post(
        ds,
        "deployments/",
        {"model_version": chain.version.pk, "environment": "staging", "ended_at": "2026-01-01T00:00:00Z"},
    )
    assert response.json()["error"]["fields"] == {
        "ended_at": ["is set when the deployment ends (deployments/{id}/end/), not before"]
    }
    response = post(ds, f"deployments/{chain.deployment.pk}/end/", {"ended_at": "2026-03-01T00:00:00Z"})
    assert response.json()["error"]["fields"] == {"ended_at": ["may not lie more than 300 seconds in the past"]}
    response = post(ds, f"deployments/{chain.deployment.pk}/end/", {})
    assert response.status_code == 200, response.json()
    assert post(ds, f"deployments/{chain.deployment.pk}/end/", {}).status_code == 409


def test_list_filters(ds, chain):
    f.ModelVersionFactory(model=chain.model, run=chain.run, version=2, stage="staging")
    response = ds.get("/api/v1/model-versions/", {"model": chain.model.pk, "stage": "staging"})
    assert [row["version"] for row in response.json()["results"]] == [2]
    response = ds.get("/api/v1/runs/", {"data_version": chain.train.pk})
    assert [row["id"] for row in response.json()["results"]] == [chain.run.pk]
    response = ds.get("/api/v1/data-versions/", {"dataset": chain.raw.dataset_id})
    assert {row["version"] for row in response.json()["results"]} == {"raw", "train"}


def test_list_endpoints_do_not_grow_queries_with_rows(ds, chain, django_assert_max_num_queries):
    for i in range(2, 30):
        version = f.ModelVersionFactory(model=chain.model, run=chain.run, version=i)
        f.DeploymentFactory(model_version=version, environment=f"e{i}")
        f.DataVersionFactory(dataset=chain.raw.dataset, version=f"x{i}").parent_links.create(parent=chain.raw)
    for path in ("model-versions/", "deployments/", "data-versions/", "runs/", "datasets/", "models/"):
        with django_assert_max_num_queries(6):
            assert ds.get(f"/api/v1/{path}").status_code == 200


def test_whoami_names_the_key_role_and_project_but_not_the_secret(project, make_client):
    client = make_client("data_scientist", project)
    body = client.get("/api/v1/whoami/").json()
    assert body["kind"] == "api_key"
    assert body["is_superuser"] is False
    assert body["memberships"] == [{"project": project.slug, "project_name": project.name, "role": "data_scientist"}]
    secret = client.raw_key.split("_", 2)[2]
    assert secret not in str(body) and body["name"] in client.raw_key


def test_whoami_for_a_superuser_session(superuser_client):
    body = superuser_client.get("/api/v1/whoami/").json()
    assert body["kind"] == "user" and body["is_superuser"] is True and body["memberships"] == []
