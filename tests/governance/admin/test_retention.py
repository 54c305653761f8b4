"""Retention in admin: an officer places a legal hold from the add form and releases it on its page with a
reason; an analyst reads holds but cannot release them; the sealed months are listed read-only with their seal
event; the policy page edits the retention months and refuses a minimum below six."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.urls import reverse

from governance.models import LegalHold, SealedMonth
from governance.services.policies import policy_for_project
from registry.actors import Actor
from registry.models import AuditEvent
from tests.governance.admin.test_policies import policy_form
from tests.helpers import staff_client

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def test_an_officer_places_and_releases_a_hold(chain):
    officer = staff_client("olga", "compliance_officer", chain.project)
    response = officer.post(
        reverse("admin:governance_legalhold_add"),
        {"project": chain.project.pk, "model_version": chain.version.pk, "reason": "Litigation 2026-04"},
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    hold = LegalHold.objects.get()
    assert hold.placed_by == "user:olga" and hold.is_active
    page = reverse("admin:governance_legalhold_change", args=[hold.pk])
    body = officer.get(page).content.decode()
    assert "Litigation 2026-04" in body and "Release the hold" in body and "In force" in body
    assert officer.post(page, {"reason": ""}).status_code == 200  # a reason is required
    assert LegalHold.objects.get().is_active
    response = officer.post(page, {"reason": "Settled out of court"})
    assert response.status_code == 302
    hold.refresh_from_db()
    assert not hold.is_active and hold.released_by == "user:olga" and hold.release_reason == "Settled out of court"
    assert list(AuditEvent.objects.filter(target_type="governance.legalhold").values_list("event_type", flat=True)) == [
        "retention.hold_placed",
        "retention.hold_released",
    ]
    assert "Release the hold" not in officer.get(page).content.decode()


def test_an_analyst_reads_holds_but_does_not_release_them(chain):
    from governance.services.retention import hold_place

    hold = hold_place(actor=Actor.system(), project=chain.project, reason="Inquiry")
    analyst = staff_client("rita", "risk_analyst", chain.project)
    page = reverse("admin:governance_legalhold_change", args=[hold.pk])
    body = analyst.get(page).content.decode()
    assert "Inquiry" in body and "Release the hold" not in body
    assert analyst.post(page, {"reason": "mine"}).status_code == 403
    assert analyst.get(reverse("admin:governance_legalhold_add")).status_code == 403


def test_sealed_months_are_listed_with_their_seal_event(chain):
    event = AuditEvent.objects.order_by("-seq").first() or None
    seq = event.seq if event else 0
    SealedMonth.objects.create(
        project=chain.project,
        month=date(2024, 1, 1),
        decisions=1200,
        outcome_versions=300,
        commitments_sha256="a" * 64,
        seal={},
        audit_seq=seq,
        sealed_at=datetime(2026, 3, 1, tzinfo=UTC),
    )
    officer = staff_client("olga", "compliance_officer", chain.project)
    body = officer.get(reverse("admin:governance_sealedmonth_changelist")).content.decode()
    assert "2024-01" in body and "1200" in body


def test_the_policy_page_edits_retention_and_refuses_less_than_six_months(chain):
    policy = policy_for_project(actor=Actor.system(), project_id=chain.project.pk)
    officer = staff_client("olga", "compliance_officer", chain.project)
    page = reverse("admin:governance_policy_change", args=[policy.pk])
    assert "Retention of the decision log" in officer.get(page).content.decode()
    response = officer.post(page, policy_form(policy, retention_min_months=5, retention_max_months=36))
    assert response.status_code == 200 and "six months" in response.content.decode()
    response = officer.post(page, policy_form(policy, retention_min_months=25, retention_max_months=24))
    assert response.status_code == 200 and "must not be below retention_min_months" in response.content.decode()
    response = officer.post(page, policy_form(policy, retention_min_months=25, retention_max_months=36))
    assert response.status_code == 302
    policy.refresh_from_db()
    assert (policy.retention_min_months, policy.retention_max_months) == (25, 36)
