"""The stock mlflow client (pinned in requirements-dev.txt), unchanged, logging to this service over HTTP:
what it writes are our records, written through our services and recorded in the audit trail."""

from __future__ import annotations

import hashlib

import mlflow
import mlflow.sklearn
import pytest
import requests
from django.core.signals import request_started
from mlflow.exceptions import MlflowException, RestException

from registry.models import (
    Artifact,
    AuditEvent,
    DataVersion,
    Experiment,
    LoggedModel,
    MetricPoint,
    ModelAlias,
    ModelAliasMove,
    ModelVersion,
    Run,
    RunInput,
    Stage,
)
from registry.services import artifact_file
from tests.helpers import make_promotable


def _api(tracking, role: str) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {tracking.use(role)}"
    tracking.use("data_scientist")
    return session


def _digest_on_disk(model: LoggedModel) -> str:
    prefix = f"{model.experiment.number}/models/{model.model_id}/artifacts/"
    lines = []
    for artifact in Artifact.objects.filter(project_id=model.project_id, path__startswith=prefix):
        data = artifact_file(model.project_id, artifact.path).read_bytes()
        lines.append(f"{artifact.path[len(prefix) :]}\t{len(data)}\t{hashlib.sha256(data).hexdigest()}\n")
    return hashlib.sha256("".join(sorted(lines)).encode()).hexdigest()


@pytest.mark.sqlite  # `make run` serves the embedded SQLite database: MLflow clients log there too
def test_autolog_of_a_scikit_learn_fit_with_a_registered_model(tracking, iris):
    from sklearn.linear_model import LogisticRegression

    X, y = iris
    mlflow.set_experiment("iris-governance")
    mlflow.sklearn.autolog()
    with mlflow.start_run(run_name="typical") as active:
        clf = LogisticRegression(max_iter=200).fit(X, y)
        mlflow.sklearn.log_model(clf, name="model", registered_model_name="iris-clf", input_example=X.head(3))

    experiment = Experiment.objects.get(project=tracking.project, name="iris-governance")
    assert experiment.number == 1
    run = Run.objects.get(run_uuid=active.info.run_id)
    assert (run.project, run.experiment, run.source, run.status) == (tracking.project, experiment, "mlflow", "finished")
    assert run.name == "typical" and run.ended_at is not None and run.started_at <= run.ended_at
    assert run.params["max_iter"] == "200" and run.params["solver"] == "lbfgs"
    assert run.metrics["training_accuracy_score"] > 0.9
    assert run.tags["estimator_class"] == "sklearn.linear_model._logistic.LogisticRegression"
    assert run.user_name and run.source_name  # from mlflow.user and mlflow.source.name
    # autolog's training input and the input example of the explicit model: data versions in their roles
    roles = set(RunInput.objects.filter(run=run).values_list("role", flat=True))
    assert "train" in roles
    # autolog logs its own model and the explicit one; both are finalized with the digest of their files
    models = list(LoggedModel.objects.filter(run=run))
    assert len(models) == 2 and {m.status for m in models} == {"ready"}
    for model in models:
        assert model.artifact_sha256 == _digest_on_disk(model)
    version = ModelVersion.objects.get(model__name="iris-clf", version=1)
    registered = version.logged_model
    assert version.run == run and version.artifact_sha256 == registered.artifact_sha256
    assert version.framework.startswith("sklearn ")
    assert Artifact.objects.filter(logged_model=registered, path__endswith="/model.skops").exists()
    # every write is in the audit trail
    events = set(AuditEvent.objects.filter(project_id=tracking.project.pk).values_list("event_type", flat=True))
    assert {
        "experiment.created",
        "run.registered",
        "run.logged",
        "run.inputs_logged",
        "run.updated",
        "logged_model.created",
        "logged_model.updated",
        "artifact.stored",
        "model.created",
        "model_version.registered",
    } <= events

    # the same script again: the registered model exists, the new version is 2
    with mlflow.start_run(run_name="again"):
        clf = LogisticRegression(max_iter=200).fit(X, y)
        mlflow.sklearn.log_model(clf, name="model", registered_model_name="iris-clf")
    assert ModelVersion.objects.get(model__name="iris-clf", version=2).run.name == "again"


