"""Evaluators: each scores one model output (``EvalInput``) and returns a ``Score``.

Build them with ``evaluator_build(kind, config)``, which validates the config strictly and names the bad
field in ``EvaluatorConfigError``, so an API can turn it into a 400 with ``fields``. ``EVALUATOR_KINDS``
describes every kind (description, what each item needs, and the config as a JSON Schema) for listing.

Scores share one convention so runs can be compared and averaged: ``value`` is higher-is-better (1.0 or 0.0
for yes/no checks, a share or a judge score otherwise, the token count for ``length_tokens``), ``passed``
is the verdict, and ``detail`` is JSON-serialisable. A missing input (no expected answer, no context,
a provider error) is not an exception: it gives ``value 0``, ``passed False`` and ``detail["error"]``, so
one bad item does not abort a run.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import referencing.exceptions
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from jsonschema_specifications import REGISTRY as JSON_SCHEMA_SPECIFICATIONS

from llmops import tokens
from llmops.providers import Provider, ProviderError, content_words, judge_messages, split_sentences


@dataclass(frozen=True)
class EvalInput:
    """One thing to score: the model output and what it is judged against."""

    output: str
    expected: str | None = None
    variables: dict = field(default_factory=dict)
    context: list[str] = field(default_factory=list)
    model: str | None = None


@dataclass(frozen=True)
class Score:
    value: float
    passed: bool
    detail: dict = field(default_factory=dict)


def _error_score(message: str, **detail: Any) -> Score:
    return Score(value=0.0, passed=False, detail={"error": message, **detail})


def _verdict(passed: bool, detail: dict | None = None) -> Score:
    return Score(value=1.0 if passed else 0.0, passed=passed, detail=detail or {})


class EvaluatorConfigError(ValueError):
    """A bad evaluator kind or config. ``field`` is ``"kind"``, ``"config"`` or ``"config.<key>"``."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class Evaluator:
    """Base of every evaluator kind. ``config`` is the validated config with defaults filled in, so a run can
    store exactly what it scored with."""

    kind: ClassVar[str] = ""
    description: ClassVar[str] = ""
    needs: ClassVar[tuple[str, ...]] = ()  # what each item must carry: "expected", "context", "provider"
    config_schema: ClassVar[dict] = {"type": "object", "properties": {}}

    def __init__(self, config: dict) -> None:
        self.config = config

    @classmethod
    def check_config(cls, config: dict) -> None:
        """Checks a JSON Schema cannot express (a regex compiles, min <= max); raise EvaluatorConfigError."""

    def score(self, item: EvalInput) -> Score:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.kind} {self.config!r}>"


_REGISTRY: dict[str, type[Evaluator]] = {}


def _register(cls: type[Evaluator]) -> type[Evaluator]:
    _REGISTRY[cls.kind] = cls
    return cls


def _schema(properties: dict, required: tuple[str, ...] = ()) -> dict:
    return {"type": "object", "properties": properties, "required": list(required), "additionalProperties": False}


_BOOL = {"type": "boolean"}
_SHARE = {"type": "number", "minimum": 0, "maximum": 1}


# ---------------------------------------------------------------------------------------------------------------------
# Text comparisons
# ---------------------------------------------------------------------------------------------------------------------


@_register
class ExactMatch(Evaluator):
    kind = "exact_match"
    description = "Passes when the output equals the expected answer."
    needs = ("expected",)
    config_schema = _schema(
        {
            "case_sensitive": {**_BOOL, "default": True, "description": "Compare case as well."},
            "strip": {**_BOOL, "default": True, "description": "Ignore leading and trailing white space."},
        }
    )

    def _normal(self, text: str) -> str:
        if self.config["strip"]:
            text = text.strip()
        return text if self.config["case_sensitive"] else text.casefold()

    def score(self, item: EvalInput) -> Score:
        if item.expected is None:
            return _error_score("no expected answer to compare with")
        return _verdict(self._normal(item.output) == self._normal(item.expected))


