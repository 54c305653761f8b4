"""What every evaluator kind shares: the item it scores (`EvalInput`), the `Score` it returns, the base class,
the config error naming the bad field, and the small helpers the kinds build their scores and config schemas with.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar


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


def error_score(message: str, **detail: Any) -> Score:
    return Score(value=0.0, passed=False, detail={"error": message, **detail})


def verdict(passed: bool, detail: dict | None = None) -> Score:
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


def object_schema(properties: dict, required: tuple[str, ...] = ()) -> dict:
    return {"type": "object", "properties": properties, "required": list(required), "additionalProperties": False}


BOOLEAN = {"type": "boolean"}


SHARE = {"type": "number", "minimum": 0, "maximum": 1}
