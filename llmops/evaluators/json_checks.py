"""JSON outputs: bounded parsing (size, depth), ``json_valid`` and ``json_schema`` (draft 2020-12 with local
references only, refused when they could loop, and pattern keywords on the time-limited engine)."""

from __future__ import annotations

import contextvars
import json
import time
from collections.abc import Iterator
from typing import Any

import referencing.exceptions
import regex
from jsonschema import Draft202012Validator, ValidationError, validators
from jsonschema.exceptions import SchemaError
from jsonschema_specifications import REGISTRY as JSON_SCHEMA_SPECIFICATIONS

from llmops.evaluators.base import (
    EvalInput,
    Evaluator,
    EvaluatorConfigError,
    Score,
    error_score,
    object_schema,
    verdict,
)
from llmops.evaluators.patterns import (
    MATCH_ECHO_CHARS,
    PATTERN_TIMEOUT_SECONDS,
    PatternTimeout,
    pattern_compile,
    pattern_probe,
    pattern_search,
)

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


class JsonValid(Evaluator):
    kind = "json_valid"
    description = f"Passes when the whole output parses as JSON (at most {MAX_JSON_DEPTH} levels deep)."
    config_schema = object_schema({})

    def score(self, item: EvalInput) -> Score:
        value, error = _parse_json(item.output)
        if error:
            return verdict(False, {"error": error})
        return verdict(True, {"json_type": type(value).__name__})


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


class JsonSchema(Evaluator):
    kind = "json_schema"
    description = (
        "Passes when the output is JSON valid against a JSON Schema (draft 2020-12, formats checked; local $ref "
        "pointers only, patterns run with a time limit)."
    )
    config_schema = object_schema(
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
            return verdict(False, {"error": error})
        token = _schema_deadline.set(time.monotonic() + SCHEMA_TIME_BUDGET_SECONDS)
        try:
            errors = sorted(self._validator.iter_errors(value), key=lambda e: list(map(str, e.absolute_path)))
        except referencing.exceptions.Unresolvable as exc:
            return error_score(f"schema reference cannot be resolved (remote references are not fetched): {exc}")
        except PatternTimeout as exc:
            return error_score(str(exc), timeout_seconds=PATTERN_TIMEOUT_SECONDS)
        except RecursionError:
            return error_score("the schema recursed too deeply on this output; validation was stopped")
        finally:
            _schema_deadline.reset(token)
        listed = [{"path": "$" + "".join(f"[{p!r}]" for p in e.absolute_path), "message": e.message} for e in errors]
        return verdict(not errors, {"errors": listed[:MAX_SCHEMA_ERRORS], "error_count": len(errors)} if errors else {})


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
