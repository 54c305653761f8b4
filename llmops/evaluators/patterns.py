"""User regular expressions: compiled on the ``regex`` engine, searched with a time limit and probed for
catastrophic backtracking at config time; the ``regex`` evaluator, and the search the JSON Schema patterns use."""

from __future__ import annotations

import regex

from llmops.evaluators.base import (
    EvalInput,
    Evaluator,
    EvaluatorConfigError,
    Score,
    error_score,
    object_schema,
    verdict,
)

# User patterns run on the ``regex`` engine with a time limit: a catastrophic pattern ("(a|aa)+$") costs at most
# PATTERN_TIMEOUT_SECONDS per search and is a failed score, never a stalled worker.
REGEX_FLAGS = {"ignore_case": regex.IGNORECASE, "multiline": regex.MULTILINE, "dotall": regex.DOTALL}


MAX_PATTERN_CHARS = 2000


MATCH_ECHO_CHARS = 200


PATTERN_TIMEOUT_SECONDS = 0.25


# At config time a pattern is tried on a few strings built from its own characters, and refused when one of
# them takes longer than this: most catastrophic patterns show up at once on such a probe.
PATTERN_PROBE_SECONDS = 0.05


PATTERN_PROBE_REPEAT = 30


PATTERN_TIMEOUT_MESSAGE = "the pattern took too long on this output (catastrophic backtracking); it was stopped"


class PatternTimeout(Exception):
    """A user pattern ran past its time limit."""


def pattern_compile(pattern: str, flags: int = 0) -> regex.Pattern:
    """A user pattern compiled (regex.error when it does not), with Python ``re`` syntax (regex VERSION0)."""
    return regex.compile(pattern, flags | regex.VERSION0)


def pattern_search(compiled: regex.Pattern, text: str, *, timeout: float = PATTERN_TIMEOUT_SECONDS):
    """``compiled.search(text)`` within ``timeout`` seconds, else PatternTimeout."""
    try:
        return compiled.search(text, timeout=max(timeout, 0.001), concurrent=True)
    except TimeoutError as exc:
        raise PatternTimeout(PATTERN_TIMEOUT_MESSAGE) from exc


def pattern_probe(compiled: regex.Pattern) -> str | None:
    """A message when the pattern backtracks catastrophically on a probe string, else None."""
    chars = sorted({ch for ch in compiled.pattern if ch.isprintable()} | {"a", "0", " "})
    for ch in chars:
        for probe in (ch * PATTERN_PROBE_REPEAT + "\x00", ch * PATTERN_PROBE_REPEAT + "!"):
            try:
                pattern_search(compiled, probe, timeout=PATTERN_PROBE_SECONDS)
            except PatternTimeout:
                return f"backtracks catastrophically (on {ch!r} repeated {PATTERN_PROBE_REPEAT} times); rewrite it"
    return None


class Regex(Evaluator):
    kind = "regex"
    description = (
        "Passes when the pattern is found in the output (Python re syntax, run with a time limit; "
        "a pattern that runs too long fails the item)."
    )
    config_schema = object_schema(
        {
            "pattern": {"type": "string", "minLength": 1, "maxLength": MAX_PATTERN_CHARS},
            "flags": {
                "type": "array",
                "items": {"enum": sorted(REGEX_FLAGS)},
                "uniqueItems": True,
                "default": [],
                "description": "Any of ignore_case, multiline, dotall.",
            },
        },
        required=("pattern",),
    )

    @classmethod
    def check_config(cls, config: dict) -> None:
        problem = pattern_probe(cls._compile(config))
        if problem:
            raise EvaluatorConfigError("config.pattern", problem)

    @staticmethod
    def _compile(config: dict) -> regex.Pattern:
        flags = 0
        for name in config["flags"]:
            flags |= REGEX_FLAGS[name]
        try:
            return pattern_compile(config["pattern"], flags)
        except regex.error as exc:
            raise EvaluatorConfigError("config.pattern", f"does not compile: {exc}")

    def __init__(self, config: dict) -> None:
        super().__init__(config)
        self._pattern = self._compile(config)

    def score(self, item: EvalInput) -> Score:
        try:
            match = pattern_search(self._pattern, item.output)
        except PatternTimeout as exc:
            return error_score(str(exc), timeout_seconds=PATTERN_TIMEOUT_SECONDS)
        if match is None:
            return verdict(False)
        return verdict(True, {"span": [match.start(), match.end()], "match": match.group(0)[:MATCH_ECHO_CHARS]})
