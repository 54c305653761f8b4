"""Erasure requests in admin: the list (overdue first), the add form (only the key kept), trace / execute /
reject through confirmation pages, who may run them, the printable report, and project scoping."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.staticfiles import finders
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone

from governance import selectors
from governance.models import Decision, ErasureRequest, RetrainingObligation
from governance.services import erasure
from registry import services
from registry.actors import Actor
from registry.admin.kit import STYLESHEET
from registry.models import AuditEvent, BackgroundJob, DataVersion
from registry.subjects import subject_key
from tests import factories as f
from tests.helpers import staff_client

CHANGELIST = reverse("admin:governance_erasurerequest_changelist")
ADD = reverse("admin:governance_erasurerequest_add")
RAW_ID = "customer-4711@example.com"


def page(request: ErasureRequest, name: str = "change") -> str:
    return reverse(f"admin:governance_erasurerequest_{name}", args=[request.pk])


def receive(project, reference: str, *, subject: str = "nobody", days_ago: int = 0) -> ErasureRequest:
    return erasure.erasure_request_create(
        actor=Actor.system(),
        project=project,
        subject_id=subject,
        reference=reference,
        received_at=timezone.now() - timedelta(days=days_ago),
    )


def references(response) -> list[str]:
    return [obj.reference for obj in response.context["cl"].result_list]


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def events(request: ErasureRequest) -> list[str]:
    return list(
        AuditEvent.objects.filter(target_type="governance.erasurerequest", target_id=str(request.pk))
        .order_by("seq")
        .values_list("event_type", flat=True)
    )


@pytest.fixture
def officer(project):
    return staff_client("olga", "compliance_officer", project)


@pytest.fixture
def story(chain):
    """`alice` is in the training data of credit v1, which is live; she has two decisions."""
    services.subjects_index(actor=Actor.system(), data_version=chain.train, subject_ids=["alice", "bob"])
    for _ in range(2):
        f.DecisionFactory(
            model_version=chain.version,
            deployment=chain.deployment,
            subject_key=subject_key("alice"),
            subject_key_id="k1",
            sensitive={"sex": "F"},
        )
    chain.request = receive(chain.project, "DSR-1", subject="alice", days_ago=3)
    return chain


# The list ------------------------------------------------------------------------------------------


@pytest.fixture
def mixed(project):
    """Requests in every state: two overdue, one due soon, one due later, one completed, one rejected."""
    completed = receive(project, "completed", days_ago=1)
    erasure.erasure_request_trace(actor=Actor.system(), request=completed)
    erasure.erasure_request_execute(actor=Actor.system(), request=completed)  # nothing to retrain: completes
    rejected = receive(project, "rejected-long-ago", days_ago=50)
    erasure.erasure_request_reject(actor=Actor.system(), request=rejected, reason="legal hold")
    receive(project, "due-later", days_ago=5)
    receive(project, "overdue-10", days_ago=40)
    receive(project, "due-soon", days_ago=28)
    traced_late = receive(project, "overdue-2", days_ago=32)
    erasure.erasure_request_trace(actor=Actor.system(), request=traced_late)


def test_list_shows_open_and_overdue_first_with_days_left(admin_client, mixed):
    response = admin_client.get(CHANGELIST)
    assert response.status_code == 200
    assert references(response) == [
        "overdue-10",
        "overdue-2",
        "due-soon",
        "due-later",
        "rejected-long-ago",  # closed requests last, by due date
        "completed",
    ]
    body = response.content.decode()
    assert "overdue by 10 days" in body
    assert "overdue by 2 days" in body
    assert ">2 days<" in body
    assert ">25 days<" in body
    assert body.count('class="nowrap text-danger"') == 2  # only the overdue ones are red
    assert body.count('class="nowrap text-warning"') == 1  # the one due within a week is amber
    assert body.count('<td class="field-days_left">—</td>') == 2  # completed and rejected


def test_overdue_filter(admin_client, mixed):
    assert references(admin_client.get(CHANGELIST, {"overdue": "yes"})) == ["overdue-10", "overdue-2"]
    assert references(admin_client.get(CHANGELIST, {"overdue": "no"})) == [
        "due-soon",
        "due-later",
        "rejected-long-ago",
        "completed",
    ]
    assert references(admin_client.get(CHANGELIST, {"status__exact": "traced"})) == ["overdue-2"]
    assert references(admin_client.get(CHANGELIST, {"q": "due-soon"})) == ["due-soon"]
    response = admin_client.get(CHANGELIST, {"_facets": "True"})
    assert response.status_code == 200
    assert "Overdue (2)" in response.content.decode()


def test_open_obligations_are_counted(admin_client, story):
    erasure.erasure_request_trace(actor=Actor.system(), request=story.request)
    erasure.erasure_request_execute(actor=Actor.system(), request=story.request)
    row = admin_client.get(CHANGELIST).context["cl"].result_list[0]
    assert row.open_obligation_count == 1


def test_changelist_does_not_query_per_row(admin_client, chain, other_project, django_assert_max_num_queries):
    subjects = [f"person-{index}" for index in range(45)]
    services.subjects_index(actor=Actor.system(), data_version=chain.train, subject_ids=subjects)

    def requests(project, names):
        for index, name in enumerate(names):
            request = receive(project, f"{project.slug}-DSR-{index}", subject=name, days_ago=index % 40)
            if index % 3:
                erasure.erasure_request_trace(actor=Actor.system(), request=request)
            if index % 3 == 2 and project == chain.project:
                erasure.erasure_request_execute(actor=Actor.system(), request=request)  # opens an obligation

    requests(chain.project, subjects[:3])
    with django_assert_max_num_queries(10) as few:
        assert admin_client.get(CHANGELIST).status_code == 200
    requests(chain.project, subjects[3:])
    requests(other_project, [f"other-{index}" for index in range(20)])
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = admin_client.get(CHANGELIST)
    assert response.context["cl"].result_count == 65
    assert RetrainingObligation.objects.filter(status="open").count() == 15


# Receiving a request -------------------------------------------------------------------------------


def test_add_goes_through_the_service_and_never_stores_the_raw_id(officer, project):
    response = officer.post(
        ADD,
        {
            "project": project.pk,
            "subject_id": RAW_ID,
            "reference": "DSR-2026-001",
            "received_at_0": "",
            "received_at_1": "",
        },
    )
    assert response.status_code == 302
    request = ErasureRequest.objects.get(reference="DSR-2026-001")
    assert request.subject_key == subject_key(RAW_ID)
    assert request.created_by_user.username == "olga"
    assert request.due_at - request.received_at == timedelta(days=30)
    assert events(request) == ["erasure.received"]
    assert AuditEvent.objects.get(event_type="erasure.received").actor_name == "user:olga"

    stored = [
        *ErasureRequest.objects.values_list(),
        *AuditEvent.objects.values_list(),
        *LogEntry.objects.values_list(),
    ]
    assert RAW_ID not in str(stored)
    assert "4711" not in str(stored)
    body = officer.get(page(request)).content.decode()
    assert RAW_ID not in body
    assert request.subject_key not in body


def test_add_form_never_sends_the_raw_id_back_and_places_service_errors(officer, project):
    form = officer.get(ADD).context["adminform"].form
    assert list(form.fields) == ["project", "subject_id", "reference", "received_at"]

    response = officer.post(ADD, {"project": project.pk, "subject_id": RAW_ID, "reference": "   "})
    assert response.status_code == 200
    assert "reference" in response.context["adminform"].form.errors
    assert RAW_ID not in response.content.decode()  # a form error does not echo the id

    future = timezone.now() + timedelta(days=2)
    response = officer.post(
        ADD,
        {
            "project": project.pk,
            "subject_id": RAW_ID,
            "reference": "DSR-2",
            "received_at_0": future.strftime("%Y-%m-%d"),
            "received_at_1": "09:00:00",
        },
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"received_at": ["must not be in the future"]}

    response = officer.post(ADD, {"project": project.pk, "subject_id": RAW_ID, "reference": f"ticket for {RAW_ID}"})
    assert response.context["adminform"].form.errors == {"reference": ["must not contain the subject id"]}
    assert not ErasureRequest.objects.exists()


def test_received_at_in_the_past_sets_the_due_date(officer, project):
    response = officer.post(
        ADD,
        {
            "project": project.pk,
            "subject_id": RAW_ID,
            "reference": "DSR-3",
            "received_at_0": "2026-01-02",
            "received_at_1": "08:30:00",
        },
    )
    assert response.status_code == 302
    request = ErasureRequest.objects.get()
    assert request.due_at.isoformat() == "2026-02-01T08:30:00+00:00"


def test_add_form_offers_only_the_officers_projects(project, other_project):
    officer = staff_client("olga", "compliance_officer", project)
    services.membership_set(
        actor=Actor.system(),
        user=get_user_model().objects.get(username="olga"),
        project=other_project,
        role="risk_analyst",
    )
    form = officer.get(ADD).context["adminform"].form
    assert list(form.fields["project"].queryset) == [project]
    response = officer.post(ADD, {"project": other_project.pk, "subject_id": RAW_ID, "reference": "DSR-9"})
    assert response.status_code == 200
    assert "project" in response.context["adminform"].form.errors
    assert not ErasureRequest.objects.exists()


# Trace, execute, reject ----------------------------------------------------------------------------


def action(name: str, request: ErasureRequest, **form) -> dict:
    return {"action": name, "_selected_action": [request.pk], **form}


def test_trace_and_execute_go_through_their_confirmation_pages(officer, story):
    request = story.request
    response = officer.post(CHANGELIST, {**action("trace_requests", request), "index": 0})
    assert response.status_code == 200
    assert "Tracing looks up every data version" in response.content.decode()
    assert events(request) == ["erasure.received"]  # nothing happened yet

    response = officer.post(CHANGELIST, action("trace_requests", request, apply="Trace"), follow=True)
    assert response.status_code == 200
    request.refresh_from_db()
    assert request.status == "traced"
    assert messages_of(response) == [
        f"{request}: traced: 1 data version (1 holding the subject), 1 run, 1 model version (1 live), 2 decisions."
    ]

    response = officer.post(CHANGELIST, {**action("execute_requests", request), "index": 0})
    assert response.status_code == 200
    body = response.content.decode()
    assert "What executing DSR-1 will do" in body
    assert response.context["rows"][0]["plan"]["decision_count"] == 2
    plan = response.context["rows"][0]["plan"]
    assert [dv["label"] for dv in plan["data_versions"]] == [f"{story.train.dataset.name} train"]
    assert [mv["label"] for mv in plan["obligations"]] == ["credit v1"]
    assert [dep["environment"] for dep in plan["live_deployments"]] == ["production"]
    assert request.subject_key not in body

    response = officer.post(CHANGELIST, action("execute_requests", request, apply="Execute erasure"))
    assert response.status_code == 200  # not confirmed: the page again, with the error
    assert response.context["form"].errors == {"confirm": ["Tick the box to confirm: an erasure cannot be undone."]}
    request.refresh_from_db()
    assert request.status == "traced"

    response = officer.post(
        CHANGELIST, action("execute_requests", request, apply="Execute erasure", confirm="on"), follow=True
    )
    assert response.status_code == 200
    request.refresh_from_db()
    assert request.status == "executed"
    job = BackgroundJob.objects.get(kind="governance.erasure_execution")  # run in process (no broker)
    assert messages_of(response) == [
        f"{request}: executed: 2 decisions redacted, 1 data version marked erasure_pending, "
        f'1 retraining obligation opened. <a href="/admin/registry/backgroundjob/{job.pk}/change/">Job {job.pk}</a>.'
    ]
    shown = officer.get(page(request)).content.decode()  # the request's page shows its job, finished
    assert f"/admin/registry/backgroundjob/{job.pk}/change/" in shown and 'value="5" max="5"' in shown
    job_page = officer.get(f"/admin/registry/backgroundjob/{job.pk}/change/").content.decode()
    assert "erasure execution" in job_page and f"/api/v1/erasure-requests/{request.pk}/" in job_page
    assert page(request) in job_page  # the result links the request's admin page
    assert not Decision.objects.filter(subject_key=subject_key("alice")).exists()
    assert dict(DataVersion.objects.values_list("version", "status")) == {"raw": "active", "train": "erasure_pending"}
    assert RetrainingObligation.objects.get().model_version == story.version
    assert events(request) == ["erasure.received", "erasure.traced", "erasure.executed"]
    traced, executed = AuditEvent.objects.filter(event_type__in=["erasure.traced", "erasure.executed"]).order_by("seq")
    assert traced.actor_name == executed.actor_name == "user:olga"
    assert AuditEvent.objects.filter(event_type="erasure.obligation_opened").count() == 1


def test_executing_an_untraced_request_is_an_error_message_not_a_500(admin_client, story):
    request = story.request
    response = admin_client.post(CHANGELIST, {**action("execute_requests", request), "index": 0})
    assert response.status_code == 200
    assert response.context["rows"][0]["problem"] == "not traced yet: trace it first"
    response = admin_client.post(
        CHANGELIST, action("execute_requests", request, apply="Execute erasure", confirm="on"), follow=True
    )
    assert response.status_code == 200
    assert messages_of(response) == [
        f"{request}: erasure request {request.pk} is received; only a traced request can be executed"
    ]
    request.refresh_from_db()
    assert request.status == "received"
    assert Decision.objects.filter(subject_key=subject_key("alice")).count() == 2


def test_reject_needs_a_reason(officer, story):
    request = story.request
    response = officer.post(CHANGELIST, action("reject_requests", request, apply="Reject", reason="  "))
    assert response.status_code == 200
    assert response.context["form"].errors == {"reason": ["This field is required."]}
    response = officer.post(
        CHANGELIST, action("reject_requests", request, apply="Reject", reason="tax records: 10-year retention")
    )
    assert response.status_code == 302
    request.refresh_from_db()
    assert (request.status, request.rejection_reason) == ("rejected", "tax records: 10-year retention")
    assert events(request)[-1] == "erasure.rejected"

    response = officer.post(CHANGELIST, action("trace_requests", request, apply="Trace"), follow=True)
    assert (
        messages_of(response)[-1] == f"{request}: erasure request {request.pk} is rejected; it can no longer be traced"
    )


def test_the_change_page_is_read_only_with_operation_buttons(officer, story):
    request = story.request
    body = officer.get(page(request)).content.decode()
    assert page(request, "trace") in body
    assert page(request, "reject") in body
    assert page(request, "execute") not in body  # not traced yet
    assert page(request, "report") in body
    assert 'name="_save"' not in body
    assert "Not traced yet" in body
    assert officer.post(page(request), {"reference": "changed"}).status_code == 403
    assert officer.post(page(request, "delete"), {"post": "yes"}).status_code == 403
    assert "delete_selected" not in officer.get(CHANGELIST).content.decode()

    assert officer.get(page(request, "trace")).status_code == 200
    response = officer.post(page(request, "trace"), {"apply": "Trace"})
    assert response.status_code == 302
    assert response["Location"] == page(request)
    body = officer.get(page(request)).content.decode()
    assert page(request, "execute") in body
    assert "holds the subject" in body
    assert "credit v1" in body
    assert request.subject_key not in body

    response = officer.post(page(request, "execute"), {"apply": "Execute erasure", "confirm": "on"})
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == "executed"
    body = officer.get(page(request)).content.decode()
    assert "Retraining obligations" in body
    assert "Decisions redacted" in body
    for name in ("trace", "execute", "reject"):
        assert page(request, name) not in body
    response = officer.post(page(request, "reject"), {"apply": "Reject", "reason": "too late"}, follow=True)
    assert messages_of(response) == [
        f"{request}: erasure request {request.pk} is executed; it can no longer be rejected"
    ]


def test_a_risk_analyst_cannot_see_add_or_run_the_operations(story):
    """Erasure requests are the compliance officers' (as in the API): other roles get 403 everywhere."""
    analyst = staff_client("rita", "risk_analyst", story.project)
    request = story.request
    assert analyst.get(ADD).status_code == 403
    assert analyst.get(CHANGELIST).status_code == 403
    assert analyst.post(CHANGELIST, action("trace_requests", request, apply="Trace")).status_code == 403
    assert analyst.get(page(request)).status_code == 403
    # the pages refuse (403) or, since the request is hidden from the analyst's projects, do not find it (302)
    for name in ("trace", "execute", "reject", "report"):
        assert analyst.get(page(request, name)).status_code in (302, 403)
    for name in ("trace", "execute", "reject"):
        response = analyst.post(page(request, name), {"apply": "1", "confirm": "on", "reason": "x"})
        assert response.status_code in (302, 403)
    request.refresh_from_db()
    assert request.status == "received"
    assert events(request) == ["erasure.received"]


