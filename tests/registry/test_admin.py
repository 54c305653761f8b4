"""The registry admin: scoping, read-only records, writes through services, API keys, stage transitions."""

from __future__ import annotations

import hashlib
import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from registry import services
from registry.actors import Actor
from registry.models import (
    ApiKey,
    Dataset,
    DataVersion,
    Deployment,
    Membership,
    Model,
    ModelVersion,
    Project,
    Run,
    StageTransition,
    SubjectIndex,
)
from tests import factories as f
from tests.helpers import make_promotable, staff_client


def url(model, action: str, *args) -> str:
    opts = model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{action}", args=args)


@pytest.fixture
def records(chain):
    """One record of every registry model, in project `acme`."""
    key, _ = services.api_key_create(actor=Actor.system(), project=chain.project, role="ingest", name="scoring service")
    services.subjects_index(actor=Actor.system(), data_version=chain.train, subject_ids=["alice", "bob"])
    services.model_version_transition(
        actor=Actor.system(), model_version=chain.version, to_stage="staging", reason="validated offline"
    )
    person = get_user_model().objects.create_user("dora")
    membership = services.membership_set(actor=Actor.system(), user=person, project=chain.project, role="risk_analyst")
    chain.key = key
    chain.membership = membership
    chain.subject = SubjectIndex.objects.filter(data_version=chain.train).first()
    chain.transition = StageTransition.objects.get(model_version=chain.version)
    return chain


def objects_of(records) -> dict:
    return {
        Project: records.project,
        ApiKey: records.key,
        Membership: records.membership,
        Dataset: records.raw.dataset,
        DataVersion: records.train,
        SubjectIndex: records.subject,
        Run: records.run,
        Model: records.model,
        ModelVersion: records.version,
        StageTransition: records.transition,
        Deployment: records.deployment,
    }


READ_ONLY = [DataVersion, SubjectIndex, Run, StageTransition]
CREATE_THROUGH_SERVICES = [Project, ApiKey, Dataset, Model, ModelVersion, Deployment]


# Rendering -----------------------------------------------------------------------------------------


def test_every_changelist_and_change_page_renders_for_a_superuser(admin_client, records):
    for model, obj in objects_of(records).items():
        response = admin_client.get(url(model, "changelist"))
        assert response.status_code == 200, model
        response = admin_client.get(url(model, "change", obj.pk))
        assert response.status_code == 200, model
    for model in [*CREATE_THROUGH_SERVICES, Membership]:
        assert admin_client.get(url(model, "add")).status_code == 200, model


def test_every_list_filter_renders(admin_client, records):
    response = admin_client.get(url(ModelVersion, "changelist"), {"stage__exact": "staging"})
    assert response.status_code == 200
    assert str(records.version) in response.content.decode()
    response = admin_client.get(url(ModelVersion, "changelist"), {"stage__exact": "production"})
    assert str(records.version) not in response.content.decode()
    response = admin_client.get(url(Deployment, "changelist"), {"live": "yes"})
    assert response.status_code == 200
    assert "production" in response.content.decode()
    response = admin_client.get(url(SubjectIndex, "changelist"), {"data_version__id__exact": records.train.pk})
    assert response.status_code == 200


def test_subject_keys_are_shown_truncated_only(admin_client, records):
    full_key = records.subject.subject_key
    for page in (url(SubjectIndex, "changelist"), url(SubjectIndex, "change", records.subject.pk)):
        body = admin_client.get(page).content.decode()
        assert full_key[:10] in body
        assert full_key not in body


# Read-only, never deleted --------------------------------------------------------------------------


@pytest.mark.parametrize("model", READ_ONLY)
def test_read_only_records_cannot_be_added_or_changed(admin_client, records, model):
    obj = objects_of(records)[model]
    assert admin_client.get(url(model, "add")).status_code == 403
    assert admin_client.post(url(model, "change", obj.pk), {}).status_code == 403


@pytest.mark.parametrize("model", CREATE_THROUGH_SERVICES)
def test_existing_records_are_shown_read_only(admin_client, records, model):
    obj = objects_of(records)[model]
    response = admin_client.get(url(model, "change", obj.pk))
    assert response.status_code == 200
    assert 'name="_save"' not in response.content.decode()
    assert admin_client.post(url(model, "change", obj.pk), {}).status_code == 403


