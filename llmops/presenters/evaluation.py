"""What an evaluation run's page shows beneath its fields, and two runs over one dataset compared item by item."""

from __future__ import annotations

import json
from typing import TypedDict

from django.utils.text import Truncator

from llmops.models import EvaluationRun
from llmops.presenters.content import (
    EMPTY,
    ScorePart,
    Variable,
    admin_url,
    audit_trail_url,
    compare_url,
    diff_url,
    percent,
    run_label,
    score_parts,
    variables,
)
from registry.admin.kit import count


class Aggregate(TypedDict):
    name: str
    kind: str
    mean: str
    pass_rate: str
    pass_width: str  # the pass rate in percent of the bar's width, "0" to "100"
    count: str
    errors: int


class ScoreCell(TypedDict):
    name: str
    value: str
    outcome: str  # "win" (passed), "loss" (failed) or "": the cell's class
    mark: str
    detail: str  # the evaluator's detail as JSON, shown on hover


class ResultRow(TypedDict):
    position: int
    variables: list[Variable]
    expected: str
    output: str
    error: str
    cells: list[ScoreCell]
    tokens: str
    latency: str


class OtherRun(TypedDict):
    label: str
    url: str
    compare_url: str
    summary: list[ScorePart]


class RunPage(TypedDict):
    names: list[str]
    aggregates: list[Aggregate]
    results: list[ResultRow]
    others: list[OtherRun]
    audit_trail_url: str


class RunCard(TypedDict):
    id: int
    url: str
    version: str
    version_url: str
    model: str
    provider: str
    summary: list[ScorePart]


class EvaluatorRow(TypedDict):
    name: str
    kind: str
    mean_a: str
    mean_b: str
    delta: str
    direction: str  # "better", "worse" or "": B's mean against A's
    wins: int
    ties: int
    losses: int


class PairCell(TypedDict):
    name: str
    a: str
    b: str
    outcome: str  # win, loss or tie: B against A


class ItemRow(TypedDict):
    position: int
    variables: list[Variable]
    expected: str
    output_a: str
    output_b: str
    same_output: bool
    cells: list[PairCell | None]  # None: the evaluator did not score the item in both runs
    overall: str  # win, loss, mixed or tie


class ChartData(TypedDict):
    """The arguments of llmops.charts.comparison_svg."""

    evaluators: dict
    label_a: str
    label_b: str


class Comparison(TypedDict):
    a: RunCard
    b: RunCard
    dataset: str
    same_version: bool
    version_diff_url: str | None  # the prompt diff when both runs are of two versions of one prompt
    evaluators: list[EvaluatorRow]
    names: list[str]
    rows: list[ItemRow]
    chart: ChartData
    swap_url: str
    item_count: int


def run_card(run: EvaluationRun) -> RunCard:
    return {
        "id": run.pk,
        "url": admin_url(run),
        "version": str(run.prompt_version),
        "version_url": admin_url(run.prompt_version),
        "model": run.model,
        "provider": run.provider,
        "summary": score_parts(run),
    }