def test_an_officer_of_one_project_cannot_act_on_another(project, other_project):
    officer = staff_client("olga", "compliance_officer", project)
    services.membership_set(
        actor=Actor.system(),
        user=get_user_model().objects.get(username="olga"),
        project=other_project,
        role="risk_analyst",
    )
    theirs = receive(other_project, "GLOBEX-1")
    # A risk analyst in globex may not read its erasure requests (as in the API), officer elsewhere or not.
    for name in ("change", "report", "trace"):
        assert officer.get(page(theirs, name)).status_code == 302  # "does not exist", like an unknown id
    officer.post(CHANGELIST, action("trace_requests", theirs, apply="Trace"), follow=True)
    theirs.refresh_from_db()
    assert theirs.status == "received"


def test_other_projects_requests_are_hidden(project, other_project):
    mine = receive(project, "ACME-1")
    theirs = receive(other_project, "GLOBEX-1")
    officer = staff_client("olga", "compliance_officer", project)
    response = officer.get(CHANGELIST)
    assert references(response) == ["ACME-1"]
    assert "globex" not in response.content.decode()  # not even in the project filter
    assert officer.get(page(mine)).status_code == 200
    for name in ("change", "report", "trace"):
        assert officer.get(page(theirs, name)).status_code == 302  # "does not exist", like an unknown id
    response = officer.post(CHANGELIST, action("trace_requests", theirs, apply="Trace"))
    theirs.refresh_from_db()
    assert theirs.status == "received"


