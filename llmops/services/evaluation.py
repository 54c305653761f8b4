"""Evaluation: datasets of items, runs of a prompt version over a dataset (each output scored by the
configured evaluators, aggregates stored), item-by-item comparison of two runs, and scores of
recorded calls."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from statistics import fmean

from django.db import transaction

from llmops.evaluators import EVALUATOR_KINDS, EvalInput, Evaluator, EvaluatorConfigError, evaluator_build
from llmops.events import LLMEvent
from llmops.models import (
    CallScore,
    EvaluationDataset,
    EvaluationItem,
    EvaluationResult,
    EvaluationRun,
    LLMCall,
    PromptVersion,
)
from llmops.providers import Provider, ProviderError, provider_from_settings
from llmops.services.prompts import prompt_render
from registry.actors import Actor
from registry.audit import audit_append
from registry.errors import ServiceError, field_error
from registry.models import Project
from registry.services.common import created_by, unique_or_conflict

MAX_ITEMS = 2000
# Kinds whose value is not "higher is better" (length_tokens counts tokens): compared on pass/fail.
COMPARE_ON_PASSED = frozenset({"length_tokens"})


def evaluator_kinds() -> dict[str, dict]:
    return copy.deepcopy(EVALUATOR_KINDS)


def evaluation_dataset_create(
    *, actor: Actor, project: Project, name: str, items: Sequence[dict], description: str = ""
) -> EvaluationDataset:
    if not items:
        raise field_error("items", "a dataset needs at least one item")
    if len(items) > MAX_ITEMS:
        raise field_error("items", f"at most {MAX_ITEMS} items")
    for index, item in enumerate(items):
        context = item.get("context") or []
        if not isinstance(context, list) or not all(isinstance(c, str) for c in context):
            raise field_error(f"items[{index}].context", "must be a list of passages (strings)")
    with unique_or_conflict(f"evaluation dataset {name!r} already exists in {project.slug}", "name"):
        dataset = EvaluationDataset.objects.create(
            project=project, name=name, description=description, **created_by(actor)
        )
        EvaluationItem.objects.bulk_create(
            EvaluationItem(
                dataset=dataset,
                position=index,
                variables=item.get("variables") or {},
                expected=item.get("expected") or "",
                context=item.get("context") or [],
            )
            for index, item in enumerate(items)
        )
        audit_append(
            actor=actor,
            event_type=LLMEvent.DATASET_CREATED,
            target=dataset,
            after={"name": name, "items": len(items)},
        )
    return dataset


def _evaluators(specs: Sequence[dict], provider: Provider) -> list[tuple[str, Evaluator]]:
    if not specs:
        raise field_error("evaluators", "name at least one evaluator")
    built, names = [], set()
    for index, spec in enumerate(specs):
        name = spec.get("name")
        if name in names:
            raise field_error(f"evaluators[{index}].name", f"{name!r} is used twice")
        names.add(name)
        try:
            built.append((name, evaluator_build(spec.get("kind"), spec.get("config"), provider=provider)))
        except EvaluatorConfigError as exc:
            raise field_error(f"evaluators[{index}].{exc.field}", exc.message) from None
    return built


def _messages(rendered: dict) -> list[dict]:
    if "messages" in rendered:
        return rendered["messages"]
    return [{"role": "user", "content": rendered["text"]}]


def _score_all(evaluators: list[tuple[str, Evaluator]], item: EvalInput) -> dict:
    scores = {}
    for name, evaluator in evaluators:
        score = evaluator.score(item)
        scores[name] = {"kind": evaluator.kind, "value": score.value, "passed": score.passed, "detail": score.detail}
    return scores


def _aggregates(evaluators: list[tuple[str, Evaluator]], results: list[EvaluationResult]) -> dict:
    aggregates = {}
    for name, evaluator in evaluators:
        scored = [r.scores[name] for r in results if name in r.scores]
        aggregates[name] = {
            "kind": evaluator.kind,
            "count": len(scored),
            "mean": fmean(s["value"] for s in scored) if scored else None,
            "pass_rate": sum(1 for s in scored if s["passed"]) / len(scored) if scored else None,
            "errors": sum(1 for s in scored if "error" in s["detail"]),
        }
    return aggregates


def evaluation_run(
    *,
    actor: Actor,
    version: PromptVersion,
    dataset: EvaluationDataset,
    evaluators: Sequence[dict],
    model: str | None = None,
    provider: Provider | None = None,
) -> EvaluationRun:
    """Render the version with each item's variables, call the provider, score the output; stored whole."""
    if dataset.project_id != version.project_id:
        raise field_error("dataset", "the dataset and the prompt version belong to different projects")
    provider = provider or provider_from_settings()
    built = _evaluators(evaluators, provider)
    model = model or version.model
    if not model:
        raise field_error("model", "the prompt version names no model: give one")
    items = list(dataset.items.all())
    results: list[EvaluationResult] = []
    for item in items:
        result = EvaluationResult(item=item)
        try:
            rendered = prompt_render(version=version, variables=item.variables)
        except ServiceError as exc:
            raise ServiceError(
                f"item {item.position} does not fit the prompt version: {exc.message}",
                fields={f"dataset.items[{item.position}].{k}": v for k, v in exc.fields.items()},
            ) from None
        try:
            completion = provider.complete(_messages(rendered), model=model, params=version.parameters)
        except ProviderError as exc:
            result.error = str(exc)
            result.scores = {}
            results.append(result)
            continue
        result.output = completion.text
        result.latency_ms = completion.latency_ms
        result.input_tokens = int(completion.usage.get("prompt_tokens", 0) or 0)
        result.output_tokens = int(completion.usage.get("completion_tokens", 0) or 0)
        result.scores = _score_all(
            built,
            EvalInput(
                output=completion.text,
                expected=item.expected or None,
                variables=item.variables,
                context=item.context,
                model=model,
            ),
        )
        results.append(result)
    failed = sum(1 for r in results if r.error)
    with transaction.atomic():
        run = EvaluationRun.objects.create(
            project_id=version.project_id,
            prompt_version=version,
            dataset=dataset,
            provider=provider.name,
            model=model,
            evaluators=[{"name": n, "kind": e.kind, "config": e.config} for n, e in built],
            status=EvaluationRun.Status.FAILED if failed == len(results) else EvaluationRun.Status.FINISHED,
            aggregates=_aggregates(built, results),
            error=f"{failed} of {len(results)} items failed at the provider" if failed else "",
            **created_by(actor),
        )
        for result in results:
            result.run = run
        EvaluationResult.objects.bulk_create(results)
        audit_append(
            actor=actor,
            event_type=LLMEvent.EVALUATION_RUN,
            target=run,
            after={
                "prompt_version": version.pk,
                "dataset": dataset.pk,
                "provider": provider.name,
                "model": model,
                "aggregates": run.aggregates,
            },
        )
    return run


