"""Attacks on the evaluators: patterns that backtrack catastrophically, JSON that overflows the parser's
recursion, schemas that reference themselves forever, and a judge config that spends the operator's key
on a model, a token budget or a number of replies the operator did not choose."""

from __future__ import annotations

import pytest

from llmops.evaluators import EvalInput, EvaluatorConfigError, evaluator_build
from tests.llmops.evaluators.test_judge import JUDGE, CannedProvider
from tests.llmops.test_calls import call, post

L = "/api/v1/llm"
# Slips past the config-time probe (strings of one repeated character), blows up on "abab...!".
SLY_PATTERN = "(?:a|b|ab)+$"
SLY_OUTPUT = "ab" * 30 + "!"


def config_error(kind: str, config: dict) -> EvaluatorConfigError:
    with pytest.raises(EvaluatorConfigError) as caught:
        evaluator_build(kind, config)
    return caught.value


# --- regex -----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("pattern", ["(a|aa)+$", "(a|a)+$", "(x|xx)+y"])
def test_a_catastrophic_pattern_is_refused_at_config_time(pattern):
    error = config_error("regex", {"pattern": pattern})
    assert error.field == "config.pattern" and "catastrophic" in error.message


def test_a_pattern_that_slips_the_probe_fails_the_item_instead_of_stalling():
    evaluator = evaluator_build("regex", {"pattern": SLY_PATTERN})
    score = evaluator.score(EvalInput(output=SLY_OUTPUT))
    assert score.passed is False and score.value == 0.0
    assert "too long" in score.detail["error"]
    assert evaluator.score(EvalInput(output="abba")).passed is True  # the same pattern still works on sane text


def test_the_catastrophic_regex_of_the_report_is_a_400_naming_the_field(scientist, prompt):
    _, v1 = prompt
    dataset = scientist.post(f"{L}/evaluation-datasets/", {"name": "d", "items": [{"variables": {}}]}, format="json")
    response = scientist.post(
        f"{L}/evaluation-runs/",
        {
            "prompt_version": v1.pk,
            "dataset": dataset.json()["id"],
            "evaluators": [{"name": "r", "kind": "regex", "config": {"pattern": "(a|aa)+$"}}],
        },
        format="json",
    )
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["evaluators[0].config.pattern"]


# --- JSON ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "config"), [("json_valid", {}), ("json_schema", {"schema": {"type": "array"}})])
def test_json_nested_past_the_recursion_limit_is_a_failed_score(kind, config):
    score = evaluator_build(kind, config).score(EvalInput(output="[" * 100000))
    assert score.passed is False and "deeper than" in score.detail["error"]
    closed = "[" * 150 + "]" * 150  # valid JSON, but past the depth limit
    assert evaluator_build(kind, config).score(EvalInput(output=closed)).passed is False


