"""The regex evaluator: found anywhere in the output, with its span, and its flags."""

from __future__ import annotations

from llmops.evaluators import Score
from tests.llmops.evaluators.helpers import score


def test_regex_searches_anywhere_and_reports_the_span():
    result = score("regex", "Your ticket is TCK-20931, thanks.", {"pattern": r"TCK-\d{5}"})
    assert result == Score(1.0, True, {"span": [15, 24], "match": "TCK-20931"})
    assert score("regex", "no ticket here", {"pattern": r"TCK-\d{5}"}) == Score(0.0, False, {})


def test_regex_flags():
    assert not score("regex", "Hello World", {"pattern": "^world"}).passed
    assert score("regex", "Hello\nWorld", {"pattern": "^world", "flags": ["ignore_case", "multiline"]}).passed
    assert score("regex", "a\nb", {"pattern": "a.b", "flags": ["dotall"]}).passed
