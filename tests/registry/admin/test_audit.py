"""The audit trail and the suppression list in admin: read-only for everyone, scoped by project, and the
"Verify chain" view."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib import messages
from django.db import transaction
from django.urls import reverse

from governance.services import erasure
from registry import services
from registry.actors import Actor
from registry.admin import audit as registry_admin
from registry.audit import AuditEventType, ChainVerification, audit_append, audit_chain_verify
from registry.models import AuditEvent, DataVersion, SuppressedSubject
from tests import factories as f
from tests.helpers import staff_client

EVENTS = reverse("admin:registry_auditevent_changelist")
ROOT = Path(__file__).resolve().parents[3]
VERIFY = reverse("admin:registry_auditevent_verify")
SUPPRESSED = reverse("admin:registry_suppressedsubject_changelist")


def event_page(event: AuditEvent, action: str = "change") -> str:
    return reverse(f"admin:registry_auditevent_{action}", args=[event.pk])


def seqs(response) -> list[int]:
    return [event.seq for event in response.context["cl"].result_list]


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


@pytest.fixture
def trail(project, other_project):
    """Events in both projects (datasets created through the service) and one of no project."""
    with transaction.atomic():
        audit_append(
            actor=Actor.system(),
            event_type=AuditEventType.PROJECT_CREATED,
            target_type="registry.project",
            target_id="",
            target_repr="a system event",
        )
    mine = services.dataset_create(
        actor=Actor.system(), project=project, name="loans", contains_personal_data=True, legal_basis="contract"
    )
    theirs = services.dataset_create(
        actor=Actor.system(), project=other_project, name="claims", contains_personal_data=False, legal_basis=""
    )
    return {
        "mine": AuditEvent.objects.get(target_type="registry.dataset", target_id=str(mine.pk)),
        "theirs": AuditEvent.objects.get(target_type="registry.dataset", target_id=str(theirs.pk)),
        "none": AuditEvent.objects.get(target_repr="a system event"),
    }


@pytest.fixture
def suppressed(project):
    request = erasure.erasure_request_create(
        actor=Actor.system(), project=project, subject_id="customer-42", reference="DSR-1"
    )
    erasure.erasure_request_trace(actor=Actor.system(), request=request)
    erasure.erasure_request_execute(actor=Actor.system(), request=request)
    return SuppressedSubject.objects.get()


# Read-only -----------------------------------------------------------------------------------------


def test_events_are_read_only_even_for_a_superuser(admin_client, trail):
    event = trail["mine"]
    assert admin_client.get(reverse("admin:registry_auditevent_add")).status_code == 403
    assert admin_client.post(event_page(event), {"event_type": "forged"}).status_code == 403
    assert admin_client.post(event_page(event, "delete"), {"post": "yes"}).status_code == 403
    body = admin_client.get(EVENTS).content.decode()
    assert "delete_selected" not in body
    assert reverse("admin:registry_auditevent_add") not in body
    response = admin_client.get(event_page(event))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="_save"' not in body
    assert f"<code>{event.hash}</code>" in body
    assert f"<code>{event.prev_hash}</code>" in body
    assert reverse("admin:registry_dataset_change", args=[event.target_id]) in body  # the target, linked
    event.refresh_from_db()
    assert event.event_type == "dataset.created"


def test_event_list_shows_the_columns_newest_first(admin_client, trail):
    response = admin_client.get(EVENTS)
    assert seqs(response) == sorted(AuditEvent.objects.values_list("seq", flat=True), reverse=True)
    body = response.content.decode()
    event = trail["mine"]
    for text in ("dataset.created", "system", event.target_repr, event.hash[:12]):
        assert text in body
    assert event.hash not in body.replace(f'title="{event.hash}"', "")  # the list shows the hash shortened


def test_event_filters_and_exact_search(admin_client, trail):
    mine, theirs = trail["mine"], trail["theirs"]
    assert seqs(admin_client.get(EVENTS, {"event_type": "project.created"})) == sorted(
        AuditEvent.objects.filter(event_type="project.created").values_list("seq", flat=True), reverse=True
    )
    assert set(seqs(admin_client.get(EVENTS, {"target_type": "registry.dataset"}))) == {mine.seq, theirs.seq}
    assert seqs(admin_client.get(EVENTS, {"q": mine.target_id, "target_type": "registry.dataset"})) == [mine.seq]
    assert seqs(admin_client.get(EVENTS, {"q": "system", "event_type": "dataset.created"})) == [theirs.seq, mine.seq]
    assert seqs(admin_client.get(EVENTS, {"q": "syst"})) == []  # exact matches only


def test_officers_find_their_own_actions_by_user_name(project):
    officer = staff_client("olga", "compliance_officer", project)
    officer.post(
        reverse("admin:governance_erasurerequest_add"),
        {"project": project.pk, "subject_id": "customer-1", "reference": "DSR-7"},
    )
    received = AuditEvent.objects.get(event_type="erasure.received")
    assert seqs(officer.get(EVENTS, {"q": "olga"})) == [received.seq]
    assert seqs(officer.get(EVENTS, {"q": "user:olga"})) == [received.seq]


# Scoping -------------------------------------------------------------------------------------------


def test_members_see_only_their_projects_events(project, trail):
    analyst = staff_client("rita", "risk_analyst", project)
    response = analyst.get(EVENTS)
    assert response.status_code == 200
    shown = set(seqs(response))
    assert trail["mine"].seq in shown
    assert trail["theirs"].seq not in shown
    assert trail["none"].seq not in shown  # events of no project: superusers only
    assert shown == set(AuditEvent.objects.filter(project_id=project.pk).values_list("seq", flat=True))
    assert analyst.get(event_page(trail["mine"])).status_code == 200
    assert analyst.get(event_page(trail["theirs"])).status_code == 302  # "does not exist"
    assert "leaves out the events of the projects it does not show" in response.content.decode()


def test_superusers_see_every_event(admin_client, trail):
    response = admin_client.get(EVENTS)
    assert set(seqs(response)) == set(AuditEvent.objects.values_list("seq", flat=True))
    assert "audit-numbering-note" not in response.content.decode()  # every number is there


def test_event_list_does_not_query_per_row(admin_client, project, django_assert_max_num_queries):
    for index in range(3):
        f.DatasetFactory(project=project)
        services.model_create(actor=Actor.system(), project=project, name=f"m{index}")
    with django_assert_max_num_queries(10) as few:
        assert admin_client.get(EVENTS).status_code == 200
    for index in range(60):
        services.model_create(actor=Actor.system(), project=project, name=f"more-{index}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = admin_client.get(EVENTS)
    assert len(response.context["cl"].result_list) == 50


# Verify chain --------------------------------------------------------------------------------------


def test_verify_chain_reports_ok_with_length_and_head(admin_client, trail):
    body = admin_client.get(EVENTS).content.decode()
    assert VERIFY in body
    response = admin_client.get(VERIFY, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain == [(EVENTS, 302)]
    result = audit_chain_verify()
    assert result.ok
    assert messages_of(response) == [
        f"Audit chain verified: {result.length:,} events, head #{result.length} {result.head}."
    ]


def test_verify_chain_names_the_broken_link(admin_client, trail, monkeypatch):
    broken = ChainVerification(False, 2, "ab" * 32, 3, "hash does not match its content")
    monkeypatch.setattr(registry_admin, "audit_chain_verify", lambda: broken)
    response = admin_client.get(VERIFY, follow=True)
    [message] = list(response.context["messages"])
    assert message.level == messages.ERROR
    assert str(message) == (
        "Audit chain broken at event #3: hash does not match its content. "
        f"The 2 events before it verify (last good hash {'ab' * 32})."
    )


def test_verify_chain_names_a_record_changed_behind_its_event(admin_client, trail, project):
    version = services.data_version_register(
        actor=Actor.system(),
        dataset=services.dataset_create(
            actor=Actor.system(), project=project, name="loans-admin", contains_personal_data=False
        ),
        version="v1",
        content_sha256="a" * 64,
        row_count=1,
        schema={"x": "int64"},
    )
    DataVersion.objects.filter(pk=version.pk).update(content_sha256="c" * 64)  # as an insider's UPDATE would
    response = admin_client.get(VERIFY, follow=True)
    assert messages_of(response)[-1] == (
        f"1 records differ from their creation events, the first registry.dataversion {version.pk}: "
        "content_sha256 differs from the one its creation event recorded."
    )


@pytest.mark.parametrize(
    ("role", "may"), [("compliance_officer", True), ("risk_analyst", True), ("data_scientist", False)]
)
def test_who_may_verify_the_chain(project, trail, role, may):
    client = staff_client("pat", role, project)
    assert (VERIFY in client.get(EVENTS).content.decode()) is may
    response = client.get(VERIFY)
    assert response.status_code == (302 if may else 403)


# The suppression list ------------------------------------------------------------------------------


def test_suppressed_subjects_are_read_only_and_show_a_truncated_key(admin_client, suppressed):
    page = reverse("admin:registry_suppressedsubject_change", args=[suppressed.pk])
    for url in (SUPPRESSED, page):
        response = admin_client.get(url)
        assert response.status_code == 200
        body = response.content.decode()
        assert suppressed.subject_key[:10] in body
        assert suppressed.subject_key not in body
        assert "acme" in body
    assert "erasure request" in admin_client.get(SUPPRESSED).content.decode()
    assert admin_client.get(reverse("admin:registry_suppressedsubject_add")).status_code == 403
    assert admin_client.post(page, {"reason": "x"}).status_code == 403
    delete = reverse("admin:registry_suppressedsubject_delete", args=[suppressed.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert SuppressedSubject.objects.filter(pk=suppressed.pk).exists()


def test_suppressed_subjects_are_scoped(other_project, suppressed):
    outsider = staff_client("gus", "compliance_officer", other_project)
    assert list(outsider.get(SUPPRESSED).context["cl"].result_list) == []
    member = staff_client("olga", "compliance_officer", suppressed.project)
    assert list(member.get(SUPPRESSED).context["cl"].result_list) == [suppressed]


def test_each_app_links_its_own_event_targets(admin_client, trail):
    """The registry links its records; governance and llmops add theirs from their admin packages, so the floor
    names no URL of the floors above it. An event naming a linked model links to that record's page."""
    from registry.admin.audit import AUDIT_TARGET_CHANGE_URLS

    assert AUDIT_TARGET_CHANGE_URLS["governance.erasurerequest"] == "admin:governance_erasurerequest_change"
    assert AUDIT_TARGET_CHANGE_URLS["llmops.promptversion"] == "admin:llmops_promptversion_change"
    registry_source = "".join(p.read_text() for p in (ROOT / "registry" / "admin").glob("*.py"))
    assert "admin:governance_" not in registry_source and "admin:llmops_" not in registry_source
    event = trail["mine"]
    page = reverse("admin:registry_dataset_change", args=[event.target_id])
    event_page = reverse("admin:registry_auditevent_change", args=[event.pk])
    assert f'<a href="{page}">{event.target_repr}</a>' in admin_client.get(event_page).content.decode()