# The report ----------------------------------------------------------------------------------------


def test_report_page_shows_every_step_with_its_hashes_and_never_the_key(officer, story):
    request = story.request
    officer.post(page(request, "trace"), {"apply": "Trace"})
    officer.post(page(request, "execute"), {"apply": "Execute erasure", "confirm": "on"})
    response = officer.get(page(request, "report"))
    assert response.status_code == 200
    body = response.content.decode()
    steps = selectors.erasure_report(request=request)["steps"]
    assert [step["event_type"] for step in steps] == [
        "erasure.received",
        "erasure.traced",
        "erasure.executed",
        "erasure.obligation_opened",
    ]
    for step in steps:
        assert f'<code class="hash">{step["hash"]}</code>' in body
        assert f'<code class="hash">{step["prev_hash"]}</code>' in body
        assert step["event_type"] in body
    assert "user:olga" in body
    assert "DSR-1" in body
    # printable: the page links the one stylesheet, whose print rules (moved there from the page) apply to this
    # page's body class only and leave the admin's header, sidebar and buttons out of the printed page
    classes = set(re.search(r'<body class="([^"]*)"', body).group(1).split())
    assert {"model-erasurerequest", "erasure-report"} <= classes
    assert static(STYLESHEET) in body
    with open(finders.find(STYLESHEET), encoding="utf-8") as stylesheet:
        css = stylesheet.read()
    section = css[css.index("/* Erasure requests: the printable report") :]
    printed = section[section.index("@media print {") : section.index("\n}\n")]
    assert ":where(.model-erasurerequest.erasure-report) #header," in printed
    assert ":where(.model-erasurerequest.erasure-report) .report .report-actions," in printed
    assert "display: none !important;" in printed
    assert reverse("erasure-request-report", args=[request.pk]) in body
    assert request.subject_key not in body
    assert request.subject_key[:12] not in body