@_register
class Contains(Evaluator):
    kind = "contains"
    description = "Passes when the output contains a value (the expected answer unless a value is configured)."
    config_schema = _schema(
        {
            "value": {"type": ["string", "null"], "minLength": 1, "default": None, "description": "Text to look for."},
            "case_sensitive": {**_BOOL, "default": True},
        }
    )

    def score(self, item: EvalInput) -> Score:
        needle, source = self.config["value"], "config"
        if needle is None:
            needle, source = item.expected, "expected"
        if not needle:
            return _error_score("no value configured and no expected answer")
        haystack = item.output
        if not self.config["case_sensitive"]:
            needle, haystack = needle.casefold(), haystack.casefold()
        return _verdict(needle in haystack, {"value_from": source})


REGEX_FLAGS = {"ignore_case": re.IGNORECASE, "multiline": re.MULTILINE, "dotall": re.DOTALL}
MAX_PATTERN_CHARS = 2000
MATCH_ECHO_CHARS = 200


@_register
class Regex(Evaluator):
    kind = "regex"
    description = "Passes when the pattern is found in the output (Python re.search)."
    config_schema = _schema(
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
        cls._compile(config)

    @staticmethod
    def _compile(config: dict) -> re.Pattern:
        flags = 0
        for name in config["flags"]:
            flags |= REGEX_FLAGS[name]
        try:
            return re.compile(config["pattern"], flags)
        except re.error as exc:
            raise EvaluatorConfigError("config.pattern", f"does not compile: {exc}")

    def __init__(self, config: dict) -> None:
        super().__init__(config)
        self._pattern = self._compile(config)

    def score(self, item: EvalInput) -> Score:
        match = self._pattern.search(item.output)
        if match is None:
            return _verdict(False)
        return _verdict(True, {"span": [match.start(), match.end()], "match": match.group(0)[:MATCH_ECHO_CHARS]})


# ---------------------------------------------------------------------------------------------------------------------
# JSON
# ---------------------------------------------------------------------------------------------------------------------


def _parse_json(text: str) -> tuple[Any, str | None]:
    """(value, None) or (None, a message saying where parsing failed)."""
    try:
        return json.loads(text), None
    except json.JSONDecodeError as exc:
        return None, f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"


@_register
class JsonValid(Evaluator):
    kind = "json_valid"
    description = "Passes when the whole output parses as JSON."
    config_schema = _schema({})

    def score(self, item: EvalInput) -> Score:
        value, error = _parse_json(item.output)
        if error:
            return _verdict(False, {"error": error})
        return _verdict(True, {"json_type": type(value).__name__})


MAX_SCHEMA_ERRORS = 20


@_register
class JsonSchema(Evaluator):
    kind = "json_schema"
    description = "Passes when the output is JSON valid against a JSON Schema (draft 2020-12, formats checked)."
    config_schema = _schema(
        {"schema": {"type": ["object", "boolean"], "description": "A JSON Schema (draft 2020-12)."}},
        required=("schema",),
    )

    @classmethod
    def check_config(cls, config: dict) -> None:
        try:
            Draft202012Validator.check_schema(config["schema"])
        except SchemaError as exc:
            where = "/".join(str(p) for p in exc.absolute_path)
            raise EvaluatorConfigError(
                "config.schema", f"not a valid JSON Schema{' at ' + where if where else ''}: {exc.message}"
            )

    def __init__(self, config: dict) -> None:
        super().__init__(config)
        # An explicit registry of the bundled meta-schemas only: jsonschema's default would fetch remote $refs
        # over the network; here they fail as unresolvable instead.
        self._validator = Draft202012Validator(
            config["schema"],
            registry=JSON_SCHEMA_SPECIFICATIONS,
            format_checker=Draft202012Validator.FORMAT_CHECKER,
        )

    def score(self, item: EvalInput) -> Score:
        value, error = _parse_json(item.output)
        if error:
            return _verdict(False, {"error": error})
        try:
            errors = sorted(self._validator.iter_errors(value), key=lambda e: list(map(str, e.absolute_path)))
        except referencing.exceptions.Unresolvable as exc:
            return _error_score(f"schema reference cannot be resolved (remote references are not fetched): {exc}")
        listed = [{"path": "$" + "".join(f"[{p!r}]" for p in e.absolute_path), "message": e.message} for e in errors]
        return _verdict(
            not errors, {"errors": listed[:MAX_SCHEMA_ERRORS], "error_count": len(errors)} if errors else {}
        )


# ---------------------------------------------------------------------------------------------------------------------
# Length
# ---------------------------------------------------------------------------------------------------------------------


@_register
class LengthTokens(Evaluator):
    kind = "length_tokens"
    description = "Counts the output's tokens (tiktoken, offline); passes when min <= count <= max."
    config_schema = _schema(
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


# ---------------------------------------------------------------------------------------------------------------------
# PII leak
# ---------------------------------------------------------------------------------------------------------------------

_EMAIL_RE = re.compile(
    r"(?<![\w.+%-])[A-Za-z0-9._%+-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b"
)
# Country code, check digits, then 11 to 30 alphanumerics, optionally in space-separated groups.
_IBAN_RE = re.compile(r"\b[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){11,30}\b", re.IGNORECASE)
IBAN_MIN_CHARS, IBAN_MAX_CHARS = 15, 34
# 13 to 19 digits, optionally separated by single spaces or dashes.
_CARD_RE = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d])")
# International (+CC ...), national with trunk prefix 0, or North American (555) 123-4567 / 555-123-4567.
_PHONE_RES = (
    (re.compile(r"(?<![\w+])\+\d[\d ().-]{6,22}\d(?!\d)"), 8, 15),
    (re.compile(r"(?<![\w.])0\d[\d ().-]{6,16}\d(?!\d)"), 9, 12),
    (re.compile(r"(?<![\w.])(?:\(\d{3}\) ?|\d{3}[-. ])\d{3}[-. ]\d{4}(?!\d)"), 10, 10),
)


