"""The registry admin as a whole: every page renders, read-only records, nothing deleted, scoping by project
role, and no query per changelist row."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

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
from tests.helpers import staff_client
from tests.registry.admin.pages import CREATE_THROUGH_SERVICES, READ_ONLY, objects_of, url


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
