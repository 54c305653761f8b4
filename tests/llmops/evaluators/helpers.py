"""Helpers the evaluator tests share: score one output with a kind, catch the config error a bad config raises."""

from __future__ import annotations

import pytest

from llmops.evaluators import EvalInput, EvaluatorConfigError, Score, evaluator_build
from llmops.providers import LocalProvider


def score(kind: str, output: str, config: dict | None = None, **item) -> Score:
    return evaluator_build(kind, config or {}).score(EvalInput(output=output, **item))


def config_error(kind, config) -> EvaluatorConfigError:
    with pytest.raises(EvaluatorConfigError) as caught:
        evaluator_build(kind, config, provider=LocalProvider())
    return caught.value
