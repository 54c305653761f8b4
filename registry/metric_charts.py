"""A run's metric history as small line charts, one per metric key (steps on the x axis), drawn server-side with
the SVG kit. `metric_history(run)` is the presenter: plain values per key, read in one query however long the
history, with long histories thinned to MAX_POINTS (each bucket keeps its lowest and highest value, so spikes
stay visible) and NaN values (stored as null) left out and counted."""

from __future__ import annotations

import math
from typing import TypedDict

from registry.models import MetricPoint, Run
from registry.svg import GRID, INK, QUIET, Svg, num, safe_id, svg_document

MAX_KEYS = 24
MAX_POINTS = 400
LINE = "#2563eb"


class MetricChart(TypedDict):
    key: str
    points: int  # every point the run logged for the key
    drawn: int
    not_a_number: int
    latest: float | None
    svg: str


def metric_history(run: Run, *, max_keys: int = MAX_KEYS, max_points: int = MAX_POINTS) -> list[MetricChart]:
    keys = sorted(run.metrics)[:max_keys]
    series: dict[str, list[tuple[int, float | None]]] = {key: [] for key in keys}
    rows = (
        MetricPoint.objects.filter(run=run, key__in=keys)
        .order_by("key", "step", "timestamp", "id")
        .values_list("key", "step", "value")
    )
    for key, step, value in rows.iterator(chunk_size=5000):
        series[key].append((step, value))
    charts: list[MetricChart] = []
    for index, key in enumerate(keys):
        points = series[key]
        finite = [(s, v) for s, v in points if v is not None and math.isfinite(v)]
        drawn = _thin(finite, max_points)
        latest = run.metrics.get(key)
        charts.append(
            {
                "key": key,
                "points": len(points),
                "drawn": len(drawn),
                "not_a_number": len(points) - len(finite),
                "latest": latest if isinstance(latest, (int, float)) else None,
                "svg": _chart_svg(key, drawn, prefix=f"metric-{index}"),
            }
        )
    return charts


def _thin(points: list[tuple[int, float]], limit: int) -> list[tuple[int, float]]:
    if len(points) <= limit:
        return points
    size = math.ceil(len(points) / (limit // 2))
    kept: list[tuple[int, float]] = []
    for start in range(0, len(points), size):
        bucket = points[start : start + size]
        low, high = min(bucket, key=lambda p: p[1]), max(bucket, key=lambda p: p[1])
        kept.extend(sorted({low, high}))
    return kept


def _chart_svg(key: str, points: list[tuple[int, float]], *, prefix: str) -> str:
    width, height = 420.0, 170.0
    left, right, top, bottom = 56.0, width - 12, 28.0, height - 32
    svg = Svg()
    svg.text(0, 16, key, font_weight="600", fill=INK)
    if not points:
        svg.text(left, (top + bottom) / 2, "no finite values", fill=QUIET)
    else:
        steps = [s for s, _ in points]
        values = [v for _, v in points]
        low, high = min(values), max(values)
        if high == low:
            low, high = low - 0.5 * (abs(low) or 1), high + 0.5 * (abs(high) or 1)
        first, last = min(steps), max(steps)

        def x_of(step: int) -> float:
            return (left + right) / 2 if last == first else left + (step - first) / (last - first) * (right - left)

        def y_of(value: float) -> float:
            return bottom - (value - low) / (high - low) * (bottom - top)

        for value in (low, (low + high) / 2, high):
            svg.line(left, y_of(value), right, y_of(value), GRID)
            svg.text(left - 4, y_of(value) + 4, f"{value:.4g}", anchor="end", fill=QUIET)
        svg.line(left, bottom, right, bottom, QUIET)
        for step in sorted({first, last}):
            svg.text(x_of(step), bottom + 14, f"{step:,}", anchor="middle", fill=QUIET)
        svg.text((left + right) / 2, bottom + 28, "step", anchor="middle", fill=QUIET)
        if len(points) > 1:
            path = " ".join(f"{'M' if i == 0 else 'L'}{num(x_of(s))} {num(y_of(v))}" for i, (s, v) in enumerate(points))
            svg.add(f'<path d="{path}" fill="none" stroke="{LINE}" stroke-width="1.5"/>')
        else:
            svg.add(f'<circle cx="{num(x_of(steps[0]))}" cy="{num(y_of(values[0]))}" r="3" fill="{LINE}"/>')
    return svg_document(
        svg,
        width=width,
        height=height,
        css_class="metric-chart",
        prefix=safe_id(prefix, "metric"),
        title=f"{key} by step",
        desc=f"{len(points)} points of {key}, steps on the x axis",
    )
