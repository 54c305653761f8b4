"""Evaluation datasets, runs of prompt versions with the local provider, item-by-item comparison,
and scores of recorded calls, through the API."""

from __future__ import annotations

import pytest

from llmops.models import CallScore, EvaluationRun
from registry.models import AuditEvent
from tests.llmops.test_calls import call, post

pytestmark = pytest.mark.sqlite  # the ingest, JSON tag and erasure paths differ on SQLite

L = "/api/v1/llm"
FEES = "A late payment costs 25 euros. Cards can be blocked in the app. Transfers abroad take two days."
ITEMS = [
    {
        "variables": {"context": FEES, "question": "How much is the late payment fee?"},
        "expected": "A late payment costs 25 euros.",
        "context": [FEES],
    },
    {
        "variables": {"context": FEES, "question": "How long do transfers abroad take?"},
        "expected": "Transfers abroad take two days.",
        "context": [FEES],
    },
]
EVALUATORS = [
    {"name": "exact", "kind": "exact_match"},
    {"name": "grounded", "kind": "groundedness"},
    {"name": "no-pii", "kind": "pii_leak"},
    {"name": "short", "kind": "length_tokens", "config": {"max": 40}},
    {"name": "judge", "kind": "llm_judge", "config": {"rubric": "Correct and brief.", "model": "local-judge"}},
]


def test_two_prompt_versions_compared_item_by_item(scientist, prompt):
    template, v1 = prompt
    v2 = scientist.post(
        f"{L}/prompts/{template.pk}/versions/",
        {
            "kind": "text",
            "text": "Answer the question: {{question}} (ignore: {{context}})",
            "variables": ["question", "context"],
            "model": "gpt-4o",
        },
        format="json",
    ).json()
    dataset = scientist.post(f"{L}/evaluation-datasets/", {"name": "fees", "items": ITEMS}, format="json")
    assert dataset.status_code == 201, dataset.content
    dataset_id = dataset.json()["id"]
    runs = []
    for version in (v1.pk, v2["id"]):
        response = scientist.post(
            f"{L}/evaluation-runs/",
            {"prompt_version": version, "dataset": dataset_id, "evaluators": EVALUATORS},
            format="json",
        )
        assert response.status_code == 201, response.content
        runs.append(response.json())
    first = runs[0]
    assert first["provider"] == "local" and first["status"] == "finished"
    assert [r["output"] for r in first["results"]] == [item["expected"] for item in ITEMS]
    assert first["aggregates"]["exact"] == {
        "kind": "exact_match",
        "count": 2,
        "mean": 1.0,
        "pass_rate": 1.0,
        "errors": 0,
    }
    assert first["aggregates"]["grounded"]["mean"] == 1.0 and first["aggregates"]["judge"]["mean"] == 1.0
    assert runs[1]["aggregates"]["exact"]["pass_rate"] == 0.0

    comparison = scientist.get(f"{L}/evaluation-runs/compare/?a={runs[0]['id']}&b={runs[1]['id']}").json()
    assert comparison["evaluators"]["exact"] == {
        "wins": 0,
        "losses": 2,
        "ties": 0,
        "mean_a": 1.0,
        "mean_b": 0.0,
        "mean_delta": -1.0,
    }
    assert comparison["evaluators"]["no-pii"]["ties"] == 2
    assert [i["scores"]["exact"]["outcome"] for i in comparison["items"]] == ["loss", "loss"]
    assert AuditEvent.objects.filter(event_type="llm.evaluation_run").count() == 2


def test_bad_evaluator_config_and_items_that_do_not_fit_the_prompt_are_400(scientist, prompt):
    _, v1 = prompt
    dataset = scientist.post(
        f"{L}/evaluation-datasets/", {"name": "bad", "items": [{"variables": {"question": "?"}}]}, format="json"
    ).json()
    bad_regex = scientist.post(
        f"{L}/evaluation-runs/",
        {
            "prompt_version": v1.pk,
            "dataset": dataset["id"],
            "evaluators": [{"name": "r", "kind": "regex", "config": {"pattern": "("}}],
        },
        format="json",
    )
    assert bad_regex.status_code == 400
    assert list(bad_regex.json()["error"]["fields"]) == ["evaluators[0].config.pattern"]
    unknown = scientist.post(
        f"{L}/evaluation-runs/",
        {"prompt_version": v1.pk, "dataset": dataset["id"], "evaluators": [{"name": "x", "kind": "vibes"}]},
        format="json",
    )
    assert list(unknown.json()["error"]["fields"]) == ["evaluators[0].kind"]
    missing = scientist.post(
        f"{L}/evaluation-runs/",
        {"prompt_version": v1.pk, "dataset": dataset["id"], "evaluators": [{"name": "e", "kind": "exact_match"}]},
        format="json",
    )
    assert missing.status_code == 400
    assert missing.json()["error"]["fields"] == {
        "dataset.items[0].variables.context": ["is required by this prompt version"]
    }
    assert EvaluationRun.objects.count() == 0


def test_recorded_calls_can_be_scored(ingest, scientist, prices):
    post(
        ingest,
        [
            call("s1", output='{"fee": 25}'),
            call("s2", output="Write to jane.doe@example.com or call +44 20 7946 0958."),
        ],
    )
    ids = {c["client_call_id"]: c["id"] for c in scientist.get(f"{L}/calls/").json()["results"]}
    scored = scientist.post(
        f"{L}/calls/score/",
        {
            "calls": [ids["s1"], ids["s2"]],
            "evaluators": [{"name": "json", "kind": "json_valid"}, {"name": "pii", "kind": "pii_leak"}],
        },
        format="json",
    )
    assert scored.status_code == 200, scored.content
    results = {(s["call"], s["evaluator"]): s for s in scored.json()}
    assert results[(ids["s1"], "json")]["passed"] is True and results[(ids["s2"], "json")]["passed"] is False
    assert results[(ids["s2"], "pii")]["passed"] is False
    assert "jane.doe@example.com" not in str(results[(ids["s2"], "pii")]["detail"])
    assert CallScore.objects.count() == 4
    assert scientist.get(f"{L}/evaluators/").json()["groundedness"]["needs"] == ["context"]
