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

import contextvars
import copy
import json
import re
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import referencing.exceptions
import regex
from jsonschema import Draft202012Validator, ValidationError, validators
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


@_register
class Regex(Evaluator):
    kind = "regex"
    description = (
        "Passes when the pattern is found in the output (Python re syntax, run with a time limit; "
        "a pattern that runs too long fails the item)."
    )
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
            return _error_score(str(exc), timeout_seconds=PATTERN_TIMEOUT_SECONDS)
        if match is None:
            return _verdict(False)
        return _verdict(True, {"span": [match.start(), match.end()], "match": match.group(0)[:MATCH_ECHO_CHARS]})


# ---------------------------------------------------------------------------------------------------------------------
# JSON
# ---------------------------------------------------------------------------------------------------------------------


# JSON outputs are bounded: a size, a nesting depth (``"[" * 100000`` would overflow the parser's recursion), and
# a time budget for a whole schema validation (its ``pattern`` keywords run on the regex engine with a limit).
MAX_JSON_CHARS = 1_000_000
MAX_JSON_DEPTH = 100
SCHEMA_TIME_BUDGET_SECONDS = 1.0


def _json_depth(value: Any) -> int:
    """Nesting depth of a parsed JSON value, iteratively (no recursion to overflow)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, depth)
            if depth > MAX_JSON_DEPTH:
                return depth
            stack.extend((child, depth + 1) for child in (node.values() if isinstance(node, dict) else node))
    return deepest


def _parse_json(text: str) -> tuple[Any, str | None]:
    """(value, None) or (None, a message saying where parsing failed or which limit the text passes)."""
    if len(text) > MAX_JSON_CHARS:
        return None, f"JSON output longer than {MAX_JSON_CHARS} characters is not checked"
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
    except RecursionError:
        return None, f"JSON nested deeper than {MAX_JSON_DEPTH} levels is not checked"
    if _json_depth(value) > MAX_JSON_DEPTH:
        return None, f"JSON nested deeper than {MAX_JSON_DEPTH} levels is not checked"
    return value, None


@_register
class JsonValid(Evaluator):
    kind = "json_valid"
    description = f"Passes when the whole output parses as JSON (at most {MAX_JSON_DEPTH} levels deep)."
    config_schema = _schema({})

    def score(self, item: EvalInput) -> Score:
        value, error = _parse_json(item.output)
        if error:
            return _verdict(False, {"error": error})
        return _verdict(True, {"json_type": type(value).__name__})


MAX_SCHEMA_ERRORS = 20
# The deadline of the schema validation running in this context (``pattern`` keywords share one budget).
_schema_deadline: contextvars.ContextVar[float] = contextvars.ContextVar("schema_deadline", default=0.0)


def _schema_search(pattern: str, text: str) -> bool:
    remaining = _schema_deadline.get() - time.monotonic() if _schema_deadline.get() else PATTERN_TIMEOUT_SECONDS
    if remaining <= 0:
        raise PatternTimeout("the schema's validation ran past its time budget; it was stopped")
    try:
        compiled = pattern_compile(pattern)
    except regex.error:
        return False  # check_schema refuses such patterns; a bundled meta-schema never has one
    return pattern_search(compiled, text, timeout=min(remaining, PATTERN_TIMEOUT_SECONDS)) is not None


def _pattern_keyword(validator, patrn, instance, schema) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not _schema_search(patrn, instance):
        yield ValidationError(f"{instance[:MATCH_ECHO_CHARS]!r} does not match {patrn!r}")


def _pattern_properties_keyword(validator, pattern_properties, instance, schema) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    for patrn, subschema in pattern_properties.items():
        for key, value in instance.items():
            if _schema_search(patrn, key):
                yield from validator.descend(value, subschema, path=key, schema_path=patrn)


# Draft 2020-12 with its pattern keywords on the time-limited engine (jsonschema's own use re without a limit).
BoundedValidator = validators.extend(
    Draft202012Validator, {"pattern": _pattern_keyword, "patternProperties": _pattern_properties_keyword}
)

# Keywords whose subschemas apply to a part of the instance: a $ref cycle through one of them descends into the
# instance on each turn, so the instance's bounded depth ends it. A cycle through none of them never ends.
_DESCENDING_KEYWORDS = {
    "properties",
    "patternProperties",
    "additionalProperties",
    "items",
    "prefixItems",
    "contains",
    "propertyNames",
    "unevaluatedItems",
    "unevaluatedProperties",
}
_SCHEMA_MAPS = {"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"}


def _schema_refs(schema: Any, path: tuple = ()) -> Iterator[tuple[tuple, str, str]]:
    """(location, keyword, value) of every reference keyword and nested ``$id`` in a schema."""
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key in ("$ref", "$dynamicRef", "$recursiveRef") and isinstance(value, str):
                yield path, key, value
            elif key == "$id" and path:
                yield path, key, str(value)
            if key in _SCHEMA_MAPS and isinstance(value, dict):
                for name, sub in value.items():
                    yield from _schema_refs(sub, (*path, key, name))
            elif isinstance(value, dict | list) and key not in ("enum", "const", "examples", "default"):
                yield from _schema_refs(value, (*path, key))
    elif isinstance(schema, list):
        for index, sub in enumerate(schema):
            yield from _schema_refs(sub, (*path, index))


def _pointer(ref: str) -> tuple | None:
    """The path a local ``#/...`` reference points at, or None when it is not one."""
    if ref == "#":
        return ()
    if not ref.startswith("#/"):
        return None
    parts = [part.replace("~1", "/").replace("~0", "~") for part in ref[2:].split("/")]
    return tuple(int(part) if part.isdigit() else part for part in parts)


