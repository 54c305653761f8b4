"""Provider usage objects onto the canonical categories: every token counted once."""

from __future__ import annotations

import pytest

from llmops.usage import UsageError, detect_format, usage_normalise


def total(c):
    return sum(c.values())


def test_openai_chat_cached_and_reasoning_tokens_are_inside_the_totals():
    usage = {
        "prompt_tokens": 1200,
        "completion_tokens": 300,
        "total_tokens": 1500,
        "prompt_tokens_details": {"cached_tokens": 1024, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 200},
    }
    c = usage_normalise(usage)
    assert c == {
        "input_uncached": 176,
        "input_cache_read": 1024,
        "input_cache_write": 0,
        "output": 100,
        "output_reasoning": 200,
    }
    assert total(c) == usage["total_tokens"]


def test_openai_responses_api():
    usage = {
        "input_tokens": 50,
        "output_tokens": 20,
        "input_tokens_details": {"cached_tokens": 30},
        "output_tokens_details": {"reasoning_tokens": 5},
    }
    assert detect_format(usage) == "openai_responses"
    assert usage_normalise(usage) == {
        "input_uncached": 20,
        "input_cache_read": 30,
        "input_cache_write": 0,
        "output": 15,
        "output_reasoning": 5,
    }


def test_anthropic_cache_counts_are_outside_input_tokens():
    usage = {
        "input_tokens": 21,
        "cache_creation_input_tokens": 188086,
        "cache_read_input_tokens": 0,
        "output_tokens": 393,
    }
    c = usage_normalise(usage)
    assert c == {
        "input_uncached": 21,
        "input_cache_read": 0,
        "input_cache_write": 188086,
        "output": 393,
        "output_reasoning": 0,
    }
    later = usage_normalise(
        {"input_tokens": 21, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 188086, "output_tokens": 393}
    )
    assert later["input_cache_read"] == 188086 and total(later) == 21 + 188086 + 393


def test_otel_gen_ai_usage_names_include_the_cache_in_input_tokens():
    usage = {
        "gen_ai.usage.input_tokens": 100,
        "gen_ai.usage.output_tokens": 40,
        "gen_ai.usage.cache_read.input_tokens": 60,
        "gen_ai.usage.cache_creation.input_tokens": 10,
    }
    assert usage_normalise(usage) == {
        "input_uncached": 30,
        "input_cache_read": 60,
        "input_cache_write": 10,
        "output": 40,
        "output_reasoning": 0,
    }


def test_canonical_usage_passes_through():
    assert usage_normalise({"input_uncached": 5, "output": 2})["input_uncached"] == 5


@pytest.mark.parametrize(
    ("usage", "message"),
    [
        ({"prompt_tokens": 10, "prompt_tokens_details": {"cached_tokens": 11}}, "exceeds prompt_tokens"),
        ({"prompt_tokens": -1}, "non-negative"),
        ({"input_tokens": "12"}, "non-negative integer"),
        ({"foo": 1}, "no known usage fields"),
        ({"input_uncached": 1, "colour": 2}, "unknown canonical categories"),
    ],
)
def test_bad_usage_says_which_key(usage, message):
    with pytest.raises(UsageError, match=message):
        usage_normalise(usage)
