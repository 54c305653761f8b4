"""The review queue in admin: a reviewer sees the queue of their project only, opens the oldest item, gives a
verdict with a reason (the service's rules: four eyes, escalation to a compliance officer) and is taken to the next."""

from __future__ import annotations

import pytest
from django.urls import reverse

from governance.models import Policy, Review, ReviewItem
from tests import factories as f
from tests.helpers import staff_client

pytestmark = pytest.mark.django_db

QUEUE = reverse("admin:governance_reviewitem_changelist")


def page(item):
    return reverse("admin:governance_reviewitem_change", args=[item.pk])


@pytest.fixture
def queued(chain, other_project):
    Policy.objects.update_or_create(project=chain.project, defaults={"review_labels": ["deny"]})
    items = []
    for i in range(3):
        decision = f.DecisionFactory(
            model_version=chain.version, request_id=f"loan-{i}", prediction="deny", features={"income": 900 + i}
        )
        items.append(
            ReviewItem.objects.create(
                project=chain.project,
                model_version=chain.version,
                request_id=decision.request_id,
                decision_id=decision.pk,
                decision_occurred_at=decision.occurred_at,
                reasons=["label"],
                entered_at=decision.occurred_at.replace(hour=i),
            )
        )
    elsewhere = f.DecisionFactory(model_version__model__project=other_project, request_id="theirs")
    ReviewItem.objects.create(
        project=other_project,
        model_version=elsewhere.model_version,
        request_id="theirs",
        decision_id=elsewhere.pk,
        decision_occurred_at=elsewhere.occurred_at,
        reasons=["label"],
        entered_at=elsewhere.occurred_at,
    )
    return chain, items


def test_the_queue_opens_on_what_waits_in_the_reviewers_project(queued):
    chain, items = queued
    reviewer = staff_client("rita", "reviewer", chain.project)
    assert reviewer.get(QUEUE).url.endswith("?open=yes")
    response = reviewer.get(QUEUE + "?open=yes")
    assert response.status_code == 200
    assert [i.request_id for i in response.context["cl"].result_list] == ["loan-0", "loan-1", "loan-2"]
    assert "theirs" not in response.content.decode()


def test_a_reviewer_confirms_and_goes_on_to_the_next(queued):
    chain, items = queued
    reviewer = staff_client("rita", "reviewer", chain.project)
    body = reviewer.get(page(items[0])).content.decode()
    assert "deny" in body and "income" in body and 'data-key="c"' in body
    response = reviewer.post(page(items[0]), {"verdict": "confirmed", "reason": "income below the floor"})
    assert response.status_code == 302
    assert response.url == page(items[1])
    items[0].refresh_from_db()
    assert items[0].status == "confirmed"
    assert Review.objects.get().reviewer == "rita"


def test_an_override_waits_for_a_second_reviewer_and_errors_are_shown(queued):
    chain, items = queued
    first = staff_client("rita", "reviewer", chain.project)
    second = staff_client("sam", "reviewer", chain.project)
    missing = first.post(page(items[0]), {"verdict": "overridden", "reason": "misread", "final_decision": ""})
    assert missing.status_code == 200
    assert "an override needs the final decision" in missing.content.decode()
    assert not Review.objects.exists()
    first.post(page(items[0]), {"verdict": "overridden", "reason": "misread", "final_decision": "approve"})
    items[0].refresh_from_db()
    assert items[0].status == "second"
    body = first.get(page(items[0])).content.decode()
    assert 'data-key="a"' in body  # the page offers it; the service refuses the same person
    refused = first.post(page(items[0]), {"verdict": "override_agreed", "reason": "me again"})
    assert "four eyes" in refused.content.decode()
    second.post(page(items[0]), {"verdict": "override_agreed", "reason": "payslip attached"})
    items[0].refresh_from_db()
    assert (items[0].status, items[0].final_decision) == ("overridden", "approve")


def test_an_escalation_is_decided_by_a_compliance_officer(queued):
    chain, items = queued
    reviewer = staff_client("rita", "reviewer", chain.project)
    officer = staff_client("olga", "compliance_officer", chain.project)
    reviewer.post(page(items[0]), {"verdict": "escalated", "reason": "unclear policy"})
    body = reviewer.get(page(items[0])).content.decode()
    assert "a compliance officer decides it" in body and 'data-key="c"' not in body
    officer.post(page(items[0]), {"verdict": "overridden", "reason": "policy says approve", "final_decision": "1"})
    items[0].refresh_from_db()
    assert (items[0].status, items[0].final_decision) == ("overridden", 1)


def test_others_cannot_review(queued, other_project):
    chain, items = queued
    stranger = staff_client("eve", "reviewer", other_project)
    assert stranger.get(page(items[0])).status_code in (302, 404)
    stranger.post(page(items[0]), {"verdict": "confirmed", "reason": "x"})
    analyst = staff_client("ana", "risk_analyst", chain.project)
    assert 'data-key="c"' not in analyst.get(page(items[0])).content.decode()
    analyst.post(page(items[0]), {"verdict": "confirmed", "reason": "x"})
    assert not Review.objects.exists()


def test_an_officer_receives_a_contest_in_admin_and_it_heads_the_queue(queued):
    from governance.models import Contest

    chain, items = queued
    officer = staff_client("olga", "compliance_officer", chain.project)
    add = reverse("admin:governance_contest_add")
    assert officer.get(add).status_code == 200
    response = officer.post(
        add,
        {
            "project": chain.project.pk,
            "reference": "APPEAL-7",
            "statement": "my income changed",
            "model_version": chain.version.pk,
            "request_id": "loan-2",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    contest = Contest.objects.get()
    assert contest.review_item_id == items[2].pk
    body = officer.get(reverse("admin:governance_contest_change", args=[contest.pk])).content.decode()
    assert "APPEAL-7" in body and "days" in body
    queue = officer.get(QUEUE + "?open=yes")
    assert queue.context["cl"].result_list[0].request_id == "loan-2"
    missing = officer.post(add, {"project": chain.project.pk, "reference": "APPEAL-8", "request_id": "nope"})
    assert missing.status_code == 200 and Contest.objects.count() == 1
