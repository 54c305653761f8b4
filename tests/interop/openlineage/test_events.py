"""`POST /api/v1/lineage` with the events openlineage-python 1.54 sent to a recorder (samples/, from the spec):
a job run merged from its START and COMPLETE in either order, each sent twice; a failed run; a file dataset
without versions; gzip; bad events refused naming the field with nothing written; and the end-to-end chain
pipeline -> table -> training run -> model version -> decisions, for lineage and for erasure."""

from __future__ import annotations

import copy
import gzip
import json
import uuid
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from governance import services as gov
from registry import services
from registry.actors import Actor
from registry.models import (
    AuditEvent,
    Dataset,
    DataVersion,
    DataVersionParent,
    Job,
    LineageEvent,
    PipelineRun,
    Run,
    RunInput,
    RunOutput,
)
from registry.subjects import subject_key
from tests import factories as f

SAMPLES = Path(__file__).parent / "samples"
URL = "/api/v1/lineage"
SYSTEM = Actor.system()


def sample(name: str) -> dict:
    return json.loads((SAMPLES / name).read_text())


def _client(project, role: str = "ingest") -> Client:
    raw = services.api_key_create(actor=SYSTEM, project=project, role=role, name=f"pipelines {role}")[1]
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


@pytest.fixture
def pipelines(project):
    return _client(project)


def post(client: Client, event: object, **headers):
    return client.post(URL, data=json.dumps(event), content_type="application/json", **headers)


def _counts() -> dict:
    return {
        model.__name__: model.objects.count()
        for model in (AuditEvent, Dataset, DataVersion, DataVersionParent, Job, LineageEvent, Run, RunInput, RunOutput)
    }


RUN_HEX = uuid.UUID("6cf218d7-d8ee-4b30-9ba5-51a4f67fcff1").hex


def _check_merged_run(project) -> Run:
    run = Run.objects.get(project=project, run_uuid=RUN_HEX)
    pipeline = PipelineRun.objects.get(run=run)
    assert (run.source, run.status, run.name) == ("openlineage", "finished", "etl.build_training_set")
    assert run.started_at.isoformat() == "2026-11-26T14:02:33.029323+00:00"  # START's time, whatever came first
    assert run.ended_at.isoformat() == "2026-11-26T14:02:33.036690+00:00"  # COMPLETE's
    assert str(pipeline.job) == "demo-pipelines/etl.build_training_set"
    assert {"nominalTime", "processing_engine", "parent", "tags", "jobType"} - set(pipeline.facets) == {"jobType"}
    assert pipeline.job.facets["jobType"]["value"]["integration"] == "SPARK"
    assert pipeline.job.facets["sql"]["value"]["query"].startswith("SELECT order_id")

    (orders,) = RunInput.objects.filter(run=run).select_related("data_version__dataset")
    assert orders.role == "input"
    assert orders.data_version.dataset.source_uri == "postgres://db.example:5432/shop.public.orders"
    assert orders.data_version.version == "snap-2024-06-01"
    assert orders.facets["inputStatistics"]["rowCount"] == 1000
    assert orders.data_version.dataset.facets["schema"]["value"]["fields"][0]["name"] == "order_id"

    (train,) = RunOutput.objects.filter(run=run).select_related("data_version__dataset")
    assert train.data_version.dataset.source_uri == "s3://ml-bucket/features/train.parquet"
    assert train.data_version.version == "sha256:9f86d081884c7d659a2feaa0c55ad015"
    assert train.data_version.schema == {"order_id": "int64", "amount_usd": "double"}
    assert train.data_version.row_count == 990
    assert train.facets["columnLineage"]["fields"]["amount_usd"]["inputFields"][0]["field"] == "amount"
    edge = DataVersionParent.objects.get(child=train.data_version)
    assert edge.parent == orders.data_version
    assert "etl.build_training_set" in edge.transformation

    parent = run.parent
    assert parent is not None and parent.source == "openlineage"  # the parent facet's run, known by its id
    assert str(parent.pipeline.job) == (
        f"{pipeline.facets['parent']['value']['job']['namespace']}/{pipeline.facets['parent']['value']['job']['name']}"
    )
    return run


def test_start_then_complete_merge_into_one_finished_run(pipelines, project):
    assert post(pipelines, sample("ol__start.json")).status_code == 201
    run = Run.objects.get(run_uuid=RUN_HEX)
    assert run.status == "running"
    response = post(pipelines, sample("ol__complete.json"))
    assert response.status_code == 201 and response.content == b""
    _check_merged_run(project)
    recorded = AuditEvent.objects.filter(event_type="lineage.event_recorded", target_id=str(run.pk))
    assert [e.after["event_type"] for e in recorded.order_by("seq")] == ["START", "COMPLETE"]