PII_KINDS = ("email", "phone", "iban", "card")


def iban_valid(candidate: str) -> bool:
    """ISO 13616 check: move the first four characters to the end, letters to 10..35, and the number mod 97 is 1."""
    compact = candidate.replace(" ", "").upper()
    if not (IBAN_MIN_CHARS <= len(compact) <= IBAN_MAX_CHARS) or not compact.isalnum() or not compact.isascii():
        return False
    if not (compact[:2].isalpha() and compact[2:4].isdigit()):
        return False
    digits = "".join(str(int(ch, 36)) for ch in compact[4:] + compact[:4])
    return int(digits) % 97 == 1


def luhn_valid(number: str) -> bool:
    """The Luhn (mod 10) check digit test that payment card numbers carry."""
    digits = [int(ch) for ch in number if ch.isdigit()]
    total = 0
    for position, digit in enumerate(reversed(digits)):
        if position % 2:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return bool(digits) and total % 10 == 0


def _mask_keep_last(value: str, keep: int) -> str:
    """Every letter and digit but the last ``keep`` replaced by ``*``, separators kept."""
    alnum_positions = [i for i, ch in enumerate(value) if ch.isalnum()]
    hidden = set(alnum_positions[: max(len(alnum_positions) - keep, 0)])
    return "".join("*" if i in hidden else ch for i, ch in enumerate(value))


def _mask_email(value: str) -> str:
    local, _, domain = value.partition("@")
    tld = domain.rsplit(".", 1)[-1]
    return f"{local[:1]}***@***.{tld}"


def _mask_iban(value: str) -> str:
    compact = value.replace(" ", "").upper()
    return compact[:2] + "*" * (len(compact) - 6) + compact[-4:]


def _find_ibans(text: str) -> list[tuple[int, int]]:
    """Spans of valid IBANs. The pattern may swallow words after an IBAN, so each candidate is cut back word
    by word until it passes the checksum or gets too short."""
    spans = []
    for match in _IBAN_RE.finditer(text):
        candidate = match.group(0)
        while len(candidate.replace(" ", "")) >= IBAN_MIN_CHARS:
            if iban_valid(candidate):
                spans.append((match.start(), match.start() + len(candidate)))
                break
            if " " not in candidate:
                break
            candidate = candidate.rsplit(" ", 1)[0]
    return spans


def _overlaps(span: tuple[int, int], taken: list[tuple[int, int]]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in taken)


