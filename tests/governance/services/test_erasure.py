"""GDPR erasure end to end: trace, execute, suppression, retraining obligations, the report."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from governance.models import Decision, ErasureRequest, RetrainingObligation
from governance.services import decisions_ingest
from governance.services.erasure import obligations_check
from governance.subject_data import register_subject_data, unregister_subject_data
from registry import services
from registry.actors import Actor
from registry.audit import audit_chain_verify
from registry.models import AuditEvent, DataVersion, Project, SubjectIndex, SuppressedSubject
from registry.subjects import subject_key
from tests.helpers import make_promotable

SYSTEM = Actor.system()
ALICE_SECRET = "alice-income-98765-secret"


def register(dataset, version, subjects, parents=()):
    dv = services.data_version_register(
        actor=SYSTEM,
        dataset=dataset,
        version=version,
        content_sha256="a" * 64,
        row_count=len(subjects),
        schema={"income": "str"},
        parents=parents,
        transformation="cleaned" if parents else "",
    )
    services.subjects_index(actor=SYSTEM, data_version=dv, subject_ids=subjects)
    return dv


def train(project, model, data_version, name):
    run = services.run_register(
        actor=SYSTEM, project=project, name=name, inputs=[{"data_version": data_version, "role": "train"}]
    )
    return services.model_version_register(
        actor=SYSTEM, model=model, run=run, artifact_uri=f"s3://m/{name}", artifact_sha256="b" * 64
    )


@pytest.fixture
def world(db):
    """alice is in a raw version and a cleaned one derived from it; a production model was trained on the
    cleaned one and made 3 decisions about her (and 2 about bob); an unrelated model never saw her."""
    project = services.project_create(actor=SYSTEM, slug="bank", name="Bank")
    dataset = services.dataset_create(
        actor=SYSTEM, project=project, name="customers", contains_personal_data=True, legal_basis="contract"
    )
    raw = register(dataset, "raw", ["alice", "bob", "carol"])
    cleaned = register(dataset, "cleaned", ["alice", "bob"], parents=[raw])
    unrelated = register(dataset, "other", ["bob", "carol"])
    model = services.model_create(actor=SYSTEM, project=project, name="credit", risk_tier="high")
    version = train(project, model, cleaned, "v1")
    make_promotable(version)
    services.model_version_transition(actor=SYSTEM, model_version=version, to_stage="production", reason="ok")
    deployment = services.deployment_create(
        actor=SYSTEM,
        model_version=version,
        environment="prod",
        started_at=datetime(2026, 1, 1, tzinfo=UTC),
        backfill=True,  # test history
    )
    other_model = services.model_create(actor=SYSTEM, project=project, name="fraud")
    other_version = train(project, other_model, unrelated, "fraud-v1")
    key, _ = services.api_key_create(actor=SYSTEM, project=project, role="ingest", name="scorer")
    items = [
        {
            "model_version": version.pk,
            "deployment": deployment.pk,
            "request_id": f"req-{n}",
            "subject_id": who,
            "features": {"income": ALICE_SECRET if who == "alice" else f"bob-income-{i}"},
            "sensitive": {"sex": "F" if who == "alice" else "M"},
            "prediction": "approve",
            "occurred_at": "2026-02-01T00:00:00Z",
        }
        for n, (who, i) in enumerate([("alice", 0), ("bob", 0), ("alice", 1), ("bob", 1), ("alice", 2)])
    ]
    decisions_ingest(actor=Actor.for_key(key), items=items)
    return {
        "project": project,
        "dataset": dataset,
        "raw": raw,
        "cleaned": cleaned,
        "unrelated": unrelated,
        "model": model,
        "version": version,
        "deployment": deployment,
        "other_version": other_version,
        "ingest": Actor.for_key(key),
    }


@pytest.fixture
def officer(make_client, world):
    return make_client("compliance_officer", world["project"])


def post(client, path, body=None):
    return client.post(f"/api/v1/erasure-requests/{path}", body or {}, format="json")


def pg_dump_text() -> str:
    settings = connection.settings_dict
    return subprocess.run(
        [
            shutil.which("pg_dump"),
            "--data-only",
            "-h",
            settings["HOST"] or "127.0.0.1",
            "-p",
            str(settings["PORT"] or 5432),
            "-U",
            settings["USER"] or "postgres",
            settings["NAME"],
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


@pytest.mark.django_db(transaction=True)
def test_erasure_end_to_end(world, officer):
    if connection.vendor != "postgresql":
        pytest.skip("pg_dump")
    w = world
    alice_decisions = sorted(Decision.objects.filter(subject_key=subject_key("alice")).values_list("id", flat=True))

    created = post(
        officer, "", {"subject_id": "alice", "reference": "DSR-2026-001", "received_at": "2026-11-01T09:00:00Z"}
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["status"], body["due_at"]) == ("received", "2026-12-01T09:00:00Z")
    assert "subject_key" not in body
    pk = body["id"]
    assert ErasureRequest.objects.get(pk=pk).subject_key == subject_key("alice")

    assert post(officer, f"{pk}/execute/").status_code == 409  # not traced yet

    traced = post(officer, f"{pk}/trace/")
    assert traced.status_code == 200, traced.json()
    trace = traced.json()["trace"]
    assert traced.json()["status"] == "traced"
    assert [(dv["id"], dv["holds_subject"], dv["derived_from"]) for dv in trace["data_versions"]] == [
        (w["raw"].pk, True, []),
        (w["cleaned"].pk, True, [w["raw"].pk]),
    ]
    assert [run["inputs"] for run in trace["runs"]] == [[{"data_version": w["cleaned"].pk, "role": "train"}]]
    assert [(mv["id"], mv["live"], mv["trained_on_subject"]) for mv in trace["model_versions"]] == [
        (w["version"].pk, True, True)
    ]
    assert [d["id"] for d in trace["live_deployments"]] == [w["deployment"].pk]
    assert trace["decisions"] == {"count": 3, "ids": alice_decisions, "ids_truncated": False}

    queued = post(officer, f"{pk}/execute/")  # a background job, run in process here (no broker): done already
    assert queued.status_code == 202, queued.json()
    job = queued.json()
    assert queued["Location"] == job["url"] == f"/api/v1/jobs/{job['id']}/"
    assert (job["state"], job["attempts"], job["error"]) == ("succeeded", 1, None)
    assert job["progress"] == {"done": 5, "total": 5, "percent": 100, "message": "done"}
    url = f"/api/v1/erasure-requests/{pk}/"
    assert job["result"] == {"type": "governance.erasurerequest", "id": str(pk), "url": url}
    executed = officer.get(job["result"]["url"])
    assert executed.json()["status"] == "executed"
    assert executed.json()["open_obligations"] == 1
    again = post(officer, f"{pk}/execute/")  # only once: asked again, the same job answers
    assert (again.status_code, again.json()["id"]) == (202, job["id"])
    assert AuditEvent.objects.filter(event_type="erasure.executed", target_id=str(pk)).count() == 1

    # alice is gone from decisions and indexes; the skeleton of her decisions stays
    for decision in Decision.objects.filter(pk__in=alice_decisions):
        assert (decision.features, decision.sensitive, decision.subject_key, decision.salt) == ({}, {}, None, None)
        assert decision.erased_at is not None and decision.prediction == "approve"
        assert decision.model_version_id == w["version"].pk and decision.commitment
    assert not SubjectIndex.objects.filter(subject_key=subject_key("alice")).exists()
    assert set(DataVersion.objects.filter(status="erasure_pending").values_list("pk", flat=True)) == {
        w["raw"].pk,
        w["cleaned"].pk,
    }
    # bob is untouched
    bob = Decision.objects.filter(request_id__in=["req-1", "req-3"])
    assert all(d.features["income"].startswith("bob-income") and d.subject_key == subject_key("bob") for d in bob)
    assert SubjectIndex.objects.filter(subject_key=subject_key("bob")).count() == 3

    dump = pg_dump_text()
    assert ALICE_SECRET not in dump
    # the key stays in two places only, by design: the request itself and the suppression list
    assert _key_only_in_request_and_suppression(dump, subject_key("alice"))
    assert "bob-income-0" in dump and subject_key("bob") in dump
    assert "alice" not in dump

    # the obligation stays open while successors train on data that held her
    again = train(w["project"], w["model"], w["cleaned"], "v2-same-data")
    assert RetrainingObligation.objects.get().status == "open"
    clean = register(w["dataset"], "cleaned-2", ["bob", "dave"], parents=[w["unrelated"]])
    successor = train(w["project"], w["model"], clean, "v3-clean")
    obligation = RetrainingObligation.objects.get()
    assert (obligation.status, obligation.closed_by_version_id) == ("closed", successor.pk)
    assert again.pk != successor.pk
    request = ErasureRequest.objects.get(pk=pk)
    assert request.status == "completed"

    report = officer.get(f"/api/v1/erasure-requests/{pk}/report/").json()
    steps = [(s["event_type"], s["hash"]) for s in report["steps"]]
    assert [t for t, _ in steps] == [
        "erasure.received",
        "erasure.traced",
        "erasure.executed",
        "erasure.obligation_opened",
        "erasure.obligation_closed",
        "erasure.completed",
    ]
    for event_type, digest in steps:
        assert AuditEvent.objects.get(hash=digest).event_type == event_type
    assert report["execution"]["decisions_redacted"] == 3
    assert report["obligations"][0]["closed_by_version"] == successor.pk
    assert report["request"]["status"] == "completed"
    assert all(s["actor"].startswith("key:") or s["actor"] == "system" for s in report["steps"])
    assert audit_chain_verify().ok


def _key_only_in_request_and_suppression(dump: str, key: str) -> bool:
    lines = [line for line in dump.splitlines() if key in line]
    return len(lines) == 2  # governance_erasurerequest and registry_suppressedsubject, one row each


@pytest.mark.sqlite
def test_derived_versions_are_traced_transitively(world):
    """Versions without a subject index of their own are affected by derivation, transitively; a version
    with its own index is affected only when that index holds the subject (and so are its derivatives)."""
    w = world
    sample = register(w["dataset"], "sample", [], parents=[w["cleaned"]])  # no index of its own
    deeper = register(w["dataset"], "sample-2", [], parents=[sample])
    clean = register(w["dataset"], "sample-bob", ["bob"], parents=[w["cleaned"]])  # its index: bob only
    register(w["dataset"], "sample-bob-2", [], parents=[clean])
    request = _traced(w, "alice")
    assert {dv["id"] for dv in request.trace["data_versions"]} == {
        w["raw"].pk,
        w["cleaned"].pk,
        sample.pk,
        deeper.pk,
    }
    assert {dv["id"]: dv["holds_subject"] for dv in request.trace["data_versions"]}[deeper.pk] is False


def _traced(w, who):
    from governance.services.erasure import erasure_request_create, erasure_request_trace

    request = erasure_request_create(actor=SYSTEM, project=w["project"], subject_id=who, reference="T")
    return erasure_request_trace(actor=SYSTEM, request=request)


def _executed(w, who):
    from governance.services.erasure import erasure_request_execute

    return erasure_request_execute(actor=SYSTEM, request=_traced(w, who))


@pytest.mark.sqlite
def test_an_erased_subject_is_refused_at_ingest_and_indexing(world, make_client):
    w = world
    _executed(w, "alice")
    ingest = make_client("ingest", w["project"])
    item = {
        "model_version": w["version"].pk,
        "request_id": "later",
        "subject_id": "alice",
        "features": {},
        "prediction": "approve",
        "occurred_at": "2026-03-01T00:00:00Z",
    }
    response = ingest.post("/api/v1/decisions/bulk/", {"decisions": [item]}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "decisions[0].subject_id": ["this subject was erased from the project; the decision is refused"]
    }
    scientist = make_client("data_scientist", w["project"])
    response = scientist.post(
        f"/api/v1/data-versions/{w['unrelated'].pk}/subjects/", {"subject_ids": ["zoe", "alice"]}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"subject_ids[1]": ["this subject was erased from the project"]}


@pytest.mark.sqlite
def test_a_project_may_strip_the_subject_instead(world, make_client):
    w = world
    Project.objects.filter(pk=w["project"].pk).update(erased_subject_ingest="strip")
    _executed(w, "alice")
    ingest = make_client("ingest", w["project"])
    items = [
        {
            "model_version": w["version"].pk,
            "request_id": f"later-{n}",  # a request id repeating the subject id is refused
            "subject_id": who,
            "features": {},
            "prediction": "approve",
            "occurred_at": "2026-03-01T00:00:00Z",
        }
        for n, who in enumerate(("alice", "bob"))
    ]
    response = ingest.post("/api/v1/decisions/bulk/", {"decisions": items}, format="json")
    assert response.json() == {"accepted": 2, "duplicates": 0, "subjects_stripped": 1}
    assert Decision.objects.get(request_id="later-0").subject_key is None
    assert Decision.objects.get(request_id="later-1").subject_key == subject_key("bob")


def test_suppression_is_per_project(world):
    w = world
    _executed(w, "alice")
    other = services.project_create(actor=SYSTEM, slug="insurer", name="Insurer")
    dataset = services.dataset_create(
        actor=SYSTEM, project=other, name="c", contains_personal_data=True, legal_basis="consent"
    )
    assert SubjectIndex.objects.filter(data_version=register(dataset, "v", ["alice"])).count() == 1
    assert SuppressedSubject.objects.count() == 1


def test_a_request_with_nothing_to_retrain_completes_at_execution(world):
    w = world
    register(w["dataset"], "archive", ["erin"])  # no run ever used it
    request = _executed(w, "erin")
    assert request.status == "completed"
    assert request.execution["retraining_obligations"] == []


@pytest.mark.sqlite
def test_obligations_need_an_indexed_successor(world):
    w = world
    request = _executed(w, "alice")
    unindexed = services.data_version_register(
        actor=SYSTEM,
        dataset=w["dataset"],
        version="no-index",
        content_sha256="c" * 64,
        row_count=1,
        schema={"income": "str"},
    )
    train(w["project"], w["model"], unindexed, "v2-unindexed")  # cannot prove alice is absent
    assert RetrainingObligation.objects.get(erasure_request=request).status == "open"
    services.subjects_index(actor=SYSTEM, data_version=unindexed, subject_ids=["bob"])
    assert obligations_check(actor=SYSTEM, request=request)  # the on-demand check now closes it
    request.refresh_from_db()
    assert request.status == "completed"


def test_reject_and_state_errors(world, officer):
    created = post(officer, "", {"subject_id": "bob", "reference": "DSR-2"}).json()
    assert post(officer, f"{created['id']}/reject/", {}).json()["error"]["fields"] == {
        "reason": ["This field is required."]
    }
    rejected = post(officer, f"{created['id']}/reject/", {"reason": "legal hold: open fraud case"})
    assert rejected.json()["status"] == "rejected"
    assert post(officer, f"{created['id']}/trace/").status_code == 409
    assert post(officer, "", {"subject_id": "", "reference": "x"}).json()["error"]["fields"] == {
        "subject_id": ["must not be empty"]
    }
    future = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    assert (
        "received_at"
        in post(officer, "", {"subject_id": "x", "reference": "x", "received_at": future}).json()["error"]["fields"]
    )


def test_overdue_filter_and_days_left(world, officer):
    post(officer, "", {"subject_id": "bob", "reference": "old", "received_at": "2026-01-01T00:00:00Z"})
    post(officer, "", {"subject_id": "carol", "reference": "new"})
    overdue = officer.get("/api/v1/erasure-requests/", {"overdue": "true"}).json()["results"]
    assert [r["reference"] for r in overdue] == ["old"]
    fresh = officer.get("/api/v1/erasure-requests/", {"overdue": "false"}).json()["results"]
    assert [r["reference"] for r in fresh] == ["new"]
    assert fresh[0]["days_left"] in (29, 30)


class _Notes:
    """A stand-in later module (as llmops will be) holding notes about subjects."""

    name = "notes"

    def __init__(self):
        self.held = {subject_key("alice"): 2}
        self.redacted: list[str] = []

    def trace(self, *, project_id, subject_key):
        return {"count": self.held.get(subject_key, 0)}

    def redact(self, *, actor, project_id, subject_key, at):
        self.redacted.append(subject_key)
        return {"notes_redacted": self.held.pop(subject_key, 0)}


def test_later_modules_join_trace_and_redaction_through_the_hook(world):
    notes = register_subject_data(_Notes())
    try:
        request = _traced(world, "alice")
        assert request.trace["other"]["notes"] == {"count": 2}
        from governance.services.erasure import erasure_request_execute

        executed = erasure_request_execute(actor=SYSTEM, request=request)
        assert executed.execution["other"]["notes"] == {"notes_redacted": 2}
        assert notes.redacted == [subject_key("alice")]
        event = AuditEvent.objects.get(event_type="erasure.executed")
        assert event.after["other"]["notes"] == {"notes_redacted": 2}
    finally:
        unregister_subject_data("notes")