def test_events_in_the_other_order_and_twice_give_the_same_run(pipelines, project):
    assert post(pipelines, sample("ol__complete.json")).status_code == 201
    assert post(pipelines, sample("ol__start.json")).status_code == 201
    before = _counts()
    assert post(pipelines, sample("ol__complete.json")).status_code == 200  # known: nothing changes
    assert post(pipelines, sample("ol__start.json")).status_code == 200
    assert _counts() == before
    _check_merged_run(project)


def test_a_failed_run_keeps_its_error(pipelines, project):
    event = sample("ol__fail.json")
    assert post(pipelines, event).status_code == 201
    run = Run.objects.get(run_uuid=uuid.UUID(event["run"]["runId"]).hex)
    assert run.status == "failed"
    assert run.pipeline.error_message == event["run"]["facets"]["errorMessage"]["message"]


def test_a_file_without_versions_is_one_dataset_and_one_version_for_its_readers(pipelines, project):
    first = sample("ol__start_minimal_env_config.json")
    second = copy.deepcopy(first)
    second["run"]["runId"] = str(uuid.uuid4())
    assert post(pipelines, first).status_code == 201
    assert post(pipelines, second).status_code == 201
    dataset = Dataset.objects.get(project=project, source_uri="file:///data/x.csv")
    assert dataset.versions.count() == 1  # an input binds to the dataset's current version
    assert RunInput.objects.filter(data_version__dataset=dataset).count() == 2


def test_mlflow_and_openlineage_name_one_local_file_as_one_dataset(pipelines, project):
    """MLflow's dataset source for a local file is its path; OpenLineage's is namespace `file` and the path."""
    mlflow_side = services.dataset_ensure(actor=SYSTEM, project=project, name="x", source_uri="/data/x.csv")
    assert post(pipelines, sample("ol__start_minimal_env_config.json")).status_code == 201
    assert Dataset.objects.filter(project=project).get() == mlflow_side
    assert mlflow_side.source_uri == "file:///data/x.csv"


def test_gzip_bodies_are_read_and_bombs_refused(pipelines, project, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000_000  # the cap applies to the body once inflated
    body = gzip.compress(json.dumps(sample("ol__start.json")).encode())
    response = pipelines.post(URL, data=body, content_type="application/json", HTTP_CONTENT_ENCODING="gzip")
    assert response.status_code == 201, response.content
    before = _counts()
    bomb = gzip.compress(b" " * 50_000_000 + b"{}")
    assert len(bomb) < 100_000
    response = pipelines.post(URL, data=bomb, content_type="application/json", HTTP_CONTENT_ENCODING="gzip")
    assert response.status_code == 413
    assert "decompressed" in response.json()["error"]["message"]
    response = pipelines.post(
        URL, data=b"\x1f\x8bnot gzip", content_type="application/json", HTTP_CONTENT_ENCODING="gzip"
    )
    assert response.status_code == 400
    response = pipelines.post(URL, data=body[:-20], content_type="application/json", HTTP_CONTENT_ENCODING="gzip")
    assert response.status_code == 400
    response = pipelines.post(URL, data=body, content_type="application/json", HTTP_CONTENT_ENCODING="br")
    assert response.status_code == 415
    assert _counts() == before


def _without(event: dict, *path: str) -> dict:
    event = copy.deepcopy(event)
    node = event
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return event


def _with(event: dict, value: object, *path) -> dict:
    event = copy.deepcopy(event)
    node = event
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return event


START = sample("ol__start.json")


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ([START], "body"),
        (_without(START, "run", "runId"), "run.runId"),
        (_with(START, "run-1", "run", "runId"), "run.runId"),
        (_without(START, "eventTime"), "eventTime"),
        (_with(START, "2021-11-03", "eventTime"), "eventTime"),
        (_with(START, "0001-01-01T00:00:00+14:00", "eventTime"), "eventTime"),
        (_without(START, "producer"), "producer"),
        (_with(START, "FINISHED", "eventType"), "eventType"),
        (_without(START, "job", "name"), "job.name"),
        (_with(START, "", "job", "namespace"), "job.namespace"),
        (_with(START, {"name": "t"}, "inputs"), "inputs"),
        (_with(START, [{"namespace": "file"}], "inputs"), "inputs[0].name"),
        (_with(START, "schema", "outputs", 0, "facets"), "outputs[0].facets"),
        (_with(START, [1, 2], "outputs", 0, "facets", "schema"), "outputs[0].facets.schema"),
        (_with(START, {"job": {"namespace": "n", "name": "j"}}, "run", "facets", "parent"), "run.facets.parent.run"),
        (_with(START, "x" * 1001, "job", "name"), "job.name"),
        (_with(START, "a\u0000b", "job", "name"), "job.name"),
    ],
)
def test_a_bad_event_is_a_400_naming_the_field_and_writes_nothing(pipelines, event, field):
    before = _counts()
    response = post(pipelines, event)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert field in error["fields"], error
    assert _counts() == before


