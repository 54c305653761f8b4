from __future__ import annotations

import hashlib
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

import pytest
from sklearn.metrics import accuracy_score
from sklego.datasets import load_arrests

from governance.demo import DEMO_PROJECT, demo_load
from governance.models import Decision, FairnessAudit, ModelVersionApproval
from registry.auth import key_lookup
from registry.hashing import dataframe_sha256
from registry.models import (
    ApiKey,
    DataVersion,
    Deployment,
    ModelVersion,
    Project,
    Role,
    Run,
    Stage,
    StageTransition,
    SubjectIndex,
)
from registry.subjects import subject_key

ROWS = 5226  # rows of scikit-lego's arrests data set
TEST_ROWS = 1568  # 30 % of them, stratified
TRAIN_ROWS = ROWS - TEST_ROWS


@pytest.fixture
def demo(db, settings, tmp_path):
    settings.ARTIFACT_ROOT = tmp_path / "artifacts"
    return demo_load()


@pytest.mark.sqlite  # `make run` loads the demo into SQLite
def test_demo_records_the_whole_chain(demo):
    assert demo.loaded
    project = Project.objects.get(slug=DEMO_PROJECT)

    versions = {v.version: v for v in DataVersion.objects.filter(project=project)}
    assert set(versions) == {"2002-raw", "train", "test"}
    raw, train, test = versions["2002-raw"], versions["train"], versions["test"]
    assert (raw.row_count, train.row_count, test.row_count) == (ROWS, TRAIN_ROWS, TEST_ROWS)
    assert raw.dataset.contains_personal_data and raw.dataset.legal_basis
    assert list(raw.parents.all()) == []
    for split in (train, test):
        assert list(split.parents.all()) == [raw]
        assert "stratified" in split.parent_links.get().transformation
    for version in (raw, train, test):
        assert SubjectIndex.objects.filter(data_version=version).count() == version.row_count
        assert version.schema["arrest_id"] == "str"
        assert set(version.schema) == {
            "arrest_id",
            "released",
            "colour",
            "year",
            "age",
            "sex",
            "employed",
            "citizen",
            "checks",
        }
    frame = load_arrests(as_frame=True)
    frame.insert(0, "arrest_id", [f"arrest-{i:05d}" for i in range(len(frame))])
    assert raw.content_sha256 == dataframe_sha256(frame)
    assert train.content_sha256 != test.content_sha256

    runs = list(Run.objects.filter(project=project).order_by("pk"))
    assert len(runs) == 2
    for run in runs:
        assert {(link.data_version_id, link.role) for link in run.input_links.all()} == {
            (train.pk, "train"),
            (test.pk, "test"),
        }
        assert set(run.metrics) == {"accuracy", "roc_auc", "f1"}
        assert 0.5 < run.metrics["roc_auc"] <= 1
        assert "colour" not in run.params["features"] and "sex" not in run.params["features"]
        assert {"python", "scikit-learn", "pandas"} <= set(run.environment)
        assert run.source == Run.Source.API
    assert runs[0].params["class_weight"] == "balanced"
    assert runs[1].params["estimator"] == "fairlearn.reductions.ExponentiatedGradient"

    # v1 failed its fairness audit by colour and stayed in staging; v2 (mitigated) passed and went live
    v1, v2 = ModelVersion.objects.filter(project=project).order_by("version")
    assert (v1.run, v2.run) == (runs[0], runs[1])
    assert (v1.stage, v2.stage) == (Stage.STAGING, Stage.PRODUCTION)
    assert v1.model.risk_tier == "high"
    assert v1.framework.startswith("scikit-learn ") and v2.framework.startswith("fairlearn ")
    assert [a.passed for a in FairnessAudit.objects.filter(model_version=v1)] == [False]
    assert [a.passed for a in FairnessAudit.objects.filter(model_version=v2)] == [True]
    assert ModelVersionApproval.objects.get(model_version=v2).created_by_key.role == Role.COMPLIANCE_OFFICER
    transitions = StageTransition.objects.filter(model_version=v2).order_by("pk")
    assert [(t.from_stage, t.to_stage) for t in transitions] == [
        (Stage.NONE, Stage.STAGING),
        (Stage.STAGING, Stage.PRODUCTION),
    ]
    assert all(c["passed"] for c in transitions.last().checks)
    assert {c["check"] for c in transitions.last().checks} == {
        "fairness_audit",
        "model_card",
        "second_approver",
        "no_open_incident",
    }
    version = v2
    for each in (v1, v2):
        assert each.intended_use and each.limitations
        artifact = Path(url2pathname(urlparse(each.artifact_uri).path))
        assert artifact.is_file()
        assert hashlib.sha256(artifact.read_bytes()).hexdigest() == each.artifact_sha256

    shadows = Deployment.objects.filter(strategy="shadow").order_by("started_at")
    assert [d.model_version for d in shadows] == [v1, v2]
    assert all(d.ended_at is not None for d in shadows)
    deployment = Deployment.objects.get(model_version=version, strategy="direct")
    assert deployment.environment == "production" and deployment.ended_at is None

    decisions = Decision.objects.filter(model_version=version, deployment=deployment)
    assert decisions.count() == TEST_ROWS == demo.decisions == demo.outcomes
    assert Decision.objects.count() == 3 * TEST_ROWS  # v1 in shadow, v2 in shadow, v2 live
    assert not Decision.objects.filter(outcome__isnull=True).exists()
    first = decisions.order_by("occurred_at").first()
    assert first.occurred_at > deployment.started_at
    for decision in decisions:
        assert set(decision.sensitive) == {"colour", "sex"}
        assert set(decision.features) == {"employed", "citizen", "year", "age", "checks"}
        assert decision.prediction in ("Yes", "No") and decision.outcome in ("Yes", "No")
        assert 0 <= decision.score <= 1
        assert decision.outcome_at > decision.occurred_at
    # the decisions' subjects are exactly the test version's subjects
    assert set(decisions.values_list("subject_key", flat=True)) == set(
        SubjectIndex.objects.filter(data_version=test).values_list("subject_key", flat=True)
    )

    keys = {key.role: key for key in ApiKey.objects.filter(project=project)}
    assert set(keys) == {Role.INGEST, Role.RISK_ANALYST, Role.COMPLIANCE_OFFICER}
    assert set(demo.api_keys) == set(keys)
    assert train.profile["format"] == "gov-profile-v1"
    assert all(key_lookup(raw_key).pk == keys[role].pk for role, raw_key in demo.api_keys.items())
    assert not Decision.objects.exclude(created_by_key=keys[Role.INGEST]).exists()


