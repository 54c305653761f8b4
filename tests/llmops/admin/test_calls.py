"""LLM calls in admin: tokens, cost and the unpriced on the list and a call's page; an erased call says so; calls of
other projects are hidden."""

from __future__ import annotations

from datetime import UTC, datetime

from llmops.models import LLMCall
from tests.helpers import staff_client
from tests.llmops.admin.pages import COSTS, page, url
from tests.llmops.test_calls import call, post


def test_call_list_and_page_show_tokens_cost_and_the_unpriced(admin_client, llm):
    body = admin_client.get(url("llmcall_changelist")).content.decode()
    assert "2,000" in body and "1,500 cached" in body  # tokens in, with the cached share
    assert "unpriced" in body and "$0.0041" in body  # 500 x 2.50 + 1500 x 1.25 + 100 x 10.00 per million
    assert "support" in body
    detail = admin_client.get(page(llm.calls["c1"])).content.decode()
    for text in ("input read from the cache", "1,500", "$1.25", "$0.004125", "kb/fees.md#3", "What is the fee"):
        assert text in detail
    assert "The late payment fee is 25 euros." in detail
    unpriced = admin_client.get(page(llm.calls["c4"])).content.decode()
    assert "the cost is unknown, not zero" in unpriced
    errored = admin_client.get(url("llmcall_changelist"), {"status__exact": "error"})
    assert list(errored.context["cl"].result_list) == [llm.calls["c5"]]


def test_an_erased_call_says_so_instead_of_its_text(admin_client, llm):
    LLMCall.objects.filter(pk=llm.calls["c2"].pk).update(
        input=None, output="", subject_key=None, erased_at=datetime(2026, 3, 1, tzinfo=UTC)
    )
    body = admin_client.get(page(llm.calls["c2"])).content.decode()
    assert "redacted on 2026-03-01" in body and "What is the fee" not in body
    erased = admin_client.get(url("llmcall_changelist"), {"erased": "yes"})
    assert list(erased.context["cl"].result_list) == [llm.calls["c2"]]
    assert ">erased</span>" in erased.content.decode()  # the badge beside the status


def test_calls_of_other_projects_are_hidden(llm, other_project, make_client):
    theirs = make_client("ingest", other_project)
    post(theirs, [call("x1", model="secret-model", occurred_at="2026-02-12T10:00:00Z")])
    client = staff_client("pat", "risk_analyst", llm.project)
    body = client.get(url("llmcall_changelist")).content.decode()
    assert "secret-model" not in body and "globex" not in body
    assert "secret-model" not in client.get(COSTS).content.decode()
    hidden = LLMCall.objects.get(client_call_id="x1")
    assert client.get(page(hidden)).status_code == 302