def _schema_ref_problem(schema: Any) -> tuple[str, str] | None:
    """(where, message) when a schema holds a reference that could loop forever, else None.

    Local ``#/...`` references only (remote ones are never fetched), no nested ``$id`` or dynamic references
    (they would make "local" depend on the evaluation path), and no cycle of references that does not descend
    into the instance on each turn (``{"$ref": "#"}``)."""
    refs = []
    for location, keyword, value in _schema_refs(schema):
        where = "/".join(map(str, location)) or "(root)"
        if keyword != "$ref":
            return where, f"{keyword} is not supported; use local $ref pointers"
        target = _pointer(value)
        if target is None:
            if value.startswith("#") or "://" not in value:
                return where, f"$ref {value!r} is not supported; use a local pointer such as #/$defs/name"
            continue  # an absolute URI: a bundled meta-schema, or unresolvable at run time (never fetched)
        refs.append((location, target))

    def descends(start: tuple, end: tuple) -> bool:
        relative = end[len(start) :]
        for index, part in enumerate(relative):
            parent = relative[index - 1] if index else None
            if part in _DESCENDING_KEYWORDS and parent not in _SCHEMA_MAPS:
                return True
        return False

    # Edge i -> j when ref j lies inside ref i's target without descending into the instance on the way.
    edges = {
        i: [j for j, (loc_j, _) in enumerate(refs) if loc_j[: len(tgt_i)] == tgt_i and not descends(tgt_i, loc_j)]
        for i, (_, tgt_i) in enumerate(refs)
    }
    state: dict[int, int] = {}
    for start in edges:
        if state.get(start):
            continue
        stack = [(start, iter(edges[start]))]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
            elif state.get(child) == 1:
                where = "/".join(map(str, refs[child][0])) or "(root)"
                return where, "$ref cycle that never descends into the instance (it would recurse forever)"
            elif not state.get(child):
                state[child] = 1
                stack.append((child, iter(edges[child])))
    return None


