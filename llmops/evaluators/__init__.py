"""Evaluators: each scores one model output (``EvalInput``) and returns a ``Score``.

Build them with ``evaluator_build(kind, config)``, which validates the config strictly and names the bad
field in ``EvaluatorConfigError``, so an API can turn it into a 400 with ``fields``. ``EVALUATOR_KINDS``
describes every kind (description, what each item needs, and the config as a JSON Schema) for listing.

Scores share one convention so runs can be compared and averaged: ``value`` is higher-is-better (1.0 or 0.0
for yes/no checks, a share or a judge score otherwise, the token count for ``length_tokens``), ``passed``
is the verdict, and ``detail`` is JSON-serialisable. A missing input (no expected answer, no context,
a provider error) is not an exception: it gives ``value 0``, ``passed False`` and ``detail["error"]``, so
one bad item does not abort a run.

The kinds live by family (``text``, ``patterns``, ``json_checks``, ``pii``, ``judge``), their list and the
builder in ``catalog``; this package answers what callers build and score with.
"""

from __future__ import annotations

from llmops.evaluators.base import EvalInput, Evaluator, EvaluatorConfigError, Score
from llmops.evaluators.catalog import EVALUATOR_KINDS, EVALUATORS, evaluator_build

__all__ = [
    "EVALUATORS",
    "EVALUATOR_KINDS",
    "EvalInput",
    "Evaluator",
    "EvaluatorConfigError",
    "Score",
    "evaluator_build",
]