def _comparable(score: dict) -> float:
    return float(score["passed"]) if score["kind"] in COMPARE_ON_PASSED else float(score["value"])


def evaluation_runs_compare(*, a: EvaluationRun, b: EvaluationRun) -> dict:
    """b against a, item by item: per evaluator, how often b scored higher (wins), lower (losses) or
    the same, and the mean of each and of the differences (b - a)."""
    if a.dataset_id != b.dataset_id:
        raise field_error("b", "both runs must be over the same dataset to be compared item by item")
    by_item_a = {r.item_id: r for r in a.results.all()}
    by_item_b = {r.item_id: r for r in b.results.all()}
    names = [e["name"] for e in a.evaluators if e["name"] in {x["name"] for x in b.evaluators}]
    if not names:
        raise field_error("b", "the two runs share no evaluator name")
    summary = {n: {"wins": 0, "losses": 0, "ties": 0, "a": [], "b": [], "delta": []} for n in names}
    items = []
    for item_id in sorted(set(by_item_a) & set(by_item_b), key=lambda i: by_item_a[i].item.position):
        ra, rb = by_item_a[item_id], by_item_b[item_id]
        row = {
            "item": item_id,
            "position": ra.item.position,
            "output_a": ra.output,
            "output_b": rb.output,
            "scores": {},
        }
        for name in names:
            if name not in ra.scores or name not in rb.scores:
                continue
            va, vb = _comparable(ra.scores[name]), _comparable(rb.scores[name])
            stats = summary[name]
            stats["a"].append(va)
            stats["b"].append(vb)
            stats["delta"].append(vb - va)
            outcome = "win" if vb > va else "loss" if vb < va else "tie"
            stats[{"win": "wins", "loss": "losses", "tie": "ties"}[outcome]] += 1
            row["scores"][name] = {"a": va, "b": vb, "outcome": outcome}
        items.append(row)
    evaluators = {
        name: {
            "wins": s["wins"],
            "losses": s["losses"],
            "ties": s["ties"],
            "mean_a": fmean(s["a"]) if s["a"] else None,
            "mean_b": fmean(s["b"]) if s["b"] else None,
            "mean_delta": fmean(s["delta"]) if s["delta"] else None,
        }
        for name, s in summary.items()
    }
    return {"a": a.pk, "b": b.pk, "evaluators": evaluators, "items": items}


def _call_text(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "\n".join(
            m.get("content", "") for m in value if isinstance(m, dict) and isinstance(m.get("content"), str)
        )
    return ""


def calls_score(*, actor: Actor, calls: Sequence[LLMCall], evaluators: Sequence[dict]) -> list[CallScore]:
    """Score recorded calls. The call's input stands for the context (the retrieved passages were
    given to the model in it; the service keeps only their hashes)."""
    built = _evaluators(evaluators, provider_from_settings())
    scores: list[CallScore] = []
    for call in calls:
        if call.erased_at is not None:
            raise field_error("calls", f"call {call.pk} was erased: its text is gone")
        item = EvalInput(output=call.output, context=[_call_text(call.input)] if call.input else [], model=call.model)
        for name, evaluator in built:
            score = evaluator.score(item)
            scores.append(
                CallScore(
                    call=call,
                    evaluator=name,
                    kind=evaluator.kind,
                    value=score.value,
                    passed=score.passed,
                    detail=score.detail,
                )
            )
    with transaction.atomic():
        CallScore.objects.bulk_create(scores)
        for project_id in {c.project_id for c in calls}:
            audit_append(
                actor=actor,
                event_type=LLMEvent.CALLS_SCORED,
                target_type="llmops.llmcall",
                target_repr=f"{len(calls)} calls scored",
                project_id=project_id,
                after={
                    "calls": [c.pk for c in calls if c.project_id == project_id],
                    "evaluators": [n for n, _ in built],
                },
            )
    return scores
