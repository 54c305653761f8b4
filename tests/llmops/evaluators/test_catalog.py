"""The evaluator catalog: the listing covers every kind as JSON; configs are validated strictly, naming the field."""

from __future__ import annotations

import json

import pytest

from llmops.evaluators import EVALUATOR_KINDS, evaluator_build
from tests.llmops.evaluators.helpers import config_error


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