@_register
class JsonSchema(Evaluator):
    kind = "json_schema"
    description = (
        "Passes when the output is JSON valid against a JSON Schema (draft 2020-12, formats checked; local $ref "
        "pointers only, patterns run with a time limit)."
    )
    config_schema = _schema(
        {"schema": {"type": ["object", "boolean"], "description": "A JSON Schema (draft 2020-12)."}},
        required=("schema",),
    )

    @classmethod
    def check_config(cls, config: dict) -> None:
        if _json_depth(config["schema"]) > MAX_JSON_DEPTH:
            raise EvaluatorConfigError("config.schema", f"nested deeper than {MAX_JSON_DEPTH} levels")
        try:
            Draft202012Validator.check_schema(config["schema"])
        except SchemaError as exc:
            where = "/".join(str(p) for p in exc.absolute_path)
            raise EvaluatorConfigError(
                "config.schema", f"not a valid JSON Schema{' at ' + where if where else ''}: {exc.message}"
            )
        except RecursionError:
            raise EvaluatorConfigError("config.schema", "too deeply nested to check")
        problem = _schema_ref_problem(config["schema"])
        if problem:
            raise EvaluatorConfigError("config.schema", f"at {problem[0]}: {problem[1]}")
        for location, keyword, patrn in _schema_patterns(config["schema"]):
            try:
                message = pattern_probe(pattern_compile(patrn))
            except regex.error as exc:
                message = f"does not compile: {exc}"
            if message:
                raise EvaluatorConfigError("config.schema", f"{keyword} at {location}: {message}")

    def __init__(self, config: dict) -> None:
        super().__init__(config)
        # An explicit registry of the bundled meta-schemas only: jsonschema's default would fetch remote $refs
        # over the network; here they fail as unresolvable instead.
        self._validator = BoundedValidator(
            config["schema"],
            registry=JSON_SCHEMA_SPECIFICATIONS,
            format_checker=Draft202012Validator.FORMAT_CHECKER,
        )

    def score(self, item: EvalInput) -> Score:
        value, error = _parse_json(item.output)
        if error:
            return _verdict(False, {"error": error})
        token = _schema_deadline.set(time.monotonic() + SCHEMA_TIME_BUDGET_SECONDS)
        try:
            errors = sorted(self._validator.iter_errors(value), key=lambda e: list(map(str, e.absolute_path)))
        except referencing.exceptions.Unresolvable as exc:
            return _error_score(f"schema reference cannot be resolved (remote references are not fetched): {exc}")
        except PatternTimeout as exc:
            return _error_score(str(exc), timeout_seconds=PATTERN_TIMEOUT_SECONDS)
        except RecursionError:
            return _error_score("the schema recursed too deeply on this output; validation was stopped")
        finally:
            _schema_deadline.reset(token)
        listed = [{"path": "$" + "".join(f"[{p!r}]" for p in e.absolute_path), "message": e.message} for e in errors]
        return _verdict(
            not errors, {"errors": listed[:MAX_SCHEMA_ERRORS], "error_count": len(errors)} if errors else {}
        )


def _schema_patterns(schema: Any, path: tuple = ()) -> Iterator[tuple[str, str, str]]:
    """(location, keyword, pattern) of every ``pattern`` and ``patternProperties`` pattern in a schema."""
    if isinstance(schema, dict):
        for key, value in schema.items():
            where = "/".join(map(str, (*path, key)))
            if key == "pattern" and isinstance(value, str):
                yield where, key, value
            elif key == "patternProperties" and isinstance(value, dict):
                for patrn, sub in value.items():
                    yield where, key, patrn
                    yield from _schema_patterns(sub, (*path, key, patrn))
                continue
            if key == "properties" and isinstance(value, dict):
                for name, sub in value.items():
                    yield from _schema_patterns(sub, (*path, key, name))
            elif isinstance(value, dict | list) and key not in ("enum", "const", "examples", "default"):
                yield from _schema_patterns(value, (*path, key))
    elif isinstance(schema, list):
        for index, sub in enumerate(schema):
            yield from _schema_patterns(sub, (*path, index))


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


