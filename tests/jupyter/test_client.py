"""The REST client and the register_* helpers against a live service on PostgreSQL (no mocks)."""

from __future__ import annotations

import hashlib
import json
import os
import socket
from pathlib import Path

import pytest
from governance_jupyter import (
    GovernanceClient,
    GovernanceError,
    JobFailed,
    NotConfigured,
    ServiceRefused,
    ServiceUnreachable,
    register_dataset_version,
    register_model_version,
    register_run,
)
from governance_jupyter.client import is_private_transport
from governance_jupyter.register import register_training
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

from registry import hashing as service_hashing
from registry import profiles as service_profiles
from registry import services
from registry.actors import Actor
from registry.models import DataVersion, ModelVersion, Run, SubjectIndex
from registry.subjects import subject_key

FEATURES = ["employed", "citizen", "year", "age", "checks"]


def fitted_model(frame):
    from sklearn.compose import make_column_transformer

    encode = make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), ["employed", "citizen"]), remainder="passthrough"
    )
    model = make_pipeline(encode, LogisticRegression(max_iter=500))
    return model.fit(frame[FEATURES], frame["released"])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- configuration --------------------------------------------------------------------------------


def test_configuration_from_environment_key_file_and_config_file(monkeypatch, tmp_path):
    with pytest.raises(NotConfigured, match="GOVERNANCE_URL"):
        GovernanceClient()
    key_file = tmp_path / "key"
    key_file.write_text("gk_abc_from-file\n")
    monkeypatch.setenv("GOVERNANCE_URL", "http://127.0.0.1:1/")
    monkeypatch.setenv("GOVERNANCE_API_KEY_FILE", str(key_file))
    client = GovernanceClient()
    assert client.settings.api_key == "gk_abc_from-file"
    assert client.url == "http://127.0.0.1:1"
    assert "gk_abc" not in repr(client) and "gk_abc" not in repr(client.settings)

    monkeypatch.delenv("GOVERNANCE_URL")
    monkeypatch.delenv("GOVERNANCE_API_KEY_FILE")
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"url": "https://gov.example.invalid", "api_key": "gk_def_file", "project": "acme"}))
    monkeypatch.setenv("GOVERNANCE_CONFIG", str(config))
    client = GovernanceClient()
    assert (client.url, client.settings.api_key, client.settings.project) == (
        "https://gov.example.invalid",
        "gk_def_file",
        "acme",
    )
    monkeypatch.setenv("GOVERNANCE_API_KEY", "gk_env_wins")
    assert GovernanceClient().settings.api_key == "gk_env_wins"


def test_bad_url_is_refused_without_echoing_credentials(monkeypatch):
    monkeypatch.setenv("GOVERNANCE_API_KEY", "gk_abc_secret")
    monkeypatch.setenv("GOVERNANCE_URL", "ftp://user:pw@host/")
    with pytest.raises(NotConfigured) as info:
        GovernanceClient()
    assert "pw" not in str(info.value) and "gk_abc_secret" not in str(info.value)


def test_raw_subject_ids_travel_only_over_https_or_loopback():
    assert is_private_transport("https://gov.example.com")
    assert is_private_transport("http://127.0.0.1:8000")
    assert is_private_transport("http://localhost:8000")
    assert is_private_transport("http://[::1]:8000")
    assert not is_private_transport("http://gov.example.com")
    assert not is_private_transport("http://10.0.0.5:8000")


def test_subject_ids_over_plain_http_to_another_host_are_refused_before_sending(monkeypatch):
    client = GovernanceClient("http://gov.example.invalid", "gk_abc_secret")
    with pytest.raises(GovernanceError, match="plain HTTP"):
        client.index_subjects(1, ["alice"])


# -- errors ---------------------------------------------------------------------------------------


def test_unreachable_service_names_the_url_never_the_key():
    url = f"http://127.0.0.1:{free_port()}"
    client = GovernanceClient(url, "gk_abc_supersecret", timeout=3)
    with pytest.raises(ServiceUnreachable) as info:
        client.whoami()
    assert url in str(info.value)
    assert "supersecret" not in str(info.value)


def test_refused_key_is_a_clear_401(live_server, db):
    client = GovernanceClient(live_server.url, "gk_nope_notakey")
    with pytest.raises(ServiceRefused) as info:
        client.whoami()
    assert info.value.status == 401
    assert info.value.code == "authentication_failed"
    assert "notakey" not in str(info.value)


def test_whoami_and_project(service, project):
    with GovernanceClient() as client:
        me = client.whoami()
        assert me["kind"] == "api_key"
        assert me["memberships"] == [{"project": "acme", "project_name": "Acme Bank", "role": "data_scientist"}]
        assert client.project_and_role() == ("acme", "data_scientist")