def pii_find(text: str, kinds: tuple[str, ...] | list[str] = PII_KINDS) -> list[tuple[str, str]]:
    """(kind, masked fragment) for every piece of PII found. IBANs and cards count only with a valid checksum;
    IBANs are found first, then cards, then phones, and a span is never reported twice."""
    found: list[tuple[str, str]] = []
    taken: list[tuple[int, int]] = []

    def keep(kind: str, span: tuple[int, int], masked: str) -> None:
        taken.append(span)
        if kind in kinds:
            found.append((kind, masked))

    for match in _EMAIL_RE.finditer(text):
        keep("email", match.span(), _mask_email(match.group(0)))
    for start, end in _find_ibans(text):
        if not _overlaps((start, end), taken):
            keep("iban", (start, end), _mask_iban(text[start:end]))
    for match in _CARD_RE.finditer(text):
        if not _overlaps(match.span(), taken) and luhn_valid(match.group(0)):
            keep("card", match.span(), _mask_keep_last(match.group(0), 4))
    for pattern, min_digits, max_digits in _PHONE_RES:
        for match in pattern.finditer(text):
            digit_count = sum(ch.isdigit() for ch in match.group(0))
            if min_digits <= digit_count <= max_digits and not _overlaps(match.span(), taken):
                keep("phone", match.span(), _mask_keep_last(match.group(0), 2))
    return found


@_register
class PiiLeak(Evaluator):
    kind = "pii_leak"
    description = (
        "Passes when the output holds no e-mail address, phone number, IBAN (ISO 13616 mod-97) or payment card "
        "number (Luhn). Reports kinds, counts and masked fragments only."
    )
    config_schema = _schema(
        {
            "kinds": {
                "type": "array",
                "items": {"enum": list(PII_KINDS)},
                "uniqueItems": True,
                "minItems": 1,
                "default": list(PII_KINDS),
            }
        }
    )

    def score(self, item: EvalInput) -> Score:
        found = pii_find(item.output, tuple(self.config["kinds"]))
        counts: dict[str, int] = {}
        for kind, _ in found:
            counts[kind] = counts.get(kind, 0) + 1
        return _verdict(not found, {"found": counts, "fragments": [{"kind": k, "masked": m} for k, m in found]})


# ---------------------------------------------------------------------------------------------------------------------
# Groundedness
# ---------------------------------------------------------------------------------------------------------------------


@_register
class Groundedness(Evaluator):
    kind = "groundedness"
    description = (
        "Share of output sentences supported by the retrieved context: a sentence is supported when at least "
        "`threshold` of its content words occur in the context; passes when the share is at least `min_share`."
    )
    needs = ("context",)
    config_schema = _schema(
        {
            "threshold": {**_SHARE, "default": 0.6, "description": "Share of a sentence's content words needed."},
            "min_share": {**_SHARE, "default": 0.8, "description": "Share of supported sentences needed to pass."},
        }
    )

    def score(self, item: EvalInput) -> Score:
        chunks = [content_words(chunk) for chunk in item.context if chunk and chunk.strip()]
        if not chunks:
            return _error_score("no context to check the output against")
        checked, unsupported = 0, []
        for sentence in split_sentences(item.output):
            share = self._support(content_words(sentence), chunks)
            if share is None:  # no content words ("Yes.", "I see."): nothing to support
                continue
            checked += 1
            if share < self.config["threshold"]:
                unsupported.append({"sentence": sentence, "share": round(share, 4)})
        if not checked:
            return _error_score("the output has no sentence with content words", sentences=0)
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


# ---------------------------------------------------------------------------------------------------------------------
# LLM as judge
# ---------------------------------------------------------------------------------------------------------------------

RAW_REPLY_ECHO_CHARS = 500


def judge_reply_parse(text: str) -> tuple[float, str]:
    """(score, reason) from a judge reply that must be exactly ``{"score": 0..1, "reason": "..."}``.

    Strict on purpose: a judge that wraps its JSON in prose or code fences is not following the rubric format,
    and guessing at its number would make scores silently unreliable. Raises ValueError saying what is wrong.
    """
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"judge reply is not JSON: {exc.msg}")
    if not isinstance(payload, dict):
        raise ValueError("judge reply is not a JSON object")
    if set(payload) != {"score", "reason"}:
        raise ValueError(f"judge reply must have exactly the keys score and reason, got {sorted(payload)}")
    score, reason = payload["score"], payload["reason"]
    if isinstance(score, bool) or not isinstance(score, int | float) or not 0 <= score <= 1:
        raise ValueError("judge score must be a number from 0 to 1")
    if not isinstance(reason, str):
        raise ValueError("judge reason must be a string")
    return float(score), reason