# What a judge config may send to the provider, which runs on the operator's key: a model the operator allows
# (settings.LLM_JUDGE_MODELS), at most settings.LLM_JUDGE_MAX_TOKENS tokens, one choice, and sampling knobs.
JUDGE_PARAMS = {
    "temperature": {"type": "number", "minimum": 0, "maximum": 2},
    "top_p": {"type": "number", "minimum": 0, "maximum": 1},
    "seed": {"type": "integer"},
    "max_tokens": {"type": "integer", "minimum": 1, "description": "At most settings.LLM_JUDGE_MAX_TOKENS."},
    "n": {"const": 1, "description": "Always 1 (one reply per item)."},
}
DEFAULT_JUDGE_MAX_TOKENS = 256


def judge_limits() -> tuple[list[str], int, bool]:
    """(allowed judge models, max_tokens cap, whether the HTTP provider, on the operator's key, is configured)."""
    from django.conf import settings

    models = list(getattr(settings, "LLM_JUDGE_MODELS", []) or [])
    cap = int(getattr(settings, "LLM_JUDGE_MAX_TOKENS", DEFAULT_JUDGE_MAX_TOKENS) or DEFAULT_JUDGE_MAX_TOKENS)
    keyed = bool(getattr(settings, "LLM_PROVIDER_BASE_URL", "") and getattr(settings, "LLM_PROVIDER_API_KEY", ""))
    return models, cap, keyed


@_register
class LlmJudge(Evaluator):
    kind = "llm_judge"
    description = (
        "Asks a model (through the configured provider) to score the output against a rubric; the reply must be "
        'JSON {"score": 0..1, "reason": "..."}; passes when score >= pass_threshold. The model must be one the '
        "operator allows (LLM_JUDGE_MODELS), max_tokens is capped (LLM_JUDGE_MAX_TOKENS) and n is 1."
    )
    needs = ("provider",)
    config_schema = _schema(
        {
            "rubric": {"type": "string", "minLength": 1, "description": "What a good output is."},
            "model": {"type": "string", "minLength": 1, "description": "The judge model (one of LLM_JUDGE_MODELS)."},
            "pass_threshold": {**_SHARE, "default": 0.5},
            "params": {
                "type": "object",
                "properties": JUDGE_PARAMS,
                "additionalProperties": False,
                "default": {},
                "description": "Request parameters: " + ", ".join(JUDGE_PARAMS) + ".",
            },
        },
        required=("rubric", "model"),
    )

    @classmethod
    def check_config(cls, config: dict) -> None:
        models, cap, keyed = judge_limits()
        if models and config["model"] not in models:
            raise EvaluatorConfigError("config.model", f"not an allowed judge model; allowed: {', '.join(models)}")
        if not models and keyed:
            raise EvaluatorConfigError(
                "config.model", "no judge model is allowed: the operator sets LLM_JUDGE_MODELS to enable llm_judge"
            )
        max_tokens = config["params"].get("max_tokens")
        if max_tokens is not None and max_tokens > cap:
            raise EvaluatorConfigError("config.params.max_tokens", f"must be at most {cap}")

    def request_params(self) -> dict:
        """The parameters sent: the validated ones, ``n`` forced to 1 and ``max_tokens`` always set and capped."""
        _, cap, _ = judge_limits()
        params = {key: value for key, value in self.config["params"].items() if key in JUDGE_PARAMS}
        params["n"] = 1
        params["max_tokens"] = min(params.get("max_tokens") or cap, cap)
        return params

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
            completion = self.provider.complete(messages, model=self.config["model"], params=self.request_params())
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
    for key, spec in allowed.items():
        nested = config.get(key)
        if spec.get("additionalProperties") is False and "properties" in spec and isinstance(nested, Mapping):
            for sub in sorted(nested, key=str):
                if sub not in spec["properties"]:
                    known = ", ".join(sorted(spec["properties"]))
                    raise EvaluatorConfigError(f"config.{key}.{sub}", f"unknown parameter; allowed: {known}")
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
