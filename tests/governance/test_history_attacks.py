"""History cannot be rewritten: an outcome is written once and corrected only as an audited version, an erased
decision's skeleton stays covered, and what an insider changes by SQL is named by `decisions/verify/`."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from governance.events import GovernanceEvent
from governance.integrity import canonical_skeleton, skeleton_commitment
from governance.models import Decision, OutcomeVersion
from governance.services.erasure import erasure_request_create, erasure_request_execute, erasure_request_trace
from registry.actors import Actor
from registry.audit import audit_chain_verify
from registry.models import AuditEvent
from tests.governance.test_integrity import auditor, logged, verify  # noqa: F401 (fixtures)

SYSTEM = Actor.system()
URL = "/api/v1/decisions/outcomes/"


@pytest.fixture
def ingest(make_client, logged):  # noqa: F811
    return make_client("ingest", logged[0].project)


def post(client, *items):
    return client.post(URL, {"outcomes": list(items)}, format="json")


def outcome(version, request_id, value, **extra):
    return {"model_version": version.pk, "request_id": request_id, "outcome": value, **extra}


def sql(statement: str, *params) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def erase_person_1(version) -> None:
    request = erasure_request_create(actor=SYSTEM, project=version.project, subject_id="person-1", reference="T")
    erasure_request_execute(actor=SYSTEM, request=erasure_request_trace(actor=SYSTEM, request=request))


@pytest.mark.sqlite
def test_a_second_outcome_is_refused_and_nothing_is_written(logged, ingest, auditor):  # noqa: F811
    version = logged[0]
    assert post(ingest, outcome(version, "r2", 1)).json() == {"updated": 1, "unknown": []}
    response = post(ingest, outcome(version, "r3", 1), outcome(version, "r2", 0))
    assert response.status_code == 400
    assert "already has an outcome" in response.json()["error"]["fields"]["outcomes[1].outcome"][0]
    assert Decision.objects.get(model_version=version, request_id="r2").outcome == 1
    assert Decision.objects.get(model_version=version, request_id="r3").outcome is None  # nothing of the batch
    assert OutcomeVersion.objects.count() == 1
    assert verify(auditor, version)["ok"]


@pytest.mark.sqlite
def test_a_correction_is_a_new_audited_version_with_its_reason(logged, ingest, auditor):  # noqa: F811
    version = logged[0]
    post(ingest, outcome(version, "r2", 1, outcome_at="2026-04-01T00:00:00Z"))
    response = post(ingest, outcome(version, "r2", 0, correction=True, reason="appeal upheld"))
    assert response.status_code == 200, response.content
    decision = Decision.objects.get(model_version=version, request_id="r2")
    assert decision.outcome == 0
    history = list(
        OutcomeVersion.objects.filter(decision=decision).order_by("version").values_list("version", "outcome", "reason")
    )
    assert history == [(1, 1, ""), (2, 0, "appeal upheld")]
    events = AuditEvent.objects.filter(event_type=GovernanceEvent.OUTCOMES_RECORDED).order_by("seq")
    assert [e.after["corrected"] for e in events] == [0, 1]
    assert all(len(e.after["versions"][str(version.pk)]["versions_sha256"]) == 64 for e in events)
    assert verify(auditor, version)["ok"] and audit_chain_verify().ok


@pytest.mark.sqlite
@pytest.mark.parametrize(
    ("extra", "field", "message"),
    [
        ({"correction": True}, "reason", "is required with a correction"),
        ({"correction": True, "reason": "  "}, "reason", "is required with a correction"),
        ({"reason": "why"}, "reason", "only with"),
        ({"correction": "yes", "reason": "why"}, "correction", "true or false"),
    ],
    ids=["no reason", "blank reason", "reason alone", "not a boolean"],
)
def test_a_correction_needs_a_reason(logged, ingest, extra, field, message):  # noqa: F811
    version = logged[0]
    post(ingest, outcome(version, "r2", 1))
    response = post(ingest, outcome(version, "r2", 0, **extra))
    assert response.status_code == 400
    assert message in response.json()["error"]["fields"][f"outcomes[0].{field}"][0]
    assert OutcomeVersion.objects.count() == 1


@pytest.mark.sqlite
def test_a_correction_of_nothing_is_refused(logged, ingest):  # noqa: F811
    response = post(ingest, outcome(logged[0], "r2", 0, correction=True, reason="typo"))
    assert response.status_code == 400
    assert "no outcome to correct" in response.json()["error"]["fields"]["outcomes[0].correction"][0]


@pytest.mark.sqlite
def test_an_outcome_for_an_erased_decision_is_refused(logged, ingest, auditor):  # noqa: F811
    version = logged[0]
    erase_person_1(version)  # r1, r5, r9
    for extra in ({}, {"correction": True, "reason": "late"}):
        response = post(ingest, outcome(version, "r5", 1, **extra))
        assert response.status_code == 400
        assert "was erased" in response.json()["error"]["fields"]["outcomes[0].outcome"][0]
    assert not OutcomeVersion.objects.exists()
    assert verify(auditor, version)["ok"]


@pytest.mark.sqlite
def test_an_insider_update_of_an_outcome_is_named(logged, ingest, auditor):  # noqa: F811
    version = logged[0]
    post(ingest, outcome(version, "r2", 1), outcome(version, "r3", 0))
    target = Decision.objects.get(model_version=version, request_id="r2")
    sql("UPDATE governance_decision SET outcome = '0' WHERE id = %s", target.pk)
    body = verify(auditor, version)
    assert body["bad_rows"] == [
        {"id": target.pk, "request_id": "r2", "reason": "outcome differs from its latest recorded version"}
    ]


def test_an_outcome_set_by_sql_without_a_version_is_named(logged, auditor):  # noqa: F811
    version = logged[0]
    target = Decision.objects.get(model_version=version, request_id="r4")
    sql("UPDATE governance_decision SET outcome = '1', outcome_at = now() WHERE id = %s", target.pk)
    assert verify(auditor, version)["bad_rows"] == [
        {"id": target.pk, "request_id": "r4", "reason": "outcome recorded by no outcome version"}
    ]


def test_outcome_versions_are_append_only_and_their_rewrite_is_named(logged, ingest, auditor):  # noqa: F811
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    version = logged[0]
    post(ingest, outcome(version, "r2", 1))
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for statement in (
            "UPDATE governance_outcomeversion SET outcome = '0'",
            "DELETE FROM governance_outcomeversion",
            "TRUNCATE governance_outcomeversion",
        ):
            with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
                cursor.execute(statement)
    # the owner switches the triggers off and rewrites the history and the current value together
    sql("ALTER TABLE governance_outcomeversion DISABLE TRIGGER governance_outcomeversion_append_only")
    sql("UPDATE governance_outcomeversion SET outcome = '0'")
    sql("UPDATE governance_decision SET outcome = '0' WHERE outcome IS NOT NULL")
    sql("ALTER TABLE governance_outcomeversion ENABLE TRIGGER governance_outcomeversion_append_only")
    body = verify(auditor, version)
    assert not body["ok"] and body["bad_rows"] == []
    (bad,) = body["bad_batches"]
    batch = str(OutcomeVersion.objects.get().batch_id)
    assert bad["outcome_batch"] == batch and "outcome versions do not match" in bad["reason"]


FAKE_ERASURE = (
    "UPDATE governance_decision SET prediction = '\"approve\"', occurred_at = occurred_at - interval '1 minute',"
    " salt = NULL, erased_at = now() WHERE id = %s"
)


def test_a_skeleton_edited_behind_a_fake_erasure_is_named(logged, auditor):  # noqa: F811
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    version = logged[0]
    target = Decision.objects.get(model_version=version, request_id="r2")
    sql(FAKE_ERASURE, target.pk)
    body = verify(auditor, version)
    assert not body["ok"]
    assert body["bad_rows"] == [
        {"id": target.pk, "request_id": "r2", "reason": "erased decision still holds personal fields"},
        {"id": target.pk, "request_id": "r2", "reason": "skeleton does not match its skeleton commitment"},
    ]


def test_personal_fields_put_back_into_an_erased_decision_are_named(logged, auditor):  # noqa: F811
    """An erasure that only cleared the salt (or an insider restoring a backup's features into an erased row)
    leaves the person's data in the log: verify names the row, though no commitment covers those fields any
    more."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    version = logged[0]
    erase_person_1(version)
    assert verify(auditor, version)["ok"]
    target = Decision.objects.filter(model_version=version, erased_at__isnull=False).order_by("id").first()
    sql("UPDATE governance_decision SET features = '{\"income\": 4100}' WHERE id = %s", target.pk)
    assert verify(auditor, version)["bad_rows"] == [
        {"id": target.pk, "request_id": target.request_id, "reason": "erased decision still holds personal fields"}
    ]


def test_the_skeleton_of_a_really_erased_decision_is_covered(logged, auditor):  # noqa: F811
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    version = logged[0]
    erase_person_1(version)
    assert verify(auditor, version)["ok"]
    target = Decision.objects.get(model_version=version, request_id="r5")
    sql("UPDATE governance_decision SET prediction = '0.5', score = 0.99 WHERE id = %s", target.pk)
    assert verify(auditor, version)["bad_rows"] == [
        {"id": target.pk, "request_id": "r5", "reason": "skeleton does not match its skeleton commitment"}
    ]


def test_a_recomputed_skeleton_commitment_is_caught_by_the_batch(logged, auditor):  # noqa: F811
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    version, first, _ = logged
    erase_person_1(version)
    target = Decision.objects.get(model_version=version, request_id="r5")
    forged = skeleton_commitment(
        canonical_skeleton(
            model_version=version.pk,
            deployment=target.deployment_id,
            request_id="r5",
            prediction=0.5,
            score=target.score,
            occurred_at=target.occurred_at,
        )
    )
    sql("UPDATE governance_decision SET prediction = '0.5', skeleton_commitment = %s WHERE id = %s", forged, target.pk)
    body = verify(auditor, version)
    assert body["bad_rows"] == []
    assert [b["batch"] for b in body["bad_batches"]] == [first.batch]


@pytest.mark.parametrize(
    "table",
    [
        "governance_outcomeversion",
        "governance_modelversionapproval",
        "governance_fairnessaudit",
        "governance_driftreport",
        "governance_performancereport",
    ],
)
def test_truncate_of_governance_history_is_refused(db, table):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        with pytest.raises(DatabaseError, match="TRUNCATE refused"), transaction.atomic():
            cursor.execute(f"TRUNCATE {table} CASCADE")