def test_a_run_id_of_an_mlflow_run_is_refused(pipelines, project):
    experiment = services.experiment_default(actor=SYSTEM, project=project)
    run_id = uuid.uuid4()
    services.run_start(
        actor=SYSTEM, project=project, experiment=experiment, name="m", run_uuid=run_id.hex, started_at=timezone.now()
    )
    before = _counts()
    response = post(pipelines, _with(START, str(run_id), "run", "runId"))
    assert response.status_code == 400
    assert "run.runId" in response.json()["error"]["fields"]
    assert _counts() == before


def test_a_run_changing_its_job_is_refused(pipelines):
    assert post(pipelines, START).status_code == 201
    moved = _with(_with(START, "other.job", "job", "name"), "2026-11-26T15:00:00+00:00", "eventTime")
    before = _counts()
    response = post(pipelines, moved)
    assert response.status_code == 400 and "job" in response.json()["error"]["fields"]
    assert _counts() == before  # not even the new job or the event's row


@pytest.mark.parametrize(
    ("role", "status"), [("ingest", 201), ("data_scientist", 201), ("risk_analyst", 403), ("compliance_officer", 403)]
)
def test_roles(project, role, status):
    assert post(_client(project, role), START).status_code == status


def test_no_key_or_a_revoked_key_is_401_and_a_session_is_403(project, admin_client):
    assert post(Client(), START).status_code == 401
    key, raw = services.api_key_create(actor=SYSTEM, project=project, role="ingest", name="old")
    services.api_key_revoke(actor=SYSTEM, key=key)
    assert post(Client(HTTP_AUTHORIZATION=f"Bearer {raw}"), START).status_code == 401
    assert post(admin_client, START).status_code == 403
    assert Run.objects.count() == 0


def test_the_same_run_id_in_two_projects_is_two_runs(pipelines, project, other_project):
    assert post(pipelines, START).status_code == 201
    assert post(_client(other_project), START).status_code == 201
    runs = Run.objects.filter(run_uuid=RUN_HEX)
    assert sorted(r.project.slug for r in runs) == ["acme", "globex"]
    assert Dataset.objects.filter(project=other_project).count() == 2  # its own datasets, not acme's


def test_dataset_and_job_events(pipelines, project):
    dataset_event = {
        "eventTime": "2026-11-26T10:00:00Z",
        "producer": "https://example.com/catalog",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent",
        "dataset": {
            "namespace": "s3://ml-bucket",
            "name": "features/train.parquet",
            "facets": {"documentation": {"description": "training features"}, "version": {"datasetVersion": "7"}},
        },
    }
    assert post(pipelines, dataset_event).status_code == 201
    dataset = Dataset.objects.get(source_uri="s3://ml-bucket/features/train.parquet")
    assert dataset.facets["documentation"]["value"]["description"] == "training features"
    assert dataset.versions.get().version == "7"
    job_event = {
        "eventTime": "2026-11-26T10:00:00Z",
        "producer": "https://example.com/scheduler",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/definitions/JobEvent",
        "job": {"namespace": "dags", "name": "nightly", "facets": {"documentation": {"description": "nightly"}}},
        "inputs": [{"namespace": "file", "name": "/in.csv"}],
    }
    assert post(pipelines, job_event).status_code == 201
    assert (
        Job.objects.get(namespace="dags", name="nightly").facets["documentation"]["value"]["description"] == "nightly"
    )
    assert Dataset.objects.filter(source_uri="file:///in.csv").exists()
    assert not Run.objects.exists()


def test_an_older_event_does_not_overwrite_a_newer_facet(pipelines):
    late = _with(START, {"nominalStartTime": "2026-01-01T00:00:00Z"}, "run", "facets", "nominalTime")
    newer = _with(
        _with(START, {"nominalStartTime": "2026-02-02T00:00:00Z"}, "run", "facets", "nominalTime"),
        "2026-11-26T15:00:00+00:00",
        "eventTime",
    )
    assert post(pipelines, newer).status_code == 201
    assert post(pipelines, late).status_code == 201
    pipeline = PipelineRun.objects.get(run__run_uuid=RUN_HEX)  # (the other is its parent's)
    assert pipeline.facets["nominalTime"]["value"]["nominalStartTime"] == "2026-02-02T00:00:00Z"