@pytest.mark.parametrize(
    "schema",
    [
        {"$ref": "#"},
        {"allOf": [{"$ref": "#"}]},
        {"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"anyOf": [{"$ref": "#/$defs/a"}]}}, "$ref": "#/$defs/a"},
        {"$dynamicRef": "#meta"},
        {"$ref": "other.json"},
        {"$defs": {"x": {"$anchor": "x", "$ref": "#x"}}, "$ref": "#x"},
        {"properties": {"a": {"$id": "https://example.com/a", "$ref": "#"}}},
    ],
)
def test_schemas_whose_references_could_loop_are_refused(schema):
    assert config_error("json_schema", {"schema": schema}).field == "config.schema"


def test_a_recursive_schema_that_descends_is_allowed_and_bounded_by_depth():
    evaluator = evaluator_build(
        "json_schema", {"schema": {"type": "object", "properties": {"child": {"$ref": "#"}}, "required": ["child"]}}
    )
    nested = '{"child": ' * 50 + "{}" + "}" * 50
    assert evaluator.score(EvalInput(output=nested)).detail["error_count"] == 1  # the innermost has no child
    too_deep = '{"child": ' * 5000 + "{}" + "}" * 5000
    assert evaluator.score(EvalInput(output=too_deep)).passed is False


def test_schema_patterns_are_time_limited_too():
    refused = config_error("json_schema", {"schema": {"type": "string", "pattern": "(a|aa)+$"}})
    assert "catastrophic" in refused.message
    refused = config_error("json_schema", {"schema": {"patternProperties": {"(a|aa)+$": {}}}})
    assert "patternProperties" in refused.message
    for schema, output in (
        ({"type": "string", "pattern": SLY_PATTERN}, f'"{SLY_OUTPUT}"'),
        ({"type": "object", "patternProperties": {SLY_PATTERN: {"type": "integer"}}}, f'{{"{SLY_OUTPUT}": 1}}'),
    ):
        score = evaluator_build("json_schema", {"schema": schema}).score(EvalInput(output=output))
        assert score.passed is False and "too long" in score.detail["error"]


def test_scoring_recorded_calls_with_hostile_json_answers_not_500(ingest, scientist, prices):
    assert post(ingest, [call("deep", output="[" * 100000)]).status_code == 200
    call_id = scientist.get(f"{L}/calls/").json()["results"][0]["id"]
    scored = scientist.post(
        f"{L}/calls/score/",
        {"calls": [call_id], "evaluators": [{"name": "json", "kind": "json_valid"}]},
        format="json",
    )
    assert scored.status_code == 200, scored.content
    assert scored.json()[0]["passed"] is False
    looping = scientist.post(
        f"{L}/calls/score/",
        {"calls": [call_id], "evaluators": [{"name": "s", "kind": "json_schema", "config": {"schema": {"$ref": "#"}}}]},
        format="json",
    )
    assert looping.status_code == 400
    assert list(looping.json()["error"]["fields"]) == ["evaluators[0].config.schema"]


# --- LLM judge -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"n": 50}, "config.params.n"),
        ({"max_tokens": 100000}, "config.params.max_tokens"),
        ({"logit_bias": {"1": 100}}, "config.params.logit_bias"),
        ({"model": "gpt-4-32k"}, "config.params.model"),
        ({"stream": True}, "config.params.stream"),
    ],
)
def test_judge_parameters_outside_the_allow_list_are_refused(params, field):
    assert config_error("llm_judge", {**JUDGE, "params": params}).field == field


def test_the_judge_always_sends_one_reply_and_a_capped_token_budget(settings):
    settings.LLM_JUDGE_MAX_TOKENS = 64
    provider = CannedProvider('{"score": 1, "reason": "ok"}')
    evaluator_build("llm_judge", {**JUDGE, "params": {"temperature": 0}}, provider=provider).score(
        EvalInput(output="Paris")
    )
    _, model, params = provider.calls[0]
    assert model == "judge-1" and params == {"temperature": 0, "n": 1, "max_tokens": 64}


def test_on_the_operators_key_only_allowed_judge_models_are_accepted(settings, scientist, prompt):
    settings.LLM_PROVIDER_BASE_URL, settings.LLM_PROVIDER_API_KEY = "http://127.0.0.1:9/v1", "sk-operator"
    settings.LLM_JUDGE_MODELS = []
    assert config_error("llm_judge", JUDGE).field == "config.model"  # nothing allowed until the operator says
    settings.LLM_JUDGE_MODELS = ["gpt-4o-mini"]
    assert config_error("llm_judge", {**JUDGE, "model": "gpt-4-32k"}).field == "config.model"
    assert evaluator_build("llm_judge", {**JUDGE, "model": "gpt-4o-mini"}).config["model"] == "gpt-4o-mini"
    _, v1 = prompt
    dataset = scientist.post(f"{L}/evaluation-datasets/", {"name": "d", "items": [{"variables": {}}]}, format="json")
    response = scientist.post(
        f"{L}/evaluation-runs/",
        {
            "prompt_version": v1.pk,
            "dataset": dataset.json()["id"],
            "evaluators": [{"name": "j", "kind": "llm_judge", "config": {"rubric": "r", "model": "gpt-4-32k"}}],
        },
        format="json",
    )
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["evaluators[0].config.model"]