def evaluation_run_page(run: EvaluationRun, others) -> RunPage:
    """What a run's page shows beneath its fields: the scores per evaluator, the results item by item and the
    other runs over the same dataset to compare with."""
    names = [e["name"] for e in run.evaluators]
    aggregates = []
    for name in names:
        values = (run.aggregates or {}).get(name, {})
        aggregates.append(
            {
                "name": name,
                "kind": values.get("kind", ""),
                "mean": EMPTY if values.get("mean") is None else f"{values['mean']:.3f}",
                "pass_rate": percent(values.get("pass_rate")),
                "pass_width": f"{(values.get('pass_rate') or 0) * 100:.0f}",
                "count": count(values.get("count", 0)),
                "errors": values.get("errors", 0),
            }
        )
    results = []
    for result in run.results.select_related("item").order_by("item__position"):
        cells = []
        for name in names:
            score = result.scores.get(name)
            if score is None or score.get("value") is None:
                continue
            detail = json.dumps(score.get("detail") or {}, ensure_ascii=False, sort_keys=True)
            cells.append(
                {
                    "name": name,
                    "value": f"{score['value']:.2f}",
                    "outcome": {True: "win", False: "loss"}.get(score.get("passed"), ""),
                    "mark": {True: "✓", False: "✗"}.get(score.get("passed"), ""),
                    "detail": Truncator(detail).chars(300),
                }
            )
        results.append(
            {
                "position": result.item.position,
                "variables": variables(result.item.variables, limit=90),
                "expected": result.item.expected,
                "output": result.output,
                "error": result.error,
                "cells": cells,
                "tokens": f"{result.input_tokens:,} / {result.output_tokens:,}",
                "latency": EMPTY if result.latency_ms is None else f"{result.latency_ms:,.0f} ms",
            }
        )
    return {
        "names": names,
        "aggregates": aggregates,
        "results": results,
        "others": [
            {
                "label": run_label(other),
                "url": admin_url(other),
                "compare_url": compare_url(*[r.pk for r in sorted([run, other], key=lambda r: (r.created_at, r.pk))]),
                "summary": score_parts(other),
            }
            for other in others
        ],
        "audit_trail_url": audit_trail_url(run),
    }


def run_comparison(a: EvaluationRun, b: EvaluationRun, compared: dict) -> Comparison:
    """evaluation_runs_compare's result as the compare page shows it, with each item's question and expected
    answer (from the results already loaded with their items)."""
    items = {r.item_id: r.item for r in a.results.all()}
    kinds = {e["name"]: e.get("kind", "") for e in a.evaluators}
    evaluators = []
    for name, stats in compared["evaluators"].items():
        delta = stats["mean_delta"]
        evaluators.append(
            {
                "name": name,
                "kind": kinds.get(name, ""),
                "mean_a": EMPTY if stats["mean_a"] is None else f"{stats['mean_a']:.3f}",
                "mean_b": EMPTY if stats["mean_b"] is None else f"{stats['mean_b']:.3f}",
                "delta": EMPTY if delta is None else f"{delta:+.3f}",
                "direction": "" if delta is None or abs(delta) < 1e-12 else ("better" if delta > 0 else "worse"),
                "wins": stats["wins"],
                "ties": stats["ties"],
                "losses": stats["losses"],
            }
        )
    names = list(compared["evaluators"])
    rows = []
    for row in compared["items"]:
        item = items.get(row["item"])
        cells = []
        for name in names:
            score = row["scores"].get(name)
            if score is None:
                cells.append(None)
                continue
            cells.append(
                {"name": name, "a": f"{score['a']:.2f}", "b": f"{score['b']:.2f}", "outcome": score["outcome"]}
            )
        outcomes = {c["outcome"] for c in cells if c}
        rows.append(
            {
                "position": row["position"],
                "variables": variables(item.variables if item else {}, limit=90),
                "expected": item.expected if item else "",
                "output_a": row["output_a"],
                "output_b": row["output_b"],
                "same_output": row["output_a"] == row["output_b"],
                "cells": cells,
                "overall": "mixed"
                if {"win", "loss"} <= outcomes
                else "win"
                if "win" in outcomes
                else "loss"
                if "loss" in outcomes
                else "tie",
            }
        )
    return {
        "a": run_card(a),
        "b": run_card(b),
        "dataset": a.dataset.name,
        "same_version": a.prompt_version_id == b.prompt_version_id,
        "version_diff_url": diff_url(a.prompt_version.template_id, a.prompt_version.version, b.prompt_version.version)
        if a.prompt_version.template_id == b.prompt_version.template_id and a.prompt_version_id != b.prompt_version_id
        else None,
        "evaluators": evaluators,
        "names": names,
        "rows": rows,
        "chart": {
            "evaluators": compared["evaluators"],
            "label_a": f"run #{a.pk}, {a.prompt_version}",
            "label_b": f"run #{b.pk}, {b.prompt_version}",
        },
        "swap_url": compare_url(b.pk, a.pk),
        "item_count": len(rows),
    }