def test_report_of_a_fresh_request(admin_client, project):
    request = receive(project, "DSR-0")
    response = admin_client.get(page(request, "report"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Not traced." in body
    assert "Not executed." in body
    assert body.count('<tbody class="step">') == 1


def test_extend_the_deadline_through_its_confirmation_page(officer, story):
    request = story.request
    response = officer.post(CHANGELIST, {**action("extend_requests", request), "index": 0})
    assert response.status_code == 200
    assert "Art. 12(3)" in response.content.decode()
    response = officer.post(CHANGELIST, action("extend_requests", request, apply="Extend", months="2", reason=" "))
    assert response.context["form"].errors == {"reason": ["This field is required."]}
    reason = "1,200 records across four archives to search"
    response = officer.post(
        CHANGELIST, action("extend_requests", request, apply="Extend", months="2", reason=reason), follow=True
    )
    request.refresh_from_db()
    assert (request.extension_months, request.extension_reason) == (2, reason)
    assert "extended by 2 months" in messages_of(response)[-1]
    assert events(request)[-1] == "erasure.extended"
    body = officer.get(page(request)).content.decode()
    assert reason in body and "deadline extended" in body.lower()

    # two months is the most: the confirmation page says so and nothing changes
    response = officer.post(CHANGELIST, {**action("extend_requests", request), "index": 0})
    assert "the most Art. 12(3) allows" in response.content.decode()


def test_a_request_past_its_first_month_cannot_be_extended(officer, project):
    late = receive(project, "DSR-OLD", days_ago=31)
    response = officer.post(CHANGELIST, {**action("extend_requests", late), "index": 0})
    assert "too late to extend" in response.content.decode()
    response = officer.post(
        CHANGELIST, action("extend_requests", late, apply="Extend", months="1", reason="backlog"), follow=True
    )
    assert "decided within the first month" in messages_of(response)[-1]
    late.refresh_from_db()
    assert late.extension_months == 0


def test_the_add_form_chooses_the_officers_only_project(officer, project, other_project, admin_client):
    form = officer.get(ADD).context["adminform"].form
    assert form.fields["project"].initial == project.pk
    assert list(form.fields["project"].queryset) == [project]
    assert admin_client.get(ADD).context["adminform"].form.fields["project"].initial is None  # two to choose from
