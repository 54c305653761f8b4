"""The compliance home (the admin index): each card's selector tested directly, the page for an officer with
what is due today, the cards following the person's roles and projects, and a query count that does not grow
with the data."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from governance.models import Contest, ErasureRequest, FairnessAudit, Incident, ReviewItem
from governance.queries import home as q
from governance.services.erasure import erasure_request_create
from governance.services.incidents import incident_open
from registry.actors import Actor
from registry.models import ModelVersion, Stage
from tests import factories as f
from tests.helpers import staff_client

pytestmark = pytest.mark.django_db


def seed(chain, n: int):
    now = timezone.now()
    for i in range(n):
        erasure_request_create(
            actor=Actor.system(),
            project=chain.project,
            subject_id=f"subject-{i}",
            reference=f"ER-{i}",
            received_at=now - timedelta(days=28 + 2 * i),
        )
        decision = f.DecisionFactory(model_version=chain.version, request_id=f"r-{i}", prediction="deny")
        ReviewItem.objects.create(
            project=chain.project,
            model_version=chain.version,
            request_id=decision.request_id,
            decision_id=decision.pk,
            decision_occurred_at=decision.occurred_at,
            reasons=["label"],
            entered_at=now - timedelta(hours=i),
        )
    ModelVersion.objects.filter(pk=chain.version.pk).update(stage=Stage.PRODUCTION)
    FairnessAudit.objects.create(
        project=chain.project,
        model_version=chain.version,
        sensitive_features=["sex"],
        positive_label=1,
        row_count=100,
        overall={},
        by_group=[],
        disparities={},
        policy={},
        passed=False,
    )
    incident_open(
        actor=Actor.system(),
        project=chain.project,
        title="Denials for one postcode",
        description="d",
        category="other",
        aware_at=now - timedelta(days=13),
        model_versions=[chain.version],
    )


def test_each_selector_answers_its_card(chain, other_project):
    seed(chain, 3)
    now = timezone.now()
    due, total = q.requests_due({chain.project.pk}, now)
    assert total == 3 and [r.reference for r in due] == ["ER-2", "ER-1", "ER-0"]  # soonest (most overdue) first
    assert q.requests_due({other_project.pk}, now) == ([], 0)
    [audit] = q.production_audits({chain.project.pk})
    assert (audit.label, audit.passed) == ("credit v1", False)
    newest, counts = q.recent_alerts({chain.project.pk}, now)
    assert counts == {"incident.opened": 1} and newest[0].alert == "incident.opened"
    assert [i.title for i in q.open_incidents({chain.project.pk})] == ["Denials for one postcode"]
    assert q.review_queue({chain.project.pk}, now).open == 3
    assert q.open_obligations({chain.project.pk}) == ([], 0)
    assert q.last_verification() is None


def test_an_officer_sees_what_is_due_and_each_line_links_where_it_is_handled(chain):
    seed(chain, 3)
    officer = staff_client("olga", "compliance_officer", chain.project)
    body = officer.get(reverse("admin:index")).content.decode()
    for text in (
        "What is due",
        "Subject requests due in 7 days",
        "ER-2",
        "overdue",
        "Open incidents",
        "Denials for one postcode",
        "Review queue",
        "3 waiting",
        "1 of 1 without a passing audit",
        "Audit trail: last verification",
        "never verified",
    ):
        assert text in body, text
    assert reverse("admin:governance_erasurerequest_change", args=[ErasureRequest.objects.first().pk]) in body
    assert reverse("admin:governance_incident_change", args=[Incident.objects.get().pk]) in body
    officer.post(reverse("admin:registry_auditevent_verify"))
    assert "by user:olga" in officer.get(reverse("admin:index")).content.decode()


def test_cards_follow_roles_and_projects(chain, other_project):
    seed(chain, 2)
    reviewer = staff_client("rita", "reviewer", chain.project)
    body = reviewer.get(reverse("admin:index")).content.decode()
    assert "Review queue" in body and "Subject requests" not in body and "ER-1" not in body
    stranger = staff_client("eve", "compliance_officer", other_project)
    body = stranger.get(reverse("admin:index")).content.decode()
    assert "ER-1" not in body and "Denials for one postcode" not in body
    assert "Nothing due this week." in body


def test_the_query_count_does_not_grow_with_the_data(chain):
    officer = staff_client("olga", "compliance_officer", chain.project)
    seed(chain, 2)
    with CaptureQueriesContext(connection) as small:
        officer.get(reverse("admin:index"))
    for i in range(20):
        erasure_request_create(actor=Actor.system(), project=chain.project, subject_id=f"x-{i}", reference=f"T{i}")
    Contest.objects.all().delete()
    with CaptureQueriesContext(connection) as large:
        officer.get(reverse("admin:index"))
    assert len(large.captured_queries) == len(small.captured_queries)
