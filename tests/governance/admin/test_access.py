"""Subject access requests in admin: the officer receives one from the add form (the subject id hashed, never kept
or shown back), reads the letter built from the records (decisions with their final outcome and factors, data
held, how to contest) and marks it answered (the report's sha256 audited); others cannot see it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.urls import reverse

from governance.models import AccessRequest, Policy
from governance.presenters.access import access_letter
from governance.queries.access import subject_access_report
from registry.models import AuditEvent, SubjectIndex
from registry.subjects import subject_key
from tests import factories as f
from tests.governance.presenters.helpers import no_html
from tests.helpers import staff_client

pytestmark = pytest.mark.django_db
RAW = "customer-4711@example.com"
ADD = reverse("admin:governance_accessrequest_add")


@pytest.fixture
def held(chain):
    Policy.objects.update_or_create(project=chain.project, defaults={"reason_codes": {"R01": "Income too low"}})
    SubjectIndex.objects.create(data_version=chain.train, subject_key=subject_key(RAW))
    f.DecisionFactory(
        model_version=chain.version,
        request_id="loan-1",
        subject_key=subject_key(RAW),
        prediction="deny",
        occurred_at=datetime(2026, 11, 2, 9, tzinfo=UTC),
        explanation={"attributions": {"income": -0.31, "age": 0.05}, "reason_codes": ["R01"]},
    )
    return chain


def test_an_officer_receives_reads_and_answers_a_request(held):
    officer = staff_client("olga", "compliance_officer", held.project)
    response = officer.post(
        ADD,
        {"project": held.project.pk, "subject_id": RAW, "reference": "SAR-7", "received_at_0": "", "received_at_1": ""},
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    request = AccessRequest.objects.get()
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM governance_accessrequest")
        assert RAW not in str(cursor.fetchall())
    page = reverse("admin:governance_accessrequest_change", args=[request.pk])
    body = officer.get(page).content.decode()
    assert "Your request for access to your data" in body
    assert "Income too low" in body and "income lowered the score by 0.31" in body
    assert "credit v1 / loan-1" in body and held.train.dataset.name in body
    assert RAW not in body and subject_key(RAW) not in body
    assert "Mark answered" in body

    done = officer.post(page, {"answer": "1"}, follow=True)
    assert any("answered" in str(m) for m in done.context["messages"])
    request.refresh_from_db()
    assert request.status == "answered"
    assert AuditEvent.objects.get(event_type="access.answered").after["report_sha256"] == request.report_sha256
    assert "Mark answered" not in officer.get(page).content.decode()

    analyst = staff_client("rita", "risk_analyst", held.project)
    assert analyst.get(page).status_code in (302, 403)


def test_the_add_form_never_sends_the_id_back(held):
    officer = staff_client("olga", "compliance_officer", held.project)
    response = officer.post(ADD, {"project": held.project.pk, "subject_id": RAW, "reference": f"about {RAW}"})
    assert response.status_code == 200
    assert "reference" in response.context["adminform"].form.errors
    assert RAW not in response.content.decode().replace(f"about {RAW}", "")
    assert not AccessRequest.objects.exists()


def test_the_letter_presenter(held):
    from django.utils import timezone

    from governance.services.access import access_request_receive
    from registry.actors import Actor

    request = access_request_receive(actor=Actor.system(), project=held.project, subject_id=RAW, reference="SAR-8")
    now = timezone.now()
    letter = access_letter(
        request, subject_access_report(project=held.project, subject_key=request.subject_key, now=now), now=now
    )
    no_html(letter)
    assert letter["decision_count"] == 1
    assert letter["decisions"][0]["reasons"] == ["Income too low"]
    assert letter["decisions"][0]["reviewed"] == "not reviewed by a person"
    assert letter["clock"]["days"] >= 28
