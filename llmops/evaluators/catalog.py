"""Every evaluator kind in one list, the strict config validation, ``evaluator_build`` and the ``EVALUATOR_KINDS``
listing. The list's order is the listing's order (the ``evaluators/`` endpoint)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from jsonschema import Draft202012Validator

from llmops.evaluators.base import Evaluator, EvaluatorConfigError
from llmops.evaluators.json_checks import JsonSchema, JsonValid
from llmops.evaluators.judge import LlmJudge
from llmops.evaluators.patterns import Regex
from llmops.evaluators.pii import PiiLeak
from llmops.evaluators.text import Contains, ExactMatch, Groundedness, LengthTokens
from llmops.providers import Provider

EVALUATORS: tuple[type[Evaluator], ...] = (
    ExactMatch,
    Contains,
    Regex,
    JsonValid,
    JsonSchema,
    LengthTokens,
    PiiLeak,
    Groundedness,
    LlmJudge,
)
_BY_KIND: dict[str, type[Evaluator]] = {cls.kind: cls for cls in EVALUATORS}


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
    cls = _BY_KIND.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise EvaluatorConfigError("kind", f"unknown evaluator kind {kind!r}; known: {', '.join(sorted(_BY_KIND))}")
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
        for kind, cls in _BY_KIND.items()
    }


# kind -> {"description", "needs" (item fields or a provider the kind relies on), "config_schema" (JSON Schema whose
# properties are the config fields, with types, defaults and descriptions)}
EVALUATOR_KINDS: dict[str, dict] = _kinds_listing()
