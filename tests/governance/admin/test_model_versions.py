"""The model version page's Lineage section (governance re-registers the registry's model version admin)."""

from __future__ import annotations

from django.urls import reverse

from tests import factories as f
from tests.governance.admin.pages import DECISIONS, rows, version_page
from tests.helpers import staff_client

# The model version page ----------------------------------------------------------------------------


def test_model_version_page_shows_its_lineage(admin_client, chain, decision):
    chain.run.git_commit = "0123456789abcdef"
    chain.run.notebook_path = "notebooks/credit.ipynb"
    chain.run.save()
    f.DecisionFactory(model_version=chain.version, request_id="loan-2")
    response = admin_client.get(version_page(chain.version))
    assert response.status_code == 200
    lineage = response.context["lineage"]
    assert [(dv["dataset"], dv["version"], dv["roles"]) for dv in lineage["data_versions"]] == [
        (chain.train.dataset.name, "train", ["train"]),
        (chain.raw.dataset.name, "raw", []),
    ]
    assert lineage["data_versions"][0]["parents"][0]["label"] == str(chain.raw)
    assert lineage["data_versions"][0]["parents"][0]["transformation"] == "70% split"
    assert lineage["decision_count"] == 2

    body = response.content.decode()
    section = body[body.index('id="lineage"') :]
    for text in (
        "Lineage",
        "raw",
        "train",
        "70% split",
        chain.run.name,
        "0123456789",
        "notebooks/credit.ipynb",
        "accuracy=0.8",
        "C=1.0",
        "production",
        "2026-01-01 00:00 UTC",
        "2 decisions",
    ):
        assert text in section, text
    decisions_link = (
        f"{DECISIONS}?model_version__model__id__exact={chain.model.pk}&amp;model_version__id__exact={chain.version.pk}"
    )
    assert decisions_link in section
    assert chain.train.content_sha256[:12] in section


def test_decision_link_of_the_lineage_lists_the_versions_decisions(admin_client, chain, decision):
    other = f.DecisionFactory(model_version__model=chain.model, model_version__version=2, request_id="v2-1")
    url = admin_client.get(version_page(chain.version)).context["lineage"]["decisions_url"]
    assert rows(admin_client.get(url)) == [decision]
    assert other.pk


def test_model_version_page_for_a_compliance_officer(chain, decision):
    client = staff_client("olga", "compliance_officer", chain.project)
    response = client.get(version_page(chain.version))
    assert response.status_code == 200
    assert response.context["lineage"]["decision_count"] == 1
    assert "Change stage" in response.content.decode()
    assert 'name="_save"' not in response.content.decode()


# Query counts and an empty lineage ---------------------------------------------------------------


def _decisions(chain, count: int, prefix: str) -> None:
    for index in range(count):
        model_version = f.ModelVersionFactory(model=chain.model, run=chain.run)
        deployment = f.DeploymentFactory(model_version=model_version, environment=f"env-{prefix}-{index}")
        f.DecisionFactory(model_version=model_version, deployment=deployment, request_id=f"{prefix}-{index}")


def test_model_version_changelist_does_not_query_per_row(admin_client, chain, django_assert_max_num_queries):
    _decisions(chain, 3, "a")
    with django_assert_max_num_queries(12) as few:
        assert admin_client.get(reverse("admin:registry_modelversion_changelist")).status_code == 200
    _decisions(chain, 60, "b")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = admin_client.get(reverse("admin:registry_modelversion_changelist"))
    assert len(rows(response)) == 50


def test_model_version_page_queries_do_not_grow_with_its_decisions(admin_client, chain, django_assert_max_num_queries):
    f.DecisionFactory(model_version=chain.version, deployment=chain.deployment)
    # 36: the page with its Promotion gate (policy, audits, approvals, incidents); a first view also creates the
    # project's default policy, as every first gate evaluation does (about 20 once it exists)
    with django_assert_max_num_queries(36) as few:
        assert admin_client.get(version_page(chain.version)).status_code == 200
    for _ in range(30):
        f.DecisionFactory(model_version=chain.version, deployment=chain.deployment)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert admin_client.get(version_page(chain.version)).status_code == 200


def test_lineage_of_a_version_whose_run_recorded_nothing(admin_client, project):
    version = f.ModelVersionFactory(model__project=project, run__git_commit="", run__notebook_path="")
    response = admin_client.get(version_page(version))
    assert response.status_code == 200
    section = response.content.decode().split('id="lineage"')[1]
    assert "recorded no input data versions" in section
    assert section.count("not recorded") == 2  # git commit and notebook
    assert "Never deployed." in section
    assert "0 decisions" in section
