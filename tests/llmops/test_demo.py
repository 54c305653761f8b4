"""The LLM demo that `make run` loads."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from llmops.models import Budget, BudgetAlert, EvaluationRun, LLMCall, RetrievedDocument
from llmops.selectors import costs_rollup
from llmops.services.budgets import budget_state
from llmops.services.evaluation import evaluation_runs_compare


@pytest.mark.sqlite
def test_the_llm_demo_loads_once_with_costs_documents_budget_and_an_evaluation(db, capsys):
    call_command("load_llm_demo")
    assert "LLM demo loaded" in capsys.readouterr().out
    calls = LLMCall.objects.all()
    assert calls.count() == 360
    assert calls.filter(cost_status="unpriced").exists() and calls.filter(token_source="provider").exists()
    assert calls.exclude(token_source="provider").exists()  # some counted with tiktoken
    assert calls.filter(input_cache_read__gt=0).exists()
    assert RetrievedDocument.objects.filter(data_version__isnull=False).count() == 3 * 360
    report = costs_rollup(project_ids=None, group_by="model")
    assert {r["key"] for r in report["rows"] if r["unpriced"]} == {"acme/acme-support-ft-2"}
    assert report["totals"]["cost"] == sum(r["cost"] for r in report["rows"])
    budget = Budget.objects.get()
    assert BudgetAlert.objects.filter(budget=budget).exists()
    v1_run, v2_run = EvaluationRun.objects.order_by("id")
    comparison = evaluation_runs_compare(a=v1_run, b=v2_run)
    assert comparison["evaluators"]["exact"]["losses"] > 0  # the shorter prompt answers less exactly
    assert v1_run.aggregates["grounded"]["mean"] == 1.0
    assert budget_state(budget, LLMCall.objects.latest("occurred_at").occurred_at).spent > 0
    call_command("load_llm_demo")
    assert "already loaded" in capsys.readouterr().out and LLMCall.objects.count() == 360
