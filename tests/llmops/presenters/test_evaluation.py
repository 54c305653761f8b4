"""A run's page and two runs compared, on their fields."""

from __future__ import annotations

from django.db.models import Prefetch
from django.urls import reverse

from llmops.models import EvaluationResult, EvaluationRun
from llmops.presenters.evaluation import evaluation_run_page, run_comparison
from llmops.services import evaluation
from tests.llmops.test_evaluation_api import EVALUATORS

COMPARE = reverse("admin:llmops_evaluationrun_compare")


def test_run_page_gives_scores_results_and_the_runs_to_compare_with(llm):
    run = EvaluationRun.objects.select_related("prompt_version__template", "dataset").get(pk=llm.run1.pk)
    shown = evaluation_run_page(run, [llm.run3])
    assert shown["names"] == [e["name"] for e in EVALUATORS]
    aggregates = {row["name"]: row for row in shown["aggregates"]}
    assert aggregates["exact"]["pass_rate"] == "100%" and aggregates["exact"]["pass_width"] == "100"
    assert aggregates["exact"]["kind"] == "exact_match" and aggregates["exact"]["count"] == "2"
    assert [row["position"] for row in shown["results"]] == [0, 1]
    first = shown["results"][0]
    assert first["expected"] == "A late payment costs 25 euros." and first["error"] == ""
    assert {"name": "question", "value": "How much is the late payment fee?"}.items() <= {
        k: v for k, v in next(v for v in first["variables"] if v["name"] == "question").items()
    }.items()
    exact = next(cell for cell in first["cells"] if cell["name"] == "exact")
    assert (exact["value"], exact["outcome"], exact["mark"]) == ("1.00", "win", "✓")
    (other,) = shown["others"]
    assert other["compare_url"] == COMPARE + f"?a={llm.run1.pk}&b={llm.run3.pk}"
    assert other["url"] == reverse("admin:llmops_evaluationrun_change", args=[llm.run3.pk])
    assert {"title": "exact: mean 0.000", "text": "exact 0%"} in other["summary"]
    assert shown["audit_trail_url"].endswith(f"?target_type__exact=llmops.evaluationrun&q={llm.run1.pk}")


def test_comparison_gives_wins_losses_both_outputs_and_the_chart_data(llm):
    runs = EvaluationRun.objects.select_related("prompt_version__template", "dataset").prefetch_related(
        Prefetch("results", queryset=EvaluationResult.objects.select_related("item"))
    )
    a, b = runs.get(pk=llm.run1.pk), runs.get(pk=llm.run3.pk)
    compared = evaluation.evaluation_runs_compare(a=a, b=b)
    shown = run_comparison(a, b, compared)
    exact = next(row for row in shown["evaluators"] if row["name"] == "exact")
    assert (exact["wins"], exact["ties"], exact["losses"], exact["delta"], exact["direction"]) == (
        0,
        0,
        2,
        "-1.000",
        "worse",
    )
    assert (exact["mean_a"], exact["mean_b"], exact["kind"]) == ("1.000", "0.000", "exact_match")
    assert [row["cells"][0]["outcome"] for row in shown["rows"]] == ["loss", "loss"]
    assert [row["cells"][0]["a"] for row in shown["rows"]] == ["1.00", "1.00"]
    assert shown["rows"][0]["expected"] == "A late payment costs 25 euros."
    assert shown["rows"][0]["output_a"] == "A late payment costs 25 euros." and not shown["rows"][0]["same_output"]
    assert shown["item_count"] == 2 and shown["dataset"] == llm.dataset.name
    assert shown["a"]["id"] == llm.run1.pk and shown["b"]["version"] == str(llm.v3)
    assert shown["a"]["version_url"] == reverse("admin:llmops_promptversion_change", args=[llm.v1.pk])
    assert shown["version_diff_url"] == reverse("admin:llmops_prompttemplate_diff", args=[llm.template.pk]) + "?a=1&b=3"
    assert shown["swap_url"] == COMPARE + f"?a={llm.run3.pk}&b={llm.run1.pk}"
    assert shown["chart"]["evaluators"] == compared["evaluators"]
    assert shown["chart"]["label_a"] == f"run #{a.pk}, {a.prompt_version}"
