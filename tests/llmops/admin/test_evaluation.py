"""Evaluation runs in admin: a run's page item by item with links to the comparison; the compare page shows wins,
losses and both outputs; the compare action needs two runs of one dataset."""

from __future__ import annotations

from llmops.services import evaluation
from tests.llmops.admin.pages import COMPARE, NS, messages_of, page, svgs, url
from tests.llmops.conftest import SYSTEM
from tests.llmops.test_evaluation_api import EVALUATORS, ITEMS


def test_run_page_shows_results_item_by_item_and_links_the_comparison(admin_client, llm):
    body = admin_client.get(page(llm.run1)).content.decode()
    assert "How much is the late payment fee?" in body and "A late payment costs 25 euros." in body
    assert f"?a={llm.run1.pk}&amp;b={llm.run3.pk}" in body  # compare with the other run over the dataset
    changelist = admin_client.get(url("evaluationrun_changelist")).content.decode()
    assert "exact 100%" in changelist and "exact 0%" in changelist


def test_compare_page_shows_wins_losses_and_both_outputs(admin_client, llm):
    response = admin_client.get(COMPARE, {"a": llm.run1.pk, "b": llm.run3.pk})
    comparison = response.context["comparison"]
    exact = next(row for row in comparison["evaluators"] if row["name"] == "exact")
    assert (exact["wins"], exact["ties"], exact["losses"], exact["delta"]) == (0, 0, 2, "-1.000")
    assert [row["cells"][0]["outcome"] for row in comparison["rows"]] == ["loss", "loss"]
    body = response.content.decode()
    assert "B worse" in body and "A late payment costs 25 euros." in body
    (chart,) = svgs(body, "comparison-chart")
    losses = [r for r in chart.iter(f"{NS}rect") if r.get("class") == "losses"]
    assert losses  # exact, at least, is worse for B
    assert comparison["version_diff_url"] == url("prompttemplate_diff", llm.template.pk) + "?a=1&b=3"


def test_compare_action_needs_two_runs_of_one_dataset(admin_client, llm):
    changelist = url("evaluationrun_changelist")
    both = admin_client.post(changelist, {"action": "compare_runs", "_selected_action": [llm.run1.pk, llm.run3.pk]})
    assert both.status_code == 302 and both["Location"] == COMPARE + f"?a={llm.run1.pk}&b={llm.run3.pk}"
    one = admin_client.post(changelist, {"action": "compare_runs", "_selected_action": [llm.run1.pk]}, follow=True)
    assert "exactly two runs" in " ".join(messages_of(one))
    other = evaluation.evaluation_dataset_create(actor=SYSTEM, project=llm.project, name="other", items=ITEMS)
    run = evaluation.evaluation_run(actor=SYSTEM, version=llm.v1, dataset=other, evaluators=EVALUATORS)
    mixed = admin_client.post(
        changelist, {"action": "compare_runs", "_selected_action": [llm.run1.pk, run.pk]}, follow=True
    )
    assert "same dataset" in " ".join(messages_of(mixed))
    form = admin_client.get(COMPARE, {"a": llm.run1.pk, "b": run.pk}).context["form"]
    assert "same dataset" in str(form.errors["b"])
