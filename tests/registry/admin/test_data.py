"""registry.admin.data: datasets created through their service (errors on the form), subject keys truncated."""

from __future__ import annotations

from registry.models import (
    Dataset,
    SubjectIndex,
)
from tests.registry.admin.pages import url


def test_subject_keys_are_shown_truncated_only(admin_client, records):
    full_key = records.subject.subject_key
    for page in (url(SubjectIndex, "changelist"), url(SubjectIndex, "change", records.subject.pk)):
        body = admin_client.get(page).content.decode()
        assert full_key[:10] in body
        assert full_key not in body


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
