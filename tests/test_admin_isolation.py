"""Admin pages are scoped per project by the role held there, as the API is: a person who is a data scientist in
acme and a compliance officer in globex reads globex's erasure requests, API keys and webhooks in admin, and
none of acme's; an ingest user reads no LLM call input in admin, as the API answers 403."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.test import RequestFactory
from django.urls import reverse

from governance.models import ErasureRequest, Webhook, WebhookDelivery
from governance.services import erasure
from llmops.models import LLMCall
from registry import services
from registry.actors import Actor
from registry.admin.kit import ProjectScopedAdmin, view_roles
from registry.models import ApiKey, Membership
from tests.helpers import staff_client
from tests.llmops.test_calls import call, post

SECRET_INPUT = "my account number is 4711 and my password is hunter2"


def make_records(project, tag: str) -> dict:
    request = erasure.erasure_request_create(
        actor=Actor.system(), project=project, subject_id=f"subject-{tag}", reference=f"DSR-{tag}"
    )
    key, _ = services.api_key_create(actor=Actor.system(), project=project, role="ingest", name=f"key-{tag}")
    hook = Webhook.objects.create(project=project, url=f"https://93.184.215.14/{tag}", events=["*"], secret="s" * 32)
    delivery = WebhookDelivery.objects.create(webhook=hook, event_type="drift.detected", payload={"tag": tag})
    return {"erasurerequest": request, "apikey": key, "webhook": hook, "webhookdelivery": delivery}


@pytest.fixture
def mixed(project, other_project):
    """Dana: data scientist in acme, compliance officer in globex; each project has one record of each family."""
    client = staff_client("dana", "data_scientist", project)
    services.membership_set(
        actor=Actor.system(),
        user=get_user_model().objects.get(username="dana"),
        project=other_project,
        role="compliance_officer",
    )
    return client, make_records(project, "acme"), make_records(other_project, "globex")


def url(obj, name: str = "change") -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_{name}", args=[obj.pk])


def changelist(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


@pytest.mark.parametrize("family", ["erasurerequest", "apikey", "webhook", "webhookdelivery"])
def test_a_role_in_one_project_does_not_open_another_projects_records(mixed, family):
    client, acme, globex = mixed
    listed = client.get(changelist(type(acme[family])))
    assert listed.status_code == 200
    content = listed.content.decode()
    assert url(globex[family]) in content
    assert url(acme[family]) not in content
    assert client.get(url(globex[family])).status_code == 200
    assert client.get(url(acme[family])).status_code == 302  # "does not exist", as for an unknown id
    assert client.get(url(acme[family]) + "history/").status_code in (302, 403, 404)


def test_erasure_custom_pages_and_actions_of_the_other_project_are_closed(mixed):
    client, acme, _ = mixed
    request = acme["erasurerequest"]
    for name in ("report", "trace", "execute", "reject"):
        assert client.get(url(request, name)).status_code in (302, 403)
    for name in ("trace", "execute", "reject"):
        client.post(url(request, name), {"apply": "1", "confirm": "on", "reason": "x"})
    client.post(
        changelist(ErasureRequest),
        {"action": "trace_requests", "_selected_action": [request.pk], "apply": "Trace"},
    )
    request.refresh_from_db()
    assert request.status == "received"


def test_the_project_filter_offers_only_projects_where_the_role_may_read(mixed):
    client, _, _ = mixed
    content = client.get(changelist(ErasureRequest)).content.decode()
    assert "globex" in content and "acme" not in content


def test_an_ingest_user_reads_no_llm_call_in_admin(project, make_client):
    ingest_key = make_client("ingest", project)
    assert post(ingest_key, [call("c1", input=[{"role": "user", "content": SECRET_INPUT}])]).status_code == 200
    the_call = LLMCall.objects.get()
    user = staff_client("app", "ingest", project)
    assert user.get(changelist(LLMCall)).status_code == 403
    page = user.get(url(the_call))
    assert page.status_code in (302, 403) and SECRET_INPUT not in page.content.decode()
    assert SECRET_INPUT not in user.get(reverse("admin:index")).content.decode()
    assert user.get(reverse("admin:llmops_llmcall_costs")).status_code in (302, 403)
    # and the API agrees
    assert make_client("ingest", project).get(f"/api/v1/llm/calls/{the_call.pk}/").status_code == 403


def test_every_project_scoped_admin_shows_only_rows_its_roles_may_read(mixed, project, other_project):
    """The matrix: for each admin of a project's records, the rows it gives dana are exactly those of the
    projects where dana's role has the model's view permission (registry/roles.py)."""
    client, _, _ = mixed
    user = get_user_model().objects.get(username="dana")
    request = RequestFactory().get("/admin/")
    request.user = user
    roles = dict(Membership.objects.filter(user=user).values_list("project_id", "role"))
    checked = 0
    for model, model_admin in admin.site._registry.items():
        if not isinstance(model_admin, ProjectScopedAdmin):
            continue
        try:
            if model_admin.project_path != "pk":
                model._meta.get_field(model_admin.project_path.split("__")[0])
        except FieldDoesNotExist:
            continue  # not a project's record (prices are global)
        rows = model_admin.get_queryset(request)
        project_ids = set(rows.values_list(model_admin.project_path, flat=True).distinct())
        allowed = {pid for pid, role in roles.items() if role in view_roles(model)}
        assert project_ids <= allowed, f"{model.__name__} admin shows rows of projects {project_ids - allowed}"
        checked += 1
    assert checked >= 20
    assert ApiKey.objects.filter(project=project).exists()  # there was something of acme's to leak
