"""Provider usage objects mapped onto the canonical categories, each token counted once.

The categories do not overlap: `input_uncached + input_cache_read + input_cache_write` is every input
token, `output + output_reasoning` every output token. Providers report the same tokens differently:

- OpenAI (chat completions): `prompt_tokens` INCLUDES `prompt_tokens_details.cached_tokens`, and
  `completion_tokens` INCLUDES `completion_tokens_details.reasoning_tokens`.
- OpenAI (responses API): the same with `input_tokens` / `input_tokens_details.cached_tokens` and
  `output_tokens` / `output_tokens_details.reasoning_tokens`.
- Anthropic: `input_tokens` EXCLUDES `cache_read_input_tokens` and `cache_creation_input_tokens`.
- OpenTelemetry GenAI (`gen_ai.usage.*`): `input_tokens` INCLUDES `cache_read.input_tokens` and
  `cache_creation.input_tokens`; `output_tokens` includes `reasoning.output_tokens`. An `input_tokens`
  smaller than its cached parts is Anthropic's exclusive number passed on unconverted, and read as such.

Adding Anthropic's cache counts to an OpenAI-style total, or OpenAI's cached tokens to its own
prompt total, is the double counting this module exists to avoid.
"""

from __future__ import annotations

from collections.abc import Mapping

from llmops.models import USAGE_CATEGORIES

FORMATS = ("canonical", "openai", "openai_responses", "anthropic", "otel")
OTEL_PREFIX = "gen_ai.usage."
MAX_TOKENS = 2**31 - 1  # a token count column holds no more


class UsageError(ValueError):
    """A usage object that cannot be read; the message says which key is wrong."""


def _count(usage: Mapping, *path: str, default: int = 0) -> int:
    value: object = usage
    for key in path:
        if not isinstance(value, Mapping) or key not in value or value[key] is None:
            return default
        value = value[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise UsageError(f"{'.'.join(path)} must be a non-negative integer")
    if value > MAX_TOKENS:
        raise UsageError(f"{'.'.join(path)} must be at most {MAX_TOKENS}")
    return value


def _part_of(total: int, part: int, total_name: str, part_name: str) -> int:
    if part > total:
        raise UsageError(f"{part_name} ({part}) exceeds {total_name} ({total}), which includes it")
    return total - part


def detect_format(usage: Mapping) -> str:
    keys = set(usage)
    if keys & set(USAGE_CATEGORIES):
        return "canonical"
    if any(str(key).startswith(OTEL_PREFIX) for key in keys):
        return "otel"
    if "prompt_tokens" in keys or "completion_tokens" in keys:
        return "openai"
    if "input_tokens_details" in keys or "output_tokens_details" in keys:
        return "openai_responses"
    if "cache_read_input_tokens" in keys or "cache_creation_input_tokens" in keys:
        return "anthropic"
    if "input_tokens" in keys or "output_tokens" in keys:
        return "anthropic"  # without cache fields the two input_tokens conventions agree
    raise UsageError("no known usage fields (expected OpenAI, Anthropic, gen_ai.usage.* or canonical names)")


def usage_normalise(usage: Mapping, fmt: str | None = None) -> dict[str, int]:
    """The canonical categories of one usage object; `fmt` is detected from its keys when not given."""
    if not isinstance(usage, Mapping):
        raise UsageError("must be an object")
    fmt = fmt or detect_format(usage)
    if fmt not in FORMATS:
        raise UsageError(f"unknown usage format {fmt!r}; one of {', '.join(FORMATS)}")
    if fmt == "canonical":
        unknown = set(usage) - set(USAGE_CATEGORIES)
        if unknown:
            raise UsageError(f"unknown canonical categories: {', '.join(sorted(map(str, unknown)))}")
        return {category: _count(usage, category) for category in USAGE_CATEGORIES}
    if fmt == "openai":
        prompt, completion = _count(usage, "prompt_tokens"), _count(usage, "completion_tokens")
        cached = _count(usage, "prompt_tokens_details", "cached_tokens")
        reasoning = _count(usage, "completion_tokens_details", "reasoning_tokens")
        return {
            "input_uncached": _part_of(prompt, cached, "prompt_tokens", "cached_tokens"),
            "input_cache_read": cached,
            "input_cache_write": 0,
            "output": _part_of(completion, reasoning, "completion_tokens", "reasoning_tokens"),
            "output_reasoning": reasoning,
        }
    if fmt == "openai_responses":
        prompt, completion = _count(usage, "input_tokens"), _count(usage, "output_tokens")
        cached = _count(usage, "input_tokens_details", "cached_tokens")
        reasoning = _count(usage, "output_tokens_details", "reasoning_tokens")
        return {
            "input_uncached": _part_of(prompt, cached, "input_tokens", "cached_tokens"),
            "input_cache_read": cached,
            "input_cache_write": 0,
            "output": _part_of(completion, reasoning, "output_tokens", "reasoning_tokens"),
            "output_reasoning": reasoning,
        }
    if fmt == "anthropic":
        return {
            "input_uncached": _count(usage, "input_tokens"),
            "input_cache_read": _count(usage, "cache_read_input_tokens"),
            "input_cache_write": _count(usage, "cache_creation_input_tokens"),
            "output": _count(usage, "output_tokens"),
            "output_reasoning": 0,
        }
    # OpenTelemetry GenAI semantic conventions (current names, and the older underscore spellings)
    total_in = _count(usage, "gen_ai.usage.input_tokens") or _count(usage, "gen_ai.usage.prompt_tokens")
    total_out = _count(usage, "gen_ai.usage.output_tokens") or _count(usage, "gen_ai.usage.completion_tokens")
    read = _count(usage, "gen_ai.usage.cache_read.input_tokens") or _count(
        usage, "gen_ai.usage.cache_read_input_tokens"
    )
    write = _count(usage, "gen_ai.usage.cache_creation.input_tokens") or _count(
        usage, "gen_ai.usage.cache_creation_input_tokens"
    )
    reasoning = _count(usage, "gen_ai.usage.reasoning.output_tokens")
    # An emitter that passes Anthropic's raw input_tokens on (which EXCLUDES the cache) breaks the convention;
    # an input total smaller than its cached parts can only be that exclusive number, so it is taken as is.
    uncached = total_in if total_in < read + write else total_in - read - write
    return {
        "input_uncached": uncached,
        "input_cache_read": read,
        "input_cache_write": write,
        "output": _part_of(total_out, reasoning, "gen_ai.usage.output_tokens", "reasoning.output_tokens"),
        "output_reasoning": reasoning,
    }