def test_validation_errors_carry_the_service_fields(service, project):
    with pytest.raises(ServiceRefused) as info:
        register_run(name="x", inputs=[(999_999, "train")])  # no such data version
    assert info.value.status == 400
    assert info.value.code == "invalid"
    assert list(info.value.fields) == ["inputs[0].data_version"]
    assert "inputs[0].data_version" in str(info.value)


def test_a_new_personal_dataset_needs_a_legal_basis(service, project, arrests):
    with pytest.raises(GovernanceError, match="legal basis"):
        register_dataset_version(arrests, dataset="arrests", subject_column="arrest_id")
    assert not DataVersion.objects.exists()
    register_dataset_version(arrests, dataset="arrests", subject_column="arrest_id", legal_basis="public task")
    # once the dataset exists (with its legal basis), later versions need not repeat it
    register_dataset_version(arrests.iloc[:10], dataset="arrests", subject_column="arrest_id")
    assert DataVersion.objects.count() == 2


# -- registration ---------------------------------------------------------------------------------


def test_register_dataset_version_hash_schema_profile_and_subjects(service, project, arrests):
    dv = register_dataset_version(
        arrests, dataset="arrests", subject_column="arrest_id", legal_basis="public task", storage_uri="mem://arrests"
    )
    row = DataVersion.objects.get(pk=dv["id"])
    assert row.content_sha256 == service_hashing.dataframe_sha256(arrests)
    assert row.schema == service_hashing.dataframe_schema(arrests)
    assert row.row_count == len(arrests)
    # the drift reference leaves the raw ids out
    assert row.profile == service_profiles.dataframe_profile(arrests.drop(columns=["arrest_id"]))
    assert "arrest_id" not in json.dumps(row.profile)
    assert row.version == f"sha256-{row.content_sha256[:12]}"
    assert row.dataset.contains_personal_data and row.dataset.legal_basis == "public task"
    assert dv["subject_count"] == len(arrests)
    assert SubjectIndex.objects.filter(data_version=row, subject_key=subject_key("arrest-00042")).exists()
    assert not SubjectIndex.objects.filter(subject_key="arrest-00042").exists()

    again = register_dataset_version(arrests, dataset="arrests", subject_column="arrest_id")
    assert again["id"] == dv["id"]  # same content: the same version, no error, no duplicate index rows
    assert SubjectIndex.objects.filter(data_version=row).count() == len(arrests)

    named = register_dataset_version(arrests.iloc[:100], dataset="arrests", version="first-100", profile_columns=[])
    assert named["version"] == "first-100" and named["profile"] is None
    with pytest.raises(ServiceRefused) as info:  # versions are immutable: another content under that name
        register_dataset_version(arrests.iloc[:50], dataset="arrests", version="first-100")
    assert info.value.status == 409


def test_register_run_and_model_version(service, project, arrests, git_repo, monkeypatch):
    from tests.jupyter.conftest import git

    (git_repo / "train.ipynb").write_text("{}")
    git(git_repo, "add", ".")
    git(git_repo, "commit", "-q", "-m", "first")
    monkeypatch.setenv("JPY_SESSION_NAME", "notebooks/train.ipynb")
    model = fitted_model(arrests)
    dv = register_dataset_version(arrests, dataset="arrests", subject_column="arrest_id", legal_basis="public task")
    run = register_run(
        name="logreg",
        estimator=model,
        params={"split": "all"},
        metrics={"accuracy": 0.71, "loss": [0.9, 0.7, 0.6]},
        inputs=[(dv["id"], "train")],
    )
    row = Run.objects.get(pk=run["id"])
    assert row.source == "notebook"
    assert row.notebook_path == "notebooks/train.ipynb"
    assert row.git_commit == git(git_repo, "rev-parse", "HEAD")
    assert row.git_branch == "main" and row.git_dirty is False
    assert row.params["estimator"] == "sklearn.pipeline.Pipeline"
    assert row.params["logisticregression__max_iter"] == 500 and row.params["split"] == "all"
    assert row.metrics == {"accuracy": 0.71, "loss": [0.9, 0.7, 0.6]}
    assert row.environment["python"] and row.environment["scikit-learn"] and row.environment["pandas"]
    assert row.environment["numpy"]
    assert list(row.input_links.values_list("data_version_id", "role")) == [(dv["id"], "train")]

    mv = register_model_version(model, model="arrests-release", run=run, metrics={"accuracy": 0.71})
    version = ModelVersion.objects.get(pk=mv["id"])
    assert version.version == 1 and version.run_id == run["id"]
    artifact = Path(version.artifact_uri.removeprefix("file://"))
    assert artifact.parent == Path(os.environ["GOVERNANCE_ARTIFACT_DIR"])
    assert hashlib.sha256(artifact.read_bytes()).hexdigest() == version.artifact_sha256
    assert version.framework.startswith("scikit-learn ")
    assert version.signature["inputs"] == dict.fromkeys(FEATURES, "")
    assert version.signature["output"]["classes"] == ["No", "Yes"]

    second = register_model_version(model, model="arrests-release", run=run["id"])
    assert second["version"] == 2


