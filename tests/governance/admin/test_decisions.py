"""The decision log in admin (read-only for everyone)."""

from __future__ import annotations

from datetime import UTC, datetime

from django.urls import reverse

from tests import factories as f
from tests.governance.admin.pages import DECISIONS, decision_page, rows
from tests.helpers import staff_client

# Rendering and what is shown -----------------------------------------------------------------------


def test_decision_changelist_and_change_page_render(admin_client, decision):
    response = admin_client.get(DECISIONS)
    assert response.status_code == 200
    body = response.content.decode()
    for text in ("loan-2026-0001", "approve", "repaid", "0.87", "credit v1", "production"):
        assert text in body
    response = admin_client.get(decision_page(decision))
    assert response.status_code == 200
    assert "loan-2026-0001" in response.content.decode()


def test_subject_key_is_never_shown(admin_client, decision):
    for page in (DECISIONS, decision_page(decision)):
        body = admin_client.get(page).content.decode()
        assert decision.subject_key not in body
        assert decision.subject_key[:16] not in body
    form = admin_client.get(decision_page(decision)).context["adminform"]
    assert "subject_key" not in [field for fieldset in form.fieldsets for field in fieldset[1]["fields"]]


def test_decisions_are_read_only_even_for_a_superuser(admin_client, decision):
    assert admin_client.get(reverse("admin:governance_decision_add")).status_code == 403
    assert admin_client.post(decision_page(decision), {"prediction": '"deny"'}).status_code == 403
    delete = reverse("admin:governance_decision_delete", args=[decision.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    body = admin_client.get(decision_page(decision)).content.decode()
    assert 'name="_save"' not in body
    assert "delete_selected" not in admin_client.get(DECISIONS).content.decode()
    decision.refresh_from_db()
    assert decision.prediction == "approve"


def test_compliance_officer_reads_decisions_but_cannot_edit_them(chain, decision):
    client = staff_client("olga", "compliance_officer", chain.project)
    assert client.get(DECISIONS).status_code == 200
    assert rows(client.get(DECISIONS)) == [decision]
    assert client.get(decision_page(decision)).status_code == 200
    assert client.post(decision_page(decision), {"prediction": '"deny"'}).status_code == 403
    assert client.get(reverse("admin:governance_decision_add")).status_code == 403
    decision.refresh_from_db()
    assert decision.prediction == "approve"


def test_decisions_of_other_projects_are_hidden(chain, decision, other_project):
    theirs = f.DecisionFactory(model_version__model__project=other_project, request_id="theirs-1")
    client = staff_client("olga", "compliance_officer", chain.project)
    response = client.get(DECISIONS)
    assert rows(response) == [decision]
    assert "globex" not in response.content.decode()  # neither the project nor its models in the filters
    assert client.get(decision_page(theirs)).status_code == 302  # as if it did not exist


# Filters and search --------------------------------------------------------------------------------


def test_filters_and_search(admin_client, chain, decision):
    no_outcome = f.DecisionFactory(model_version=chain.version, request_id="loan-2", outcome=None)
    erased = f.DecisionFactory(
        model_version=chain.version, request_id="loan-3", erased_at=datetime(2026, 6, 1, tzinfo=UTC)
    )
    other_model = f.DecisionFactory(model_version__model__project=chain.project, request_id="other-1")

    def ids(**params):
        response = admin_client.get(DECISIONS, params)
        assert response.status_code == 200, params
        return {d.request_id for d in rows(response)}

    everything = {"loan-2026-0001", "loan-2", "loan-3", "other-1"}
    assert ids() == everything
    assert ids(model_version__model__id__exact=chain.model.pk) == everything - {"other-1"}
    assert ids(model_version__id__exact=other_model.model_version_id) == {"other-1"}
    assert ids(environment="production") == {"loan-2026-0001"}
    assert ids(environment="-") == everything - {"loan-2026-0001"}
    assert ids(has_outcome="yes") == {"loan-2026-0001"}
    assert ids(has_outcome="no") == everything - {"loan-2026-0001"}
    assert ids(erased="yes") == {"loan-3"}
    assert ids(erased="no") == everything - {"loan-3"}
    assert ids(q="loan-2") == {"loan-2"}
    assert ids(occurred_at__year="2026", occurred_at__month="2") == everything
    assert ids(occurred_at__year="2025") == set()
    assert no_outcome.pk and erased.pk


def test_version_filter_lists_the_versions_of_the_chosen_model(admin_client, chain, decision):
    response = admin_client.get(DECISIONS, {"model_version__model__id__exact": chain.model.pk})
    body = response.content.decode()
    assert f"model_version__id__exact={chain.version.pk}" in body


# Query counts --------------------------------------------------------------------------------------


def _decisions(chain, count: int, prefix: str) -> None:
    for index in range(count):
        model_version = f.ModelVersionFactory(model=chain.model, run=chain.run)
        deployment = f.DeploymentFactory(model_version=model_version, environment=f"env-{prefix}-{index}")
        f.DecisionFactory(model_version=model_version, deployment=deployment, request_id=f"{prefix}-{index}")


def test_decision_changelist_does_not_query_per_row(admin_client, chain, django_assert_max_num_queries):
    filtered = {"model_version__model__id__exact": chain.model.pk}  # the model filter lists the model's versions
    for params in ({}, filtered):
        _decisions(chain, 3, f"a{len(params)}")
        with django_assert_max_num_queries(12) as few:
            assert admin_client.get(DECISIONS, params).status_code == 200
        _decisions(chain, 60, f"b{len(params)}")
        with django_assert_max_num_queries(len(few.captured_queries)):
            response = admin_client.get(DECISIONS, params)
        assert response.status_code == 200
        assert len(rows(response)) == 50  # one full page