@_register
class LlmJudge(Evaluator):
    kind = "llm_judge"
    description = (
        "Asks a model (through the configured provider) to score the output against a rubric; the reply must be "
        'JSON {"score": 0..1, "reason": "..."}; passes when score >= pass_threshold.'
    )
    needs = ("provider",)
    config_schema = _schema(
        {
            "rubric": {"type": "string", "minLength": 1, "description": "What a good output is."},
            "model": {"type": "string", "minLength": 1, "description": "The judge model."},
            "pass_threshold": {**_SHARE, "default": 0.5},
            "params": {"type": "object", "default": {}, "description": "Extra request parameters (temperature, ...)."},
        },
        required=("rubric", "model"),
    )

    def __init__(self, config: dict, provider: Provider | None = None) -> None:
        super().__init__(config)
        if provider is None:
            from llmops.providers import provider_from_settings

            provider = provider_from_settings()
        self.provider = provider

    def score(self, item: EvalInput) -> Score:
        messages = judge_messages(
            rubric=self.config["rubric"],
            candidate=item.output,
            expected=item.expected,
            context=item.context,
            variables=item.variables,
        )
        try:
            completion = self.provider.complete(messages, model=self.config["model"], params=self.config["params"])
        except ProviderError as exc:
            return _error_score(f"judge call failed: {exc.message}", provider=self.provider.name, status=exc.status)
        call = {
            "judge_model": completion.model,
            "provider": completion.provider,
            "usage": completion.usage,
            "latency_ms": round(completion.latency_ms, 3),
        }
        try:
            value, reason = judge_reply_parse(completion.text.strip())
        except ValueError as exc:
            return _error_score(str(exc), raw_reply=completion.text[:RAW_REPLY_ECHO_CHARS], **call)
        return Score(value=value, passed=value >= self.config["pass_threshold"], detail={"reason": reason, **call})


# ---------------------------------------------------------------------------------------------------------------------
# Building and listing
# ---------------------------------------------------------------------------------------------------------------------

MAX_ERROR_MESSAGE_CHARS = 300


def _validate_config(cls: type[Evaluator], config: Any) -> dict:
    """The config with defaults filled, or EvaluatorConfigError naming the first bad field."""
    if config is None:
        config = {}
    if not isinstance(config, Mapping):
        raise EvaluatorConfigError("config", "must be an object")
    schema = cls.config_schema
    allowed = schema["properties"]
    for key in sorted(config, key=str):
        if key not in allowed:
            known = ", ".join(sorted(allowed)) or "none"
            raise EvaluatorConfigError(f"config.{key}", f"unknown field for {cls.kind}; allowed: {known}")
    for key in schema.get("required", ()):
        if key not in config:
            raise EvaluatorConfigError(f"config.{key}", "this field is required")
    errors = sorted(
        Draft202012Validator(schema).iter_errors(dict(config)), key=lambda e: list(map(str, e.absolute_path))
    )
    if errors:
        error = errors[0]
        path = ".".join(str(p) for p in error.absolute_path)
        raise EvaluatorConfigError(f"config.{path}" if path else "config", error.message[:MAX_ERROR_MESSAGE_CHARS])
    filled = {key: copy.deepcopy(spec["default"]) for key, spec in allowed.items() if "default" in spec}
    filled.update(copy.deepcopy(dict(config)))
    cls.check_config(filled)
    return filled


def evaluator_build(kind: str, config: dict | None, *, provider: Provider | None = None) -> Evaluator:
    """A ready evaluator of ``kind``. ``provider`` is used by ``llm_judge`` (default: ``provider_from_settings()``)."""
    cls = _REGISTRY.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise EvaluatorConfigError("kind", f"unknown evaluator kind {kind!r}; known: {', '.join(sorted(_REGISTRY))}")
    validated = _validate_config(cls, config)
    if cls is LlmJudge:
        return LlmJudge(validated, provider=provider)
    return cls(validated)


def _kinds_listing() -> dict[str, dict]:
    return {
        kind: {
            "description": cls.description,
            "needs": list(cls.needs),
            "config_schema": copy.deepcopy(cls.config_schema),
        }
        for kind, cls in _REGISTRY.items()
    }


# kind -> {"description", "needs" (item fields or a provider the kind relies on), "config_schema" (JSON Schema whose
# properties are the config fields, with types, defaults and descriptions)}
EVALUATOR_KINDS: dict[str, dict] = _kinds_listing()