@pytest.mark.sqlite  # `make run` serves the embedded SQLite database: MLflow clients log there too
def test_explicit_params_metrics_tags_and_input(tracking, iris):
    X, y = iris
    mlflow.set_experiment("explicit")
    with mlflow.start_run(run_name="explicit") as active:
        mlflow.log_param("alpha", 0.5)
        mlflow.log_params({"layers": 3, "optimizer": "adam"})
        mlflow.log_metric("loss", 0.9, step=1)
        mlflow.log_metric("loss", 0.7, step=2)
        mlflow.log_metrics({"loss": 0.5, "accuracy": 0.8}, step=3)
        mlflow.log_metric("loss", 0.6, step=0)  # an earlier step logged late is history, not the latest
        mlflow.set_tag("team", "risk")
        mlflow.set_tags({"mlflow.source.git.commit": "abc123", "purpose": "credit"})
        dataset = mlflow.data.from_pandas(
            X.assign(target=y), source="s3://bucket/iris.csv", name="iris", targets="target"
        )
        mlflow.log_input(dataset, context="training")
        mlflow.log_param("alpha", 0.5)  # the same value again is fine
        with pytest.raises(MlflowException) as changed:
            mlflow.log_param("alpha", 0.7)
        assert changed.value.error_code == "INVALID_PARAMETER_VALUE"
        assert "alpha" in changed.value.message

    run = Run.objects.get(run_uuid=active.info.run_id)
    assert run.params == {"alpha": "0.5", "layers": "3", "optimizer": "adam"}
    assert run.metrics == {"loss": 0.5, "accuracy": 0.8}
    assert run.git_commit == "abc123" and run.tags["team"] == "risk"
    points = list(MetricPoint.objects.filter(run=run, key="loss").values_list("step", "value"))
    assert sorted(points) == [(0, 0.6), (1, 0.9), (2, 0.7), (3, 0.5)]
    history = mlflow.MlflowClient().get_metric_history(active.info.run_id, "loss")
    assert [(m.step, m.value) for m in history] == [(0, 0.6), (1, 0.9), (2, 0.7), (3, 0.5)]

    link = RunInput.objects.select_related("data_version__dataset").get(run=run)
    version = link.data_version
    assert link.role == "train"
    assert version.dataset.source_uri == "s3://bucket/iris.csv" and version.dataset.name == "iris"
    assert version.digest == dataset.digest and version.version == dataset.digest
    assert version.row_count == 150 and version.content_sha256 == ""
    assert version.schema["sepal length (cm)"] == "double"

    # the same table logged by another run is the same dataset and version
    with mlflow.start_run(run_name="second"):
        mlflow.log_input(dataset, context="eval")
    assert DataVersion.objects.filter(dataset=version.dataset).count() == 1
    assert RunInput.objects.filter(data_version=version).count() == 2

    found = mlflow.search_runs(
        experiment_names=["explicit"], filter_string="metrics.loss < 0.8 and params.alpha = '0.5'"
    )
    assert list(found["run_id"]) == [active.info.run_id]
    assert list(found["tags.team"]) == ["risk"]
    ordered = mlflow.search_runs(experiment_names=["explicit"], order_by=["attributes.start_time ASC"])
    assert list(ordered["tags.mlflow.runName"]) == ["explicit", "second"]