@pytest.mark.parametrize("model", [*READ_ONLY, *CREATE_THROUGH_SERVICES, Membership])
def test_nothing_is_deleted_from_admin(admin_client, records, model):
    obj = objects_of(records)[model]
    assert admin_client.post(url(model, "delete", obj.pk), {"post": "yes"}).status_code == 403
    assert model.objects.filter(pk=obj.pk).exists()
    response = admin_client.get(url(model, "changelist"))
    assert "delete_selected" not in response.content.decode()


# Writes through services ---------------------------------------------------------------------------


def test_dataset_is_created_by_the_service(admin_client, project):
    response = admin_client.post(
        url(Dataset, "add"),
        {
            "project": project.pk,
            "name": "loans",
            "description": "",
            "contains_personal_data": "on",
            "legal_basis": "contract",
        },
    )
    assert response.status_code == 302
    dataset = Dataset.objects.get(name="loans")
    assert dataset.created_by_user == admin_client.user  # set by services.dataset_create


def test_service_errors_become_form_errors(admin_client, project):
    response = admin_client.post(
        url(Dataset, "add"),
        {"project": project.pk, "name": "loans", "description": "", "contains_personal_data": "on", "legal_basis": ""},
    )
    assert response.status_code == 200
    assert "is required when the dataset contains personal data" in response.content.decode()
    assert response.context["adminform"].form.errors == {
        "legal_basis": ["is required when the dataset contains personal data"]
    }
    assert not Dataset.objects.filter(name="loans").exists()


def test_project_and_model_are_created_by_their_services(admin_client):
    response = admin_client.post(url(Project, "add"), {"slug": "initech", "name": "Initech"})
    assert response.status_code == 302
    project = Project.objects.get(slug="initech")
    assert project.created_by_user == admin_client.user
    response = admin_client.post(
        url(Model, "add"), {"project": project.pk, "name": "churn", "risk_tier": "high", "description": ""}
    )
    assert response.status_code == 302
    assert Model.objects.get(name="churn").created_by_user == admin_client.user


def test_deployment_is_created_by_the_service_and_ends_the_one_it_replaces(admin_client, chain):
    make_promotable(chain.version)
    services.model_version_transition(
        actor=Actor.system(), model_version=chain.version, to_stage="production", reason="passed"
    )
    start = timezone.now().replace(microsecond=0)
    form = {
        "model_version": chain.version.pk,
        "environment": "production",
        "strategy": "direct",
        "traffic_percent": "100",
        "started_at_0": start.strftime("%Y-%m-%d"),
        "started_at_1": start.strftime("%H:%M:%S"),
        "ended_at_0": "",
        "ended_at_1": "",
    }
    response = admin_client.post(url(Deployment, "add"), form)
    assert response.status_code == 302
    chain.deployment.refresh_from_db()
    assert chain.deployment.ended_at == start

    response = admin_client.post(url(Deployment, "add"), {**form, "strategy": "canary"})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["traffic_percent"] == [
        "a canary takes a share of traffic below 100"
    ]
    assert Deployment.objects.count() == 2


def test_model_version_is_registered_by_the_service(admin_client, chain):
    response = admin_client.post(
        url(ModelVersion, "add"),
        {
            "model": chain.model.pk,
            "run": chain.run.pk,
            "artifact_uri": "file:///m2.pkl",
            "artifact_sha256": "ab" * 32,
            "framework": "sklearn",
            "intended_use": "",
            "limitations": "",
        },
    )
    assert response.status_code == 302
    version = ModelVersion.objects.get(artifact_uri="file:///m2.pkl")
    assert version.version == 2  # numbered by services.model_version_register
    assert version.metrics == chain.run.metrics


def test_membership_is_set_by_the_service(admin_client, project):
    person = get_user_model().objects.create_user("erin")
    response = admin_client.post(
        url(Membership, "add"), {"user": person.pk, "project": project.pk, "role": "risk_analyst"}
    )
    assert response.status_code == 302
    membership = Membership.objects.get(user=person)
    response = admin_client.post(url(Membership, "change", membership.pk), {"role": "compliance_officer"})
    assert response.status_code == 302
    membership.refresh_from_db()
    assert (membership.user, membership.project, membership.role) == (person, project, "compliance_officer")


# API keys ------------------------------------------------------------------------------------------


