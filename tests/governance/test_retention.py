"""Retention (governance/services/retention.py): a project's months past its maximum are sealed into the audit
trail and dropped as partitions, decisions and outcomes together; what remains still verifies and the sealed
months are named; a month dropped without a seal is detected; holds keep months; the minimum is six months;
a sealed month takes no decisions again. PostgreSQL: partitions are dropped there only."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.db import DatabaseError, connection, transaction

from governance.models import Decision, LegalHold, OutcomeVersion, SealedMonth
from governance.services.decisions import decisions_ingest, outcomes_record
from governance.services.policies import policy_for_project, policy_update
from governance.services.retention import retention_apply
from registry import partitions, services
from registry.actors import Actor
from registry.audit import audit_chain_verify
from registry.models import AuditEvent
from registry.partitions import partition_name
from registry.records import trail_verify
from tests import factories as f

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system()
NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)
TABLE = "governance_decision"


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("partitions are PostgreSQL's")


@pytest.fixture
def logged(chain):
    """Decisions of January, February and March 2024 and of November 2026, one batch spanning January and
    February; outcomes for some of January's and February's, one outcome batch spanning both."""
    key, _ = services.api_key_create(actor=SYSTEM, project=chain.project, role="ingest", name="k")
    actor = Actor.for_key(key)

    def decisions(*stamps, prefix):
        return decisions_ingest(
            actor=actor,
            items=[
                {
                    "model_version": chain.version.pk,
                    "request_id": f"{prefix}{i}",
                    "subject_id": f"person-{prefix}{i}",
                    "features": {"age": 30 + i},
                    "prediction": "approve",
                    "occurred_at": stamp,
                }
                for i, stamp in enumerate(stamps)
            ],
        )

    decisions("2024-01-05T10:00:00Z", "2024-01-31T23:59:00Z", "2024-02-01T00:01:00Z", prefix="span")
    decisions("2024-03-10T10:00:00Z", "2024-03-11T10:00:00Z", prefix="march")
    decisions("2026-11-20T10:00:00Z", prefix="recent")
    outcomes_record(
        actor=actor,
        items=[
            {"model_version": chain.version.pk, "request_id": "span0", "outcome": "repaid"},
            {"model_version": chain.version.pk, "request_id": "span2", "outcome": "default"},
        ],
    )
    return chain


def keep(chain, months):
    policy = policy_for_project(actor=SYSTEM, project_id=chain.project.pk)
    return policy_update(actor=SYSTEM, policy=policy, changes={"retention_max_months": months})


def months(chain, table=TABLE):
    return [p.month for p in partitions.partitions(table, project_id=chain.project.pk) if p.month.year == 2024]


def verify(client, chain):
    response = client.get("/api/v1/decisions/verify/", {"model_version": chain.version.pk})
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def auditor(make_client, chain):
    return make_client("risk_analyst", chain.project)


def test_months_past_the_maximum_are_sealed_and_dropped_and_the_rest_verifies(logged, auditor):
    keep(logged, 25)  # 2024-01..2024-03 ended more than 25 months before December 2026; 2026-11 did not
    done = retention_apply(actor=SYSTEM, now=NOW)
    sealed = {(o.month, o.action, o.decisions, o.outcome_versions) for o in done if o.decisions}
    assert sealed == {
        (date(2024, 1, 1), "sealed", 2, 1),
        (date(2024, 2, 1), "sealed", 1, 1),
        (date(2024, 3, 1), "sealed", 2, 0),
    }
    assert months(logged) == [] and months(logged, "governance_outcomeversion") == []
    assert sorted(Decision.objects.values_list("request_id", flat=True)) == ["recent0"]
    assert OutcomeVersion.objects.count() == 0
    # each seal is in the chain, and the log's verification names the months and still passes
    january = SealedMonth.objects.get(project=logged.project, month=date(2024, 1, 1))
    event = AuditEvent.objects.get(seq=january.audit_seq)
    assert event.event_type == "retention.month_sealed" and event.after["decisions"] == 2
    body = verify(auditor, logged)
    assert body["ok"], body
    assert [m["month"] for m in body["sealed_months"]] == ["2024-01", "2024-02", "2024-03"]
    assert body["batches_sealed"] == 2 and body["rows_checked"] == 1
    assert audit_chain_verify().ok  # the chain itself (the factories' records have no creation events to check)
    records = trail_verify()
    assert records["records_checked"]["governance.sealedmonth"] == 3
    assert not [bad for bad in records["bad_records"] if bad["record"] == "governance.sealedmonth"]
    # a second run finds nothing more to do
    assert [o for o in retention_apply(actor=SYSTEM, now=NOW) if o.action == "sealed"] == []


def test_a_batch_spanning_a_sealed_month_keeps_verifying_and_an_edit_of_its_rest_is_named(logged, auditor):
    keep(logged, 34)  # January 2024 only (34 whole months from its end to December 2026; February's 33)
    done = [o for o in retention_apply(actor=SYSTEM, now=NOW) if o.action == "sealed"]
    assert [o.month for o in done] == [date(2024, 1, 1)]
    body = verify(auditor, logged)
    assert body["ok"], body
    assert body["batches_sealed"] == 0  # the spanning batch still has its February row
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {TABLE} SET commitment = repeat('0', 64) WHERE request_id = 'span2'")  # noqa: S608
    body = verify(auditor, logged)
    assert not body["ok"]
    assert any("left of the batch" in bad["reason"] for bad in body["bad_batches"]), body


def test_a_month_dropped_without_its_seal_is_named(logged, auditor):
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # as for rows committed long before
        cursor.execute(f'DROP TABLE "{partition_name(TABLE, logged.project.pk, date(2024, 3, 1))}"')
    body = verify(auditor, logged)
    assert not body["ok"] and body["sealed_months"] == []
    (bad,) = body["bad_batches"]
    assert bad["rows"] == 0 and bad["recorded_rows"] == 2 and "audit trail" in bad["reason"]


def test_a_hold_on_the_project_or_on_a_version_keeps_its_months_until_released(logged, make_client):
    keep(logged, 25)
    officer = make_client("compliance_officer", logged.project)
    placed = officer.post(
        "/api/v1/legal-holds/", {"project": logged.project.slug, "reason": "litigation 2025-17"}, format="json"
    )
    assert placed.status_code == 201, placed.content
    done = retention_apply(actor=SYSTEM, now=NOW)
    assert {o.action for o in done} == {"held"} and months(logged) == [date(2024, m, 1) for m in (1, 2, 3)]
    # released, and a hold on the version instead: it keeps the months holding the version's decisions
    other = f.ModelVersionFactory(model=logged.model, run=logged.run, version=2)
    officer.post(f"/api/v1/legal-holds/{placed.json()['id']}/release/", {"reason": "settled"}, format="json")
    partitions.ensure(TABLE, [(logged.project.pk, date(2023, 6, 1))])  # an empty old month: nothing holds it
    officer.post(
        "/api/v1/legal-holds/",
        {"project": logged.project.slug, "model_version": logged.version.pk, "reason": "regulator's request"},
        format="json",
    )
    done = {o.month: o.action for o in retention_apply(actor=SYSTEM, now=NOW)}
    assert done[date(2024, 1, 1)] == "held" and done[date(2023, 6, 1)] == "sealed"
    assert other.pk  # a version without a hold keeps nothing
    assert LegalHold.objects.filter(released_at__isnull=False).count() == 1


def test_a_sealed_month_takes_no_decisions_again(logged, make_client):
    keep(logged, 25)
    retention_apply(actor=SYSTEM, now=NOW)
    ingest = make_client("ingest", logged.project)
    response = ingest.post(
        "/api/v1/decisions/bulk/",
        {
            "decisions": [
                {
                    "model_version": logged.version.pk,
                    "request_id": "late",
                    "features": {},
                    "prediction": "approve",
                    "occurred_at": "2024-02-10T00:00:00Z",
                }
            ]
        },
        format="json",
    )
    assert response.status_code == 400, response.content
    assert "sealed" in str(response.json()["error"]["fields"]), response.json()
    assert months(logged) == []  # and its partition was not made again


def test_rows_that_do_not_verify_are_not_sealed_and_nothing_is_dropped(logged):
    keep(logged, 25)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {TABLE} SET commitment = repeat('f', 64) WHERE request_id = 'march0'")  # noqa: S608
    done = {o.month: o for o in retention_apply(actor=SYSTEM, now=NOW)}
    assert done[date(2024, 3, 1)].action == "refused" and "does not match" in done[date(2024, 3, 1)].refused
    assert date(2024, 3, 1) in months(logged)


def test_the_minimum_is_six_months_and_the_maximum_not_below_it(make_client, chain):
    officer = make_client("compliance_officer", chain.project)
    low = officer.patch(f"/api/v1/policies/{chain.project.slug}/", {"retention_min_months": 5}, format="json")
    assert low.status_code == 400 and "retention_min_months" in low.json()["error"]["fields"]
    assert "six months" in str(low.json()["error"]["fields"]["retention_min_months"])
    below = officer.patch(
        f"/api/v1/policies/{chain.project.slug}/",
        {"retention_min_months": 25, "retention_max_months": 24},
        format="json",
    )
    assert below.status_code == 400 and "retention_max_months" in below.json()["error"]["fields"]
    fine = officer.patch(
        f"/api/v1/policies/{chain.project.slug}/",
        {"retention_min_months": 25, "retention_max_months": 36},
        format="json",
    )
    assert fine.status_code == 200 and fine.json()["retention_max_months"] == 36


def test_a_seal_cannot_be_changed_or_removed_by_sql(logged):
    keep(logged, 25)
    retention_apply(actor=SYSTEM, now=NOW)
    for statement in (
        "UPDATE governance_sealedmonth SET decisions = 0",
        "DELETE FROM governance_sealedmonth",
        "TRUNCATE governance_sealedmonth",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(statement)


def test_beat_runs_the_partitions_ahead_and_retention_daily(logged):
    from celery import current_app

    from governance import tasks
    from registry.jobs import beat_schedule

    schedule = beat_schedule()
    assert schedule["log partitions"]["task"] == "governance.log_partitions" in current_app.tasks
    assert schedule["retention"]["task"] == "governance.retention" in current_app.tasks
    other = f.ProjectFactory()  # a project that has logged nothing yet gets its months too
    assert tasks.log_partitions() >= 4
    assert len(partitions.partitions(TABLE, project_id=other.pk)) == 4
    keep(logged, 25)
    assert {row["month"]: row["action"] for row in tasks.retention()}["2024-01"] == "sealed"
