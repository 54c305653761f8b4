"""Deterministic checks of the output text: exact match, contains, its length in tokens, and groundedness in the
retrieved context (word overlap, counted the way the local provider counts words)."""

from __future__ import annotations

from llmops import tokens
from llmops.evaluators.base import (
    BOOLEAN,
    SHARE,
    EvalInput,
    Evaluator,
    EvaluatorConfigError,
    Score,
    error_score,
    object_schema,
    verdict,
)
from llmops.providers import content_words, split_sentences


class ExactMatch(Evaluator):
    kind = "exact_match"
    description = "Passes when the output equals the expected answer."
    needs = ("expected",)
    config_schema = object_schema(
        {
            "case_sensitive": {**BOOLEAN, "default": True, "description": "Compare case as well."},
            "strip": {**BOOLEAN, "default": True, "description": "Ignore leading and trailing white space."},
        }
    )

    def _normal(self, text: str) -> str:
        if self.config["strip"]:
            text = text.strip()
        return text if self.config["case_sensitive"] else text.casefold()

    def score(self, item: EvalInput) -> Score:
        if item.expected is None:
            return error_score("no expected answer to compare with")
        return verdict(self._normal(item.output) == self._normal(item.expected))


class Contains(Evaluator):
    kind = "contains"
    description = "Passes when the output contains a value (the expected answer unless a value is configured)."
    config_schema = object_schema(
        {
            "value": {"type": ["string", "null"], "minLength": 1, "default": None, "description": "Text to look for."},
            "case_sensitive": {**BOOLEAN, "default": True},
        }
    )

    def score(self, item: EvalInput) -> Score:
        needle, source = self.config["value"], "config"
        if needle is None:
            needle, source = item.expected, "expected"
        if not needle:
            return error_score("no value configured and no expected answer")
        haystack = item.output
        if not self.config["case_sensitive"]:
            needle, haystack = needle.casefold(), haystack.casefold()
        return verdict(needle in haystack, {"value_from": source})


class LengthTokens(Evaluator):
    kind = "length_tokens"
    description = "Counts the output's tokens (tiktoken, offline); passes when min <= count <= max."
    config_schema = object_schema(
        {
            "min": {"type": ["integer", "null"], "minimum": 0, "default": None},
            "max": {"type": ["integer", "null"], "minimum": 0, "default": None},
            "model": {
                "type": ["string", "null"],
                "default": None,
                "description": "Model whose encoding counts; defaults to the item's model.",
            },
        }
    )

    @classmethod
    def check_config(cls, config: dict) -> None:
        low, high = config["min"], config["max"]
        if low is None and high is None:
            raise EvaluatorConfigError("config.max", "give min, max or both")
        if low is not None and high is not None and low > high:
            raise EvaluatorConfigError("config.max", f"must be at least min ({low})")

    def score(self, item: EvalInput) -> Score:
        model = self.config["model"] or item.model
        count, source = tokens.count_text(item.output, model)
        low, high = self.config["min"], self.config["max"]
        passed = (low is None or count >= low) and (high is None or count <= high)
        return Score(value=float(count), passed=passed, detail={"tokens": count, "token_source": source})


class Groundedness(Evaluator):
    kind = "groundedness"
    description = (
        "Share of output sentences supported by the retrieved context: a sentence is supported when at least "
        "`threshold` of its content words occur in the context; passes when the share is at least `min_share`."
    )
    needs = ("context",)
    config_schema = object_schema(
        {
            "threshold": {**SHARE, "default": 0.6, "description": "Share of a sentence's content words needed."},
            "min_share": {**SHARE, "default": 0.8, "description": "Share of supported sentences needed to pass."},
        }
    )

    def score(self, item: EvalInput) -> Score:
        chunks = [content_words(chunk) for chunk in item.context if chunk and chunk.strip()]
        if not chunks:
            return error_score("no context to check the output against")
        checked, unsupported = 0, []
        for sentence in split_sentences(item.output):
            share = self._support(content_words(sentence), chunks)
            if share is None:  # no content words ("Yes.", "I see."): nothing to support
                continue
            checked += 1
            if share < self.config["threshold"]:
                unsupported.append({"sentence": sentence, "share": round(share, 4)})
        if not checked:
            return error_score("the output has no sentence with content words", sentences=0)
        value = (checked - len(unsupported)) / checked
        detail = {"sentences": checked, "supported": checked - len(unsupported), "unsupported": unsupported}
        return Score(value=value, passed=value >= self.config["min_share"], detail=detail)

    @staticmethod
    def _support(sentence_words: set[str], chunks: list[set[str]]) -> float | None:
        """Share of the sentence's content words found in at least one context chunk (None without content words)."""
        if not sentence_words:
            return None
        found = sum(1 for word in sentence_words if any(word in chunk for chunk in chunks))
        return found / len(sentence_words)
