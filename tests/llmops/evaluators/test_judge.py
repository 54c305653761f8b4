"""The LLM judge: its prompt, its threshold, and error scores for unparseable replies and provider errors."""

from __future__ import annotations

import pytest

from llmops.evaluators import EvalInput, Score, evaluator_build
from llmops.evaluators.judge import judge_reply_parse
from llmops.providers import Completion, LocalProvider, ProviderError

JUDGE = {"rubric": "The answer states the correct capital city.", "model": "judge-1"}


class CannedProvider:
    """A provider replying with a fixed text, recording what it was asked (an in-process stand-in for a model;
    the HTTP client itself is tested against a real server in test_providers)."""

    name = "canned"

    def __init__(self, reply: str | Exception) -> None:
        self.reply = reply
        self.calls: list[tuple[list[dict], str, dict | None]] = []

    def complete(self, messages, *, model, params=None):
        self.calls.append((messages, model, params))
        if isinstance(self.reply, Exception):
            raise self.reply
        return Completion(
            text=self.reply,
            usage={"prompt_tokens": 50, "completion_tokens": 9},
            latency_ms=12.0,
            model=model,
            provider=self.name,
        )


def judge(output: str, provider, config: dict | None = None, **item) -> Score:
    return evaluator_build("llm_judge", {**JUDGE, **(config or {})}, provider=provider).score(
        EvalInput(output=output, **item)
    )


def test_llm_judge_with_the_local_provider_scores_word_overlap():
    provider = LocalProvider()
    good = judge("The capital of France is Paris.", provider, expected="Paris is the capital of France.")
    assert good.value == 1.0
    assert good.passed
    assert good.detail["provider"] == "local"
    assert good.detail["judge_model"] == "judge-1"
    assert good.detail["usage"]["prompt_tokens"] > 0
    bad = judge("I cannot help with that request.", provider, expected="Paris is the capital of France.")
    assert bad.value == 0.0
    assert not bad.passed
    assert "reason" in bad.detail


def test_llm_judge_prompt_carries_rubric_expected_context_and_candidate():
    provider = CannedProvider('{"score": 0.75, "reason": "Mostly right."}')
    result = judge(
        "Paris",
        provider,
        {"params": {"temperature": 0}},
        expected="Paris",
        context=["France: Paris."],
        variables={"country": "France"},
    )
    assert result == Score(
        0.75,
        True,
        {
            "reason": "Mostly right.",
            "judge_model": "judge-1",
            "provider": "canned",
            "usage": {"prompt_tokens": 50, "completion_tokens": 9},
            "latency_ms": 12.0,
        },
    )
    messages, model, params = provider.calls[0]
    assert (model, params) == ("judge-1", {"temperature": 0, "n": 1, "max_tokens": 256})
    assert messages[0]["role"] == "system"
    assert '{"score"' in messages[0]["content"]
    user = messages[1]["content"]
    for part in (
        JUDGE["rubric"],
        "<expected>\nParis\n</expected>",
        "<candidate>\nParis\n</candidate>",
        "France: Paris.",
        '"country": "France"',
    ):
        assert part in user


def test_llm_judge_pass_threshold():
    provider = CannedProvider('{"score": 0.6, "reason": "Partly."}')
    assert judge("x", provider).passed
    assert not judge("x", provider, {"pass_threshold": 0.7}).passed


@pytest.mark.parametrize(
    "reply",
    [
        "The answer is good. Score: 0.9",
        '```json\n{"score": 0.9, "reason": "ok"}\n```',
        '{"score": 1.2, "reason": "too high"}',
        '{"score": "0.9", "reason": "a string"}',
        '{"score": true, "reason": "a boolean"}',
        '{"score": 0.9}',
        '{"score": 0.9, "reason": "ok", "confidence": "high"}',
        "[0.9]",
        "",
    ],
)
def test_llm_judge_unparseable_reply_is_an_error_score(reply):
    result = judge("Paris", CannedProvider(reply), expected="Paris")
    assert (result.value, result.passed) == (0.0, False)
    assert result.detail["error"]
    assert result.detail["raw_reply"] == reply


def test_llm_judge_provider_error_is_an_error_score():
    result = judge("Paris", CannedProvider(ProviderError("HTTP 503: overloaded", status=503, provider="canned")))
    assert result == Score(
        0.0, False, {"error": "judge call failed: HTTP 503: overloaded", "provider": "canned", "status": 503}
    )


def test_judge_reply_parse_accepts_integers_and_surrounding_white_space():
    assert judge_reply_parse('{"score": 1, "reason": "exact"}') == (1.0, "exact")
    assert judge("x", CannedProvider('\n {"reason": "fine", "score": 0} \n')).detail["reason"] == "fine"