def test_register_training_all_three(service, project, arrests, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # not a git repository: git fields stay empty
    model = fitted_model(arrests)
    result = register_training(
        model,
        arrests,
        target="released",
        subject_column="arrest_id",
        dataset="arrests",
        model="arrests-release",
        metrics={"accuracy": 0.7},
        legal_basis="public task",
    )
    record = result["record"]
    run = Run.objects.get(pk=record["run_id"])
    assert run.git_commit == "" and run.git_dirty is None
    assert run.params["target"] == "released" and run.params["features"] == ",".join(FEATURES)
    dv = DataVersion.objects.get(pk=record["data_version_id"])
    assert set(dv.profile["columns"]) == set(FEATURES)  # the model's features: not the target, not the ids
    mv = ModelVersion.objects.get(pk=record["model_version_id"])
    assert mv.signature["inputs"]["age"] == "int64" and mv.signature["output"]["target"] == "released"
    assert record["model"] == "arrests-release" and record["version"] == 1


def test_metrics_must_be_numbers(service, project):
    with pytest.raises(GovernanceError, match="accuracy"):
        register_run(name="x", metrics={"accuracy": "high"})


# -- the model card -------------------------------------------------------------------------------


def test_model_version_card_patches_only_the_fields_given(service, project):
    from registry.models import AuditEvent
    from registry.models import ModelVersion as Version
    from tests import factories as f

    version = f.ModelVersionFactory(model__project=project, limitations="kept")
    with GovernanceClient() as client:
        edited = client.model_version_card(version.pk, intended_use="loan pre-screening", risk_tier="high")
        assert (edited["intended_use"], edited["limitations"], edited["risk_tier"]) == (
            "loan pre-screening",
            "kept",
            "high",
        )
        event = AuditEvent.objects.get(event_type="model_version.card_updated")
        assert set(event.after) == {"intended_use", "risk_tier", "risk_tier_of"}
        with pytest.raises(GovernanceError, match="at least one"):
            client.model_version_card(version.pk)
        Version.objects.filter(pk=version.pk).update(stage="production")
        with pytest.raises(ServiceRefused) as refused:
            client.model_version_card(version.pk, limitations="rewritten")
    assert refused.value.status == 409
    assert refused.value.code == "card_frozen"
    assert Version.objects.get(pk=version.pk).limitations == "kept"


def audited_version(project):
    """A model version with 80 decisions with outcomes in two groups of `sex`, all of one `region`."""
    from tests import factories as f

    version = f.ModelVersionFactory(model__project=project)
    for i in range(80):
        f.DecisionFactory(
            model_version=version,
            request_id=f"fair-{i}",
            sensitive={"sex": "F" if i % 2 else "M", "region": "north"},
            prediction=int(i % 3 == 0),
            outcome=int(i % 4 == 0),
        )
    return version


def test_a_fairness_audit_follows_its_job_to_the_audit(live_server, project):
    from registry.models import BackgroundJob

    version = audited_version(project)
    _, key = services.api_key_create(actor=Actor.system(), project=project, role="risk_analyst", name="analyst")
    with GovernanceClient(live_server.url, key) as client:
        audit = client.fairness_audit(version.pk, ["sex"], 1)
        assert (audit["model_version"], audit["row_count"], audit["sensitive_features"]) == (version.pk, 80, ["sex"])
        job = BackgroundJob.objects.get()
        assert (job.state, job.result_id) == ("succeeded", str(audit["id"]))
        with pytest.raises(JobFailed) as failed:  # the input is right; the window's groups are not: the job says
            client.fairness_audit(version.pk, ["region"], 1)
        assert failed.value.fields == {
            "sensitive_features": ["the decisions form one group only (region=north): nothing to compare"]
        }
        with pytest.raises(ServiceRefused) as refused:  # a typo is refused before any job
            client.fairness_audit(version.pk, ["religion"], 1)
        assert (refused.value.status, list(refused.value.fields)) == (400, ["sensitive_features"])
        assert BackgroundJob.objects.count() == 2