def test_pipeline_to_decisions_for_lineage_and_erasure(pipelines, project, admin_client):
    """An OpenLineage job writes the training table from the orders table; a model is trained on that table
    through our API and makes decisions: a decision's upstream lineage reaches the orders table, and a subject
    indexed on the orders version is traced to the model version and its decisions."""
    for event in ("ol__start.json", "ol__complete.json"):
        assert post(pipelines, sample(event)).status_code == 201
    orders = DataVersion.objects.get(dataset__source_uri="postgres://db.example:5432/shop.public.orders")
    train = DataVersion.objects.get(dataset__source_uri="s3://ml-bucket/features/train.parquet")
    services.subjects_index(actor=SYSTEM, data_version=orders, subject_ids=["customer-42", "customer-43"])

    run = services.run_register(
        actor=SYSTEM, project=project, name="train credit", inputs=[{"data_version": train, "role": "train"}]
    )
    model = services.model_create(actor=SYSTEM, project=project, name="credit")
    version = services.model_version_register(
        actor=SYSTEM, model=model, run=run, artifact_uri="s3://models/credit/1", artifact_sha256="a" * 64
    )
    decision = f.DecisionFactory(model_version=version, subject_key=subject_key("customer-42"))

    scientist = _client(project, "data_scientist")
    lineage = scientist.get("/api/v1/lineage/", {"node": f"decision:{decision.pk}", "direction": "upstream"}).json()
    nodes = {node["id"]: node for node in lineage["nodes"]}
    assert f"data_version:{orders.pk}" in nodes
    pipeline_run = Run.objects.get(run_uuid=RUN_HEX)
    assert nodes[f"run:{pipeline_run.pk}"]["attrs"]["job"] == "demo-pipelines/etl.build_training_set"
    relations = {(e["source"], e["relation"], e["target"]) for e in lineage["edges"]}
    assert (f"run:{pipeline_run.pk}", "output", f"data_version:{train.pk}") in relations
    assert (f"data_version:{orders.pk}", "input", f"run:{pipeline_run.pk}") in relations

    erasure = gov.erasure_request_create(actor=SYSTEM, project=project, subject_id="customer-42", reference="T-9")
    trace_of = gov.erasure_request_trace(actor=SYSTEM, request=erasure).trace
    text = json.dumps(trace_of, default=str)
    assert str(version.pk) in text and "credit" in text
    assert trace_of["decisions"]["ids"] == [decision.pk]
    (traced,) = trace_of["model_versions"]
    assert (traced["id"], traced["trained_on_subject"]) == (version.pk, True)

    page = admin_client.get(f"/admin/registry/modelversion/{version.pk}/change/").content.decode()
    assert "by pipeline" in page and "demo-pipelines/etl.build_training_set</a>" in page


def test_admin_shows_a_job_run_with_its_inputs_and_outputs(pipelines, project, admin_client):
    for event in ("ol__start.json", "ol__complete.json"):
        post(pipelines, sample(event))
    run = Run.objects.get(run_uuid=RUN_HEX)
    page = admin_client.get(f"/admin/registry/run/{run.pk}/change/").content.decode()
    assert "Pipeline (OpenLineage)" in page
    assert "shop.public.orders" in page and "features/train.parquet" in page
    assert "nominalTime" in page
    job = admin_client.get(f"/admin/registry/job/{run.pipeline.job_id}/change/").content.decode()
    assert run.run_uuid in job and "SPARK" in job
    train = RunOutput.objects.get(run=run).data_version
    version_page = admin_client.get(f"/admin/registry/dataversion/{train.pk}/change/").content.decode()
    assert "demo-pipelines/etl.build_training_set" in version_page
    events = admin_client.get("/admin/registry/lineageevent/").content.decode()
    assert events.count("RunEvent") >= 2


def test_a_derived_from_edge_changed_by_sql_is_named_by_records_verify(pipelines, project):
    """An insider deleting the edge that makes the pipeline's output derive from its input would hide the output
    (and what was trained on it) from an erasure trace of the input; one inserting an edge would fake lineage."""
    from django.db import connection

    from registry.records import records_verify

    for event in ("ol__start.json", "ol__complete.json"):
        post(pipelines, sample(event))
    assert records_verify().ok
    edge = DataVersionParent.objects.get(transformation__startswith="pipeline")
    child, parent = edge.child_id, edge.parent_id
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM registry_dataversionparent WHERE id = %s", [edge.pk])
    bad = [b for b in records_verify().bad_records if b["record"] == "registry.dataversionparent"]
    assert bad == [{"record": "registry.dataversionparent", "id": f"{child}<-{parent}", "reason": bad[0]["reason"]}]
    assert "it is gone" in bad[0]["reason"]
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO registry_dataversionparent (child_id, parent_id, transformation) VALUES (%s, %s, '')",
            [parent, child],
        )
    reasons = [b["reason"] for b in records_verify().bad_records if b["record"] == "registry.dataversionparent"]
    assert any(f"no event records data version {parent} derived from {child}" in r for r in reasons)
