"""Contests of automated decisions (GDPR Art. 22(3)) through REST: a contest names the decision (by model version
and request id, or by subject id and time), puts it at the head of the review queue (reopening a reviewed one), is
due in one month and extendable by two with a reason, and is decided by the review. Attacked: another project's
officer, a subject id in the reference, an ambiguous subject and time, an extension too late or too long."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from governance.models import Contest, ReviewItem
from registry.subjects import subject_key
from tests import factories as f
from tests.helpers import member_api_client as person

pytestmark = [pytest.mark.sqlite, pytest.mark.django_db]


@pytest.fixture
def officer(chain):
    return person("compliance_officer", chain.project, "olga")


@pytest.fixture
def decisions(chain):
    made = []
    for i in range(3):
        made.append(
            f.DecisionFactory(
                model_version=chain.version,
                request_id=f"loan-{i}",
                subject_key=subject_key(f"customer-{i}"),
                prediction="deny",
                occurred_at=datetime(2026, 11, 2 + i, 9, tzinfo=UTC),
            )
        )
    return made


def receive(client, **body):
    return client.post("/api/v1/contests/", {"reference": "APPEAL-1", **body}, format="json")


def test_a_contest_by_request_id_heads_the_queue_and_the_review_decides_it(chain, officer, decisions):
    response = receive(officer, model_version=chain.version.pk, request_id="loan-1", statement="my income rose")
    assert response.status_code == 201, response.json()
    contest = response.json()
    assert contest["status"] == "open" and contest["decision_id"] == decisions[1].pk
    assert contest["days_left"] >= 27
    item = ReviewItem.objects.get(pk=contest["review_item"])
    assert (item.priority, item.reasons, item.status) == (10, ["contest"], "pending")
    reviewer = person("reviewer", chain.project, "rita")
    queue = reviewer.get("/api/v1/review-items/", {"open": True}).json()
    queue = queue["results"] if isinstance(queue, dict) else queue
    assert queue[0]["id"] == item.pk  # at the head
    reviewer.post(
        f"/api/v1/review-items/{item.pk}/review/",
        {"verdict": "overridden", "final_decision": "approve", "reason": "new payslip"},
        format="json",
    )
    assert officer.get(f"/api/v1/contests/{contest['id']}/").json()["status"] == "open"  # four eyes pending
    second = person("reviewer", chain.project, "sam")
    second.post(
        f"/api/v1/review-items/{item.pk}/review/", {"verdict": "override_agreed", "reason": "ok"}, format="json"
    )
    decided = officer.get(f"/api/v1/contests/{contest['id']}/").json()
    assert (decided["status"], decided["outcome"], decided["final_decision"]) == ("decided", "changed", "approve")


def test_a_contest_by_subject_and_time_finds_the_one_decision_and_keeps_no_subject_id(chain, officer, decisions):
    response = receive(officer, subject_id="customer-2", occurred_at="2026-11-04T15:00:00Z")
    assert response.status_code == 201, response.json()
    assert response.json()["request_id"] == "loan-2"
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM governance_contest")
        assert "customer-2" not in repr(cursor.fetchall())


def test_a_reviewed_decision_is_reopened_and_an_upheld_contest_says_so(chain, officer, decisions):
    item = ReviewItem.objects.create(
        project=chain.project,
        model_version=chain.version,
        request_id="loan-0",
        decision_id=decisions[0].pk,
        decision_occurred_at=decisions[0].occurred_at,
        reasons=["label"],
        status="confirmed",
        entered_at=decisions[0].occurred_at,
        closed_at=decisions[0].occurred_at,
    )
    contest = receive(officer, model_version=chain.version.pk, request_id="loan-0").json()
    item.refresh_from_db()
    assert (item.status, item.priority, item.reasons) == ("pending", 10, ["label", "contest"])
    officer.post(
        f"/api/v1/review-items/{item.pk}/review/", {"verdict": "confirmed", "reason": "rules applied"}, format="json"
    )
    assert officer.get(f"/api/v1/contests/{contest['id']}/").json()["outcome"] == "upheld"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"subject_id": "customer-1"}, "occurred_at"),
        ({"subject_id": "customer-1", "occurred_at": "2026-10-01T00:00:00Z"}, "occurred_at"),
        ({"request_id": "loan-1"}, "model_version"),
        (
            {"reference": "appeal of customer-1", "subject_id": "customer-1", "occurred_at": "2026-11-03T09:00:00Z"},
            "reference",
        ),
        ({}, "model_version"),
    ],
)
def test_a_contest_that_names_no_single_decision_is_a_400_and_writes_nothing(chain, officer, decisions, body, field):
    response = receive(officer, **body)
    assert response.status_code == 400, response.json()
    assert field in response.json()["error"]["fields"]
    assert not Contest.objects.exists() and not ReviewItem.objects.exists()


def test_two_decisions_near_the_time_are_ambiguous(chain, officer, decisions):
    f.DecisionFactory(
        model_version=chain.version,
        request_id="loan-1b",
        subject_key=subject_key("customer-1"),
        occurred_at=datetime(2026, 11, 3, 11, tzinfo=UTC),
    )
    response = receive(officer, subject_id="customer-1", occurred_at="2026-11-03T10:00:00Z")
    assert response.status_code == 400
    assert "name the model version and request id" in response.json()["error"]["fields"]["occurred_at"][0]


def test_an_extension_with_a_reason_moves_the_deadline_once_and_not_past_two_months(chain, officer, decisions):
    contest = receive(officer, model_version=chain.version.pk, request_id="loan-1").json()
    url = f"/api/v1/contests/{contest['id']}/extend/"
    assert officer.post(url, {"months": 1, "reason": " "}, format="json").status_code == 400
    extended = officer.post(url, {"months": 2, "reason": "needs the branch's file"}, format="json").json()
    assert extended["extension_months"] == 2
    assert datetime.fromisoformat(extended["due_at"]) > datetime.fromisoformat(contest["due_at"]) + timedelta(days=55)
    again = officer.post(url, {"months": 2, "reason": "more"}, format="json")
    assert again.status_code == 400 and "months" in again.json()["error"]["fields"]


def test_an_extension_after_the_first_month_is_refused(chain, officer, decisions):
    old = receive(
        officer, model_version=chain.version.pk, request_id="loan-2", received_at="2026-09-01T09:00:00Z"
    ).json()
    response = officer.post(f"/api/v1/contests/{old['id']}/extend/", {"months": 1, "reason": "late"}, format="json")
    assert response.status_code == 400
    assert "too late" in response.json()["error"]["fields"]["months"][0]


def test_no_one_else_reads_or_receives_contests(chain, officer, decisions, other_project):
    contest = receive(officer, model_version=chain.version.pk, request_id="loan-1").json()
    stranger = person("compliance_officer", other_project, "eve")
    assert stranger.get(f"/api/v1/contests/{contest['id']}/").status_code == 404
    response = receive(stranger, model_version=chain.version.pk, request_id="loan-1")
    assert response.status_code == 400  # another project's version "does not exist"
    reviewer = person("reviewer", chain.project, "rita")
    assert reviewer.get("/api/v1/contests/").status_code == 403
    assert Contest.objects.count() == 1
