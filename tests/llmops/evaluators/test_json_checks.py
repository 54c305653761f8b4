"""JSON evaluators: json_valid and json_schema (paths of the errors, local references only, never fetched)."""

from __future__ import annotations

from llmops.evaluators import Score
from tests.llmops.evaluators.helpers import score


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