def test_api_key_creation_shows_the_raw_key_once_and_stores_only_its_hash(admin_client, project):
    response = admin_client.post(
        url(ApiKey, "add"), {"project": project.pk, "role": "ingest", "name": "scoring"}, follow=True
    )
    assert response.status_code == 200
    body = response.content.decode()
    raw = re.search(r"gk_[0-9a-f]+_[A-Za-z0-9_-]+", body).group(0)
    key = ApiKey.objects.get(name="scoring")
    assert key.key_sha256 == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in str(list(ApiKey.objects.values_list()))
    assert key.created_by_user == admin_client.user

    # Shown once: neither the key's page nor the list shows it again.
    assert raw not in admin_client.get(url(ApiKey, "change", key.pk)).content.decode()
    assert raw not in admin_client.get(url(ApiKey, "changelist")).content.decode()
    assert key.key_sha256 not in admin_client.get(url(ApiKey, "change", key.pk)).content.decode()


def test_api_key_form_asks_project_role_name_and_owner_defaulting_to_the_user(admin_client, project):
    form = admin_client.get(url(ApiKey, "add")).context["adminform"].form
    assert list(form.fields) == ["project", "role", "name", "owner"]
    assert form.initial["owner"] == admin_client.user.pk
    response = admin_client.post(
        url(ApiKey, "add"), {"project": project.pk, "role": "compliance_officer", "name": "mine", "owner": ""}
    )
    assert response.status_code == 302
    assert ApiKey.objects.get(name="mine").owner is None  # cleared on purpose: a service key
    admin_client.post(
        url(ApiKey, "add"),
        {"project": project.pk, "role": "compliance_officer", "name": "held", "owner": admin_client.user.pk},
    )
    assert ApiKey.objects.get(name="held").owner == admin_client.user


def test_api_keys_are_revoked_by_an_action_not_deleted(admin_client, project):
    key, _ = services.api_key_create(actor=Actor.system(), project=project, role="ingest", name="old")
    response = admin_client.post(
        url(ApiKey, "changelist"), {"action": "revoke_keys", "_selected_action": [key.pk], "index": 0}
    )
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None


# Scoping -------------------------------------------------------------------------------------------


def test_staff_see_only_the_projects_they_are_members_of(project, other_project):
    mine = f.DatasetFactory(project=project, name="mine")
    theirs = f.DatasetFactory(project=other_project, name="theirs")
    client = staff_client("sam", "data_scientist", project)

    body = client.get(url(Dataset, "changelist")).content.decode()
    assert "mine" in body
    assert "theirs" not in body
    assert "globex" not in body  # not even in the project filter
    assert client.get(url(Dataset, "change", mine.pk)).status_code == 200
    response = client.get(url(Dataset, "change", theirs.pk))
    assert response.status_code == 302  # "does not exist", like any unknown id
    body = client.get(url(Project, "changelist")).content.decode()
    assert "Acme Bank" in body
    assert "Globex" not in body
    form = client.get(url(Dataset, "add")).context["adminform"].form
    assert list(form.fields["project"].queryset) == [project]


def test_a_project_foreign_key_outside_the_write_scope_is_refused(project, other_project):
    client = staff_client("sam", "data_scientist", project)
    response = client.post(
        url(Dataset, "add"),
        {"project": other_project.pk, "name": "sneaky", "contains_personal_data": "", "legal_basis": ""},
    )
    assert response.status_code == 200
    assert "project" in response.context["adminform"].form.errors
    assert not Dataset.objects.filter(name="sneaky").exists()


def test_superusers_see_every_project(admin_client, project, other_project):
    f.DatasetFactory(project=project, name="mine")
    f.DatasetFactory(project=other_project, name="theirs")
    body = admin_client.get(url(Dataset, "changelist")).content.decode()
    assert "mine" in body and "theirs" in body


# Stage transitions ---------------------------------------------------------------------------------


def test_transition_action_goes_through_an_intermediate_page(admin_client, chain):
    changelist = url(ModelVersion, "changelist")
    selected = {"action": "transition_stage", "_selected_action": [chain.version.pk]}
    response = admin_client.post(changelist, {**selected, "index": 0})
    assert response.status_code == 200
    assert "Change stage" in response.content.decode()
    assert not StageTransition.objects.exists()

    response = admin_client.post(changelist, {**selected, "to_stage": "", "reason": "", "apply": "Change stage"})
    assert response.status_code == 200  # invalid form: the page again, nothing recorded
    assert not StageTransition.objects.exists()

    response = admin_client.post(
        changelist, {**selected, "to_stage": "staging", "reason": "passed review", "apply": "Change stage"}, follow=True
    )
    assert response.status_code == 200
    transition = StageTransition.objects.get()
    assert (transition.from_stage, transition.to_stage, transition.reason) == ("none", "staging", "passed review")
    assert transition.created_by_user == admin_client.user
    chain.version.refresh_from_db()
    assert chain.version.stage == "staging"
    assert "credit v1: none → staging." in [str(m) for m in response.context["messages"]]