def test_register_from_a_runs_uri_and_load_by_alias_and_by_version(tracking, iris):
    from sklearn.linear_model import LogisticRegression

    X, y = iris
    mlflow.set_experiment("consumers")
    with mlflow.start_run() as active:
        clf = LogisticRegression(max_iter=300).fit(X, y)
        mlflow.sklearn.log_model(clf, name="model")
    version = mlflow.register_model(f"runs:/{active.info.run_id}/model", "tree")
    assert version.version == "1"
    stored = ModelVersion.objects.get(model__name="tree", version=1)
    assert stored.run.run_uuid == active.info.run_id and len(stored.artifact_sha256) == 64

    client = mlflow.MlflowClient()
    client.set_registered_model_alias("tree", "challenger", "1")
    assert client.get_model_version_by_alias("tree", "challenger").version == "1"
    by_alias = mlflow.pyfunc.load_model("models:/tree@challenger")
    by_version = mlflow.sklearn.load_model("models:/tree/1")
    assert list(by_alias.predict(X.head(5))) == list(clf.predict(X.head(5)))
    assert list(by_version.predict(X.head(5))) == list(clf.predict(X.head(5)))
    move = ModelAliasMove.objects.get(model__name="tree", name="challenger")
    assert (move.from_version, move.to_version, move.protected, move.transition) == (None, stored, False, None)
    assert AuditEvent.objects.filter(event_type="model_alias.moved", target_id=str(stored.model_id)).exists()


def test_a_protected_alias_move_the_gate_refuses_names_the_failed_checks(tracking, iris):
    from sklearn.linear_model import LogisticRegression

    X, y = iris
    with mlflow.start_run():
        mlflow.sklearn.log_model(
            LogisticRegression(max_iter=300).fit(X, y), name="model", registered_model_name="gated"
        )
    client = mlflow.MlflowClient()
    with pytest.raises(MlflowException) as refused:
        client.set_registered_model_alias("gated", "champion", "1")
    assert refused.value.error_code == "PERMISSION_DENIED"
    assert "promotion gate refuses" in refused.value.message
    assert "fairness audit" in refused.value.message and "model card lacks" in refused.value.message
    version = ModelVersion.objects.get(model__name="gated", version=1)
    assert version.stage == Stage.NONE
    assert not ModelAlias.objects.filter(model__name="gated").exists()
    assert not ModelAliasMove.objects.exists()

    # a risk analyst may read, never move an alias (whatever the gate says)
    tracking.use("risk_analyst")
    assert client.get_registered_model("gated").name == "gated"
    with pytest.raises(MlflowException) as forbidden:
        client.set_registered_model_alias("gated", "challenger", "1")
    assert forbidden.value.error_code == "PERMISSION_DENIED"


def test_a_protected_alias_move_that_passes_is_the_promotion(tracking, iris):
    from sklearn.linear_model import LogisticRegression

    X, y = iris
    with mlflow.start_run():
        mlflow.sklearn.log_model(
            LogisticRegression(max_iter=300).fit(X, y), name="model", registered_model_name="passing"
        )
    version = ModelVersion.objects.get(model__name="passing", version=1)
    make_promotable(version)
    mlflow.MlflowClient().set_registered_model_alias("passing", "champion", "1")
    version.refresh_from_db()
    assert version.stage == Stage.PRODUCTION
    move = ModelAliasMove.objects.get(model__name="passing", name="champion")
    assert move.protected and move.transition.to_stage == Stage.PRODUCTION
    assert all(check["passed"] for check in move.transition.checks)
    assert mlflow.MlflowClient().get_model_version("passing", "1").current_stage == "Production"


def test_bearer_and_basic_auth_and_bad_keys(tracking, monkeypatch):
    raw = tracking.use("data_scientist")
    monkeypatch.delenv("MLFLOW_TRACKING_TOKEN")
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "anyone")
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", raw)
    experiment_id = mlflow.create_experiment("basic-auth")
    assert (
        Experiment.objects.get(number=int(experiment_id)).created_by_key.key_sha256
        == hashlib.sha256(raw.encode()).hexdigest()
    )
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", raw[:-2] + "xx")
    with pytest.raises(MlflowException) as bad:
        mlflow.get_experiment(experiment_id)
    assert bad.value.error_code == "UNAUTHENTICATED"
    monkeypatch.delenv("MLFLOW_TRACKING_USERNAME")
    monkeypatch.delenv("MLFLOW_TRACKING_PASSWORD")
    tracking.use_raw(raw)
    assert mlflow.get_experiment(experiment_id).name == "basic-auth"
    monkeypatch.delenv("MLFLOW_TRACKING_TOKEN")
    with pytest.raises(MlflowException) as anonymous:
        mlflow.get_experiment(experiment_id)
    assert anonymous.value.error_code == "UNAUTHENTICATED"


