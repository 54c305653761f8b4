"""Every LLMOps admin page renders for a superuser and for the role that uses it; the read-only records refuse
add, change and delete (superusers included); subject keys never reach a page; lists and pages do not query per
row or item."""

from __future__ import annotations

import pytest
from django.urls import reverse

from llmops.models import Price, PromptVersion
from llmops.services import evaluation, prompts
from registry.subjects import subject_key
from tests.helpers import staff_client
from tests.llmops.admin.pages import COMPARE, COSTS, CUSTOMER, USAGE, page, pages, url
from tests.llmops.conftest import SYSTEM
from tests.llmops.test_calls import call, post
from tests.llmops.test_evaluation_api import EVALUATORS, ITEMS


@pytest.mark.sqlite  # `make run` serves admin from SQLite: the dashboard's day and tag grouping differ there
def test_every_page_renders_for_a_superuser(admin_client, llm):
    for address in pages(llm):
        response = admin_client.get(address)
        assert response.status_code == 200, address
    for name in ("prompttemplate_add", "price_add", "budget_add"):
        assert admin_client.get(url(name)).status_code == 200, name
    assert admin_client.get(url("prompttemplate_move_label", llm.template.pk)).status_code == 200
    index = admin_client.get(reverse("admin:app_list", args=["llmops"])).content.decode()
    assert COSTS in index  # the dashboard is linked from the app index
    assert COSTS in admin_client.get(url("llmcall_changelist")).content.decode()


@pytest.mark.parametrize("role", ["data_scientist", "compliance_officer", "risk_analyst"])
def test_every_page_renders_for_each_human_role(llm, role):
    client = staff_client("pat", role, llm.project)
    for address in pages(llm):
        response = client.get(address)
        assert response.status_code == 200, address
    move = client.get(url("prompttemplate_move_label", llm.template.pk)).status_code
    budget_add = client.get(url("budget_add")).status_code
    assert move == (200 if role == "data_scientist" else 403)
    assert budget_add == (200 if role == "compliance_officer" else 403)
    assert client.get(url("price_add")).status_code == 403  # the shared catalog: superusers only
    template_page = client.get(page(llm.template)).content.decode()
    assert ("move-label-link" in template_page) == (role == "data_scientist")


def test_read_only_records_refuse_add_change_and_delete_even_for_a_superuser(admin_client, llm):
    for obj in (llm.v1, llm.calls["c1"], llm.run1, llm.dataset, llm.price, llm.budget):
        name = obj._meta.model_name
        if name not in ("price", "budget"):  # those two are added through their service
            assert admin_client.get(url(f"{name}_add")).status_code == 403, name
        assert admin_client.post(page(obj), {"model": "changed", "name": "changed"}).status_code == 403, name
        assert admin_client.post(page(obj, "delete"), {"post": "yes"}).status_code == 403, name
        body = admin_client.get(page(obj)).content.decode()
        assert 'name="_save"' not in body, name
    assert "delete_selected" not in admin_client.get(url("llmcall_changelist")).content.decode()
    assert PromptVersion.objects.filter(pk=llm.v1.pk, model="gpt-4o").exists()
    assert Price.objects.filter(pk=llm.price.pk, model="gpt-4o").exists()


def test_subject_keys_never_reach_a_page(admin_client, llm):
    key = subject_key(CUSTOMER)
    for address in (url("llmcall_changelist"), page(llm.calls["c2"]), COSTS + "?group_by=model"):
        body = admin_client.get(address).content.decode()
        assert key not in body and key[:16] not in body and CUSTOMER not in body
    assert "Linked to a subject" in admin_client.get(page(llm.calls["c2"])).content.decode()


def _more_calls(ingest, prefix: str, n: int) -> None:
    post(
        ingest,
        [call(f"{prefix}-{i}", usage=USAGE, tags=["bulk"], occurred_at="2026-02-14T10:00:00Z") for i in range(n)],
    )


def test_lists_do_not_query_per_row(admin_client, llm, ingest, django_assert_max_num_queries):
    lists = [url(name) for name in ("llmcall_changelist", "prompttemplate_changelist", "promptversion_changelist")]
    lists += [url("evaluationrun_changelist"), url("evaluationdataset_changelist"), url("price_changelist")]
    counts = {}
    for address in lists:
        with django_assert_max_num_queries(20) as few:
            assert admin_client.get(address).status_code == 200
        counts[address] = len(few.captured_queries)
    _more_calls(ingest, "more", 60)
    for i in range(8):
        template = prompts.prompt_create(actor=SYSTEM, project=llm.project, name=f"p{i}")
        prompts.prompt_version_create(actor=SYSTEM, template=template, kind="text", text="Hi", labels=["production"])
        evaluation.evaluation_run(actor=SYSTEM, version=llm.v2, dataset=llm.dataset, evaluators=EVALUATORS)
        evaluation.evaluation_dataset_create(actor=SYSTEM, project=llm.project, name=f"d{i}", items=ITEMS)
    for address in lists:
        with django_assert_max_num_queries(counts[address]):
            assert admin_client.get(address).status_code == 200


def test_pages_do_not_query_per_item(admin_client, llm, ingest, django_assert_max_num_queries):
    """The compare page and the dashboard ask the same number of queries for 2 items or 8, 5 calls or 45."""
    items = ITEMS * 4
    dataset = evaluation.evaluation_dataset_create(actor=SYSTEM, project=llm.project, name="eight", items=items)
    big = [
        evaluation.evaluation_run(actor=SYSTEM, version=v, dataset=dataset, evaluators=EVALUATORS)
        for v in (llm.v1, llm.v3)
    ]
    with django_assert_max_num_queries(40) as captured:
        assert admin_client.get(COMPARE, {"a": llm.run1.pk, "b": llm.run3.pk}).status_code == 200
    compare_queries = len(captured.captured_queries)
    with django_assert_max_num_queries(30) as captured:
        assert admin_client.get(COSTS).status_code == 200
    dashboard_queries = len(captured.captured_queries)
    with django_assert_max_num_queries(compare_queries):
        response = admin_client.get(COMPARE, {"a": big[0].pk, "b": big[1].pk})
    assert response.context["comparison"]["item_count"] == 8
    _more_calls(ingest, "page", 40)
    with django_assert_max_num_queries(dashboard_queries):
        assert admin_client.get(COSTS).status_code == 200