def test_refused_transition_is_reported_not_raised(admin_client, chain):
    services.model_version_transition(
        actor=Actor.system(), model_version=chain.version, to_stage="archived", reason="retired"
    )
    response = admin_client.post(
        url(ModelVersion, "changelist"),
        {
            "action": "transition_stage",
            "_selected_action": [chain.version.pk],
            "to_stage": "production",
            "reason": "try",
            "apply": "1",
        },
        follow=True,
    )
    assert response.status_code == 200
    assert "cannot move from archived to production" in response.content.decode()
    assert StageTransition.objects.count() == 1


def test_transition_page_of_one_version(admin_client, chain):
    make_promotable(chain.version)
    page = reverse("admin:registry_modelversion_transition", args=[chain.version.pk])
    assert page in admin_client.get(url(ModelVersion, "change", chain.version.pk)).content.decode()
    response = admin_client.get(page)
    assert [value for value, _ in response.context["form"].fields["to_stage"].choices] == [
        "",  # nothing preselected: the officer chooses
        "staging",
        "production",
        "archived",
    ]
    response = admin_client.post(page, {"to_stage": "production", "reason": "approved by the committee"})
    assert response.status_code == 302
    assert response["Location"] == url(ModelVersion, "change", chain.version.pk)
    assert StageTransition.objects.get().to_stage == "production"


def test_compliance_officer_may_transition_risk_analyst_may_not(chain):
    officer = staff_client("olga", "compliance_officer", chain.project)
    response = officer.post(
        url(ModelVersion, "changelist"),
        {
            "action": "transition_stage",
            "_selected_action": [chain.version.pk],
            "to_stage": "staging",
            "reason": "approved",
            "apply": "1",
        },
    )
    assert response.status_code == 302
    assert StageTransition.objects.get().created_by_user.username == "olga"

    analyst = staff_client("rita", "risk_analyst", chain.project)
    response = analyst.get(url(ModelVersion, "changelist"))
    assert response.status_code == 200
    assert "transition_stage" not in response.content.decode()
    page = reverse("admin:registry_modelversion_transition", args=[chain.version.pk])
    assert analyst.post(page, {"to_stage": "production", "reason": "x"}).status_code == 403
    assert StageTransition.objects.count() == 1


# Query counts --------------------------------------------------------------------------------------


def _rows(project, count: int) -> None:
    """`count` rows of every registry model (a version in staging, with a deployment, data, key and member)."""
    for index in range(count):
        model = f.ModelFactory(project=project)
        version = f.ModelVersionFactory(model=model, version=1)
        f.DeploymentFactory(model_version=version)
        services.model_version_transition(actor=Actor.system(), model_version=version, to_stage="staging", reason="ok")
        data_version = f.DataVersionFactory(dataset__project=project)
        services.subjects_index(actor=Actor.system(), data_version=data_version, subject_ids=[f"person-{index}"])
        services.api_key_create(actor=Actor.system(), project=project, role="ingest", name=f"key {index}")
        person = get_user_model().objects.create_user(f"{project.slug}-member-{index}")
        services.membership_set(actor=Actor.system(), user=person, project=project, role="risk_analyst")


@pytest.mark.parametrize(
    "model",
    [
        ModelVersion,
        Deployment,
        Model,
        Run,
        Dataset,
        DataVersion,
        StageTransition,
        Project,
        ApiKey,
        SubjectIndex,
        Membership,
    ],
)
def test_changelists_do_not_query_per_row(admin_client, project, other_project, django_assert_max_num_queries, model):
    _rows(project, 3)
    with django_assert_max_num_queries(12) as few:
        assert admin_client.get(url(model, "changelist")).status_code == 200
    _rows(other_project, 40)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = admin_client.get(url(model, "changelist"))
    assert response.status_code == 200
    assert response.context["cl"].result_count > (40 if model is not Project else 1)


def test_membership_pages_show_only_their_fields(admin_client, records):
    form = admin_client.get(url(Membership, "add")).context["adminform"]
    assert [f for fs in form.fieldsets for f in fs[1]["fields"]] == ["user", "project", "role"]
    form = admin_client.get(url(Membership, "change", records.membership.pk)).context["adminform"]
    assert [f for fs in form.fieldsets for f in fs[1]["fields"]] == ["user", "project", "role"]