def test_an_ingest_key_may_not_register_models(tracking, iris):
    tracking.use("ingest")
    with pytest.raises(MlflowException) as refused:
        mlflow.MlflowClient().create_registered_model("nope")
    assert refused.value.error_code == "PERMISSION_DENIED"
    assert not Run.objects.exists()


def test_an_unknown_route_is_endpoint_not_found_and_not_retried(tracking, monkeypatch):
    from mlflow.utils.rest_utils import MlflowHostCreds, call_endpoint

    monkeypatch.delenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES")  # the client's own retry policy (7 retries on 5xx)
    seen = []

    def count(sender, environ, **kwargs):
        if environ.get("PATH_INFO", "").endswith("/no-such-route"):
            seen.append(environ["PATH_INFO"])

    request_started.connect(count)
    try:
        creds = MlflowHostCreds(tracking.url, token=tracking.keys[f"{tracking.project.slug}:data_scientist"])
        with pytest.raises(RestException) as missing:
            call_endpoint(creds, "/api/2.0/mlflow/runs/no-such-route", "POST", "{}", None)
    finally:
        request_started.disconnect(count)
    assert missing.value.error_code == "ENDPOINT_NOT_FOUND"
    assert seen == ["/api/2.0/mlflow/runs/no-such-route"]


def test_lineage_from_the_model_version_reaches_the_logged_dataset_and_erasure_finds_it(tracking, iris):
    from sklearn.linear_model import LogisticRegression

    X, y = iris
    rows = X.assign(target=y, row_id=[f"person-{i}" for i in range(len(X))])
    with mlflow.start_run() as active:
        dataset = mlflow.data.from_pandas(rows, source="s3://bank/applicants.parquet", name="applicants")
        mlflow.log_input(dataset, context="training")
        clf = LogisticRegression(max_iter=300).fit(X, y)
        mlflow.sklearn.log_model(clf, name="model", registered_model_name="credit")
    version = ModelVersion.objects.get(model__name="credit", version=1)
    data_version = DataVersion.objects.get(dataset__source_uri="s3://bank/applicants.parquet")

    scientist = _api(tracking, "data_scientist")
    indexed = scientist.post(
        f"{tracking.url}/api/v1/data-versions/{data_version.pk}/subjects/",
        json={"subject_ids": list(rows["row_id"])},
        timeout=30,
    )
    assert indexed.status_code == 200, indexed.text
    lineage = scientist.get(
        f"{tracking.url}/api/v1/lineage/",
        params={"node": f"model_version:{version.pk}", "direction": "upstream"},
        timeout=30,
    ).json()
    nodes = {node["id"] for node in lineage["nodes"]}
    assert f"data_version:{data_version.pk}" in nodes
    assert f"run:{Run.objects.get(run_uuid=active.info.run_id).pk}" in nodes

    officer = _api(tracking, "compliance_officer")
    request = officer.post(
        f"{tracking.url}/api/v1/erasure-requests/", json={"subject_id": "person-7", "reference": "T-1"}, timeout=30
    ).json()
    trace = officer.post(f"{tracking.url}/api/v1/erasure-requests/{request['id']}/trace/", json={}, timeout=30)
    assert trace.status_code == 200, trace.text
    assert str(version.pk) in trace.text and "credit" in trace.text


def test_a_nested_run_names_its_parent_and_a_crash_is_a_failed_run(tracking):
    with mlflow.start_run(run_name="sweep") as parent:
        with mlflow.start_run(run_name="trial-1", nested=True) as child:
            mlflow.log_metric("loss", 0.3)
    assert Run.objects.get(run_uuid=child.info.run_id).parent == Run.objects.get(run_uuid=parent.info.run_id)
    with pytest.raises(ZeroDivisionError), mlflow.start_run(run_name="crash") as crashed:
        1 / 0  # noqa: B018
    assert Run.objects.get(run_uuid=crashed.info.run_id).status == "failed"