def test_recorded_accuracy_is_that_of_the_logged_decisions(demo):
    rows = list(
        Decision.objects.filter(model_version=demo.model_version, deployment__strategy="direct").values_list(
            "prediction", "outcome"
        )
    )
    recomputed = accuracy_score([outcome == "Yes" for _, outcome in rows], [pred == "Yes" for pred, _ in rows])
    assert demo.run.metrics["accuracy"] == recomputed
    assert demo.model_version.metrics["accuracy"] == recomputed


def test_outcomes_are_the_real_released_values(demo):
    frame = load_arrests(as_frame=True)
    by_subject = {subject_key(f"arrest-{i:05d}"): released for i, released in enumerate(frame["released"])}
    for key, outcome in Decision.objects.values_list("subject_key", "outcome"):
        assert outcome == by_subject[key]
    colour_by_subject = {subject_key(f"arrest-{i:05d}"): colour for i, colour in enumerate(frame["colour"])}
    assert all(
        sensitive["colour"] == colour_by_subject[key]
        for key, sensitive in Decision.objects.values_list("subject_key", "sensitive")
    )


def test_no_raw_arrest_id_is_stored(demo):
    for row in Decision.objects.values_list("request_id", "subject_key", "features", "sensitive", "prediction"):
        assert "arrest" not in str(row)
    assert len(set(Decision.objects.values_list("subject_key", flat=True))) == TEST_ROWS  # the same people, 3 times
    for key in SubjectIndex.objects.values_list("subject_key", flat=True):
        assert len(key) == 64 and "arrest" not in key
    assert not SubjectIndex.objects.filter(subject_key__startswith="arrest").exists()


@pytest.mark.sqlite
def test_second_call_is_a_no_op(demo):
    counts = (Decision.objects.count(), SubjectIndex.objects.count(), ApiKey.objects.count(), Run.objects.count())
    again = demo_load()
    assert not again.loaded
    assert again.project.slug == DEMO_PROJECT
    assert again.api_keys == {}
    assert (
        Decision.objects.count(),
        SubjectIndex.objects.count(),
        ApiKey.objects.count(),
        Run.objects.count(),
    ) == counts
    assert Project.objects.filter(slug=DEMO_PROJECT).count() == 1


def test_a_person_in_the_test_split_obliges_no_retraining(demo):
    """arrest-00003 is indexed in `2002-raw` and `test`; `train` is derived from raw with its own index
    without them: the models were evaluated on the person, not trained on them."""
    from governance.selectors import subject_trace

    project = Project.objects.get(slug=DEMO_PROJECT)
    versions = {v.version: v for v in DataVersion.objects.filter(project=project)}
    key = subject_key("arrest-00003")
    assert SubjectIndex.objects.filter(data_version=versions["test"], subject_key=key).exists()
    assert not SubjectIndex.objects.filter(data_version=versions["train"], subject_key=key).exists()
    trace = subject_trace(project_id=project.pk, subject_key=key)
    assert {dv["id"] for dv in trace["data_versions"]} == {versions["2002-raw"].pk, versions["test"].pk}
    assert trace["model_versions"]
    assert all(mv["used_for"] == ["test"] and not mv["trained_on_subject"] for mv in trace["model_versions"])


def test_demo_tells_the_contest_and_the_incident(demo, django_user_model):
    from django.utils import timezone

    from governance.models import Contest, Incident, ReviewItem
    from governance.presenters.home import home_page
    from registry.actors import Actor

    v1 = ModelVersion.objects.get(version=1)
    # a contested decision of the live model, overridden on review by two people, decided "changed"
    contest = Contest.objects.get()
    assert (contest.status, contest.outcome, contest.final_decision) == ("decided", "changed", "Yes")
    assert contest.review_item.status == "overridden"
    assert {r.reviewer for r in contest.review_item.reviews.all()} == {"demo-reviewer", "demo-second-reviewer"}
    # a sampled share of the live decisions waits for a person
    waiting = ReviewItem.objects.filter(status="pending").count()
    assert 0 < waiting < TEST_ROWS * 0.1
    # an incident on v1 with its clock running; v1 is frozen
    incident = Incident.objects.get()
    assert incident.status == "open" and list(incident.model_versions.all()) == [v1]
    assert incident.affected_count == TEST_ROWS  # v1's shadow decisions
    # the home shows both
    officer = django_user_model.objects.get(username="demo-officer")
    cards = {c["key"]: c for c in home_page(Actor.for_user(officer), project_slug=None, now=timezone.now())["cards"]}
    assert incident.title in [line["label"] for line in cards["incidents"]["lines"]]
    assert f"{waiting} waiting" in cards["reviews"]["headline"]
