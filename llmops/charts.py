"""Server-side SVG charts of LLM costs and evaluation comparisons, built as plain strings (no JavaScript,
nothing fetched) with the registry's SVG kit (registry.svg), so they look like the fairness and drift charts.

- `cost_by_day_svg`: cost per UTC day as stacked columns, one colour per model, with a strip beneath the
  dates counting the calls that have no price that day (their cost is unknown: never drawn as zero);
- `cost_by_model_svg`: cost per model as horizontal bars, a model without a price said so in red instead of
  a bar;
- `comparison_svg`: two evaluation runs item by item, one bar per evaluator split into the items where B
  scored higher, the same, or lower than A, with the means beside it.

Model and evaluator names come from clients: everything placed in an SVG goes through `xml_text` or `xml_attr`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from registry.svg import (
    CHAR_WIDTH,
    GRID,
    INK,
    QUIET,
    WIDTH,
    Svg,
    nice_ceiling,
    num,
    safe_id,
    shorten,
    svg_document,
    xml_attr,
    xml_text,
)

# Colour-blind-safe series colours (Okabe-Ito order, the governance blue first); grey for "other models".
PALETTE = ("#4f7cac", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#8c6d31")
OTHER = "#9ca3af"
UNPRICED = "#b91c1c"
BETTER = "#15803d"
SAME = "#d1d5db"
WORSE = "#b91c1c"
MAX_SERIES = len(PALETTE)


def usd(value: Decimal | float | None, *, exact: bool = False) -> str:
    """A cost as a person reads it: $1,234.56, $0.0412, $0.000042; the exact Decimal when asked."""
    if value is None:
        return "unpriced"
    if exact:
        text = format(Decimal(value).normalize(), "f")
        return f"${text}"
    amount = float(value)
    if amount == 0:
        return "$0.00"
    if abs(amount) >= 1:
        return f"${amount:,.2f}"
    if abs(amount) >= 0.01:
        return f"${amount:.4f}"
    digits = min(1 - math.floor(math.log10(abs(amount))), 12)  # two significant digits: $0.0041, $0.000042
    return f"${amount:.{digits}f}"


def _axis_money(value: float) -> str:
    """A tick label: $0, $2.5, $10, $1.2k; cents below a dollar."""
    if value == 0:
        return "$0"
    if value >= 1000:
        return f"${value / 1000:.3g}k"
    if value >= 1:
        return f"${value:.3g}"
    return f"${value:.2g}"


def _document(svg: Svg, *, width: float, height: float, css_class: str, prefix: str, title: str, desc: str) -> str:
    """A cost or comparison chart's document, with the hatch pattern of unpriced days."""
    defs = (
        f'<defs><pattern id="{prefix}-unpriced" width="6" height="6" patternUnits="userSpaceOnUse" '
        f'patternTransform="rotate(45)"><rect width="6" height="6" fill="#fee2e2"/>'
        f'<line x1="0" y1="0" x2="0" y2="6" stroke="{UNPRICED}" stroke-width="1.5"/></pattern></defs>'
    )
    return svg_document(
        svg, width=width, height=height, css_class=css_class, prefix=prefix, title=title, desc=desc, defs=defs
    )


def series_colours(labels: Sequence[str]) -> dict[str, str]:
    """The colour of each model, in the order given (largest cost first), grey past the palette."""
    return {label: PALETTE[i] if i < len(PALETTE) else OTHER for i, label in enumerate(labels)}


def _legend(svg: Svg, items: Sequence[tuple[str, str]], *, x0: float, y: float, right: float) -> float:
    """Swatches with their labels, wrapped onto as many rows as needed; answers the y under the last row."""
    x = x0
    for label, colour in items:
        shown = shorten(label)
        width = 14 + 6 + CHAR_WIDTH * len(shown) + 18
        if x + width > right and x > x0:
            x, y = x0, y + 18
        svg.add(f'<rect x="{num(x)}" y="{num(y - 10)}" width="14" height="11" fill={xml_attr(colour)}/>')
        svg.add(f"<g><title>{xml_text(label)}</title>")
        svg.text(x + 20, y, shown, fill=INK)
        svg.add("</g>")
        x += width
    return y + 8


def cost_by_day_svg(
    days: Sequence[date],
    series: Sequence[dict],
    unpriced: Sequence[int],
    *,
    id_prefix: str = "cost-by-day",
) -> str:
    """Cost per day as stacked columns.

    `series` are {"label", "colour", "values": [cost per day], "calls": [priced calls per day]} in stacking
    order (bottom first); `unpriced` the count of unpriced calls per day, drawn as red numbers in a strip
    beneath the dates.
    """
    prefix = safe_id(id_prefix, "cost-by-day")
    svg = Svg()
    totals = [sum(float(s["values"][i]) for s in series) for i in range(len(days))]
    svg.text(0, 22, "Cost per day (USD), by model", font_weight="600")
    svg.text(
        0,
        39,
        "Stacked columns: the cost of priced calls. Red numbers beneath the dates: calls without a price "
        "that day, whose cost is unknown (not zero).",
        fill=QUIET,
    )
    left, right = 66.0, WIDTH - 14.0
    y = _legend(svg, [(s["label"], s["colour"]) for s in series], x0=left, y=64, right=right)
    top = y + 14
    bottom = top + 230
    highest = nice_ceiling(max([*totals, 0.0]) or 1.0)
    steps = 5 if highest / 5 * 5 == highest else 4
    for i in range(steps + 1):
        tick = highest * i / steps
        ty = bottom - tick / highest * (bottom - top)
        svg.line(left, ty, right, ty, GRID)
        svg.text(left - 6, ty + 4, _axis_money(tick), anchor="end", fill=QUIET)
    slot = (right - left) / max(len(days), 1)
    bar = max(min(slot * 0.72, 34.0), 2.0)
    every = max(1, math.ceil(len(days) / 12))
    for index, day in enumerate(days):
        x = left + slot * index + (slot - bar) / 2
        centre = left + slot * index + slot / 2
        total_tip = f"{day.isoformat()}: {usd(totals[index])} priced"
        if unpriced[index]:
            total_tip += f", {unpriced[index]:,} unpriced call{'s' if unpriced[index] != 1 else ''} (cost unknown)"
        svg.add(
            f'<rect class="day" data-day="{day.isoformat()}" x="{num(left + slot * index)}" y="{num(top)}" '
            f'width="{num(slot)}" height="{num(bottom - top)}" fill="transparent"><title>{xml_text(total_tip)}</title>'
            "</rect>"
        )
        base = bottom
        for s in series:
            value = float(s["values"][index])
            if value <= 0:
                continue
            h = value / highest * (bottom - top)
            calls = s["calls"][index]
            tip = f"{day.isoformat()} · {s['label']}: {usd(value)} ({calls:,} call{'s' if calls != 1 else ''})"
            svg.add(
                f'<rect class="segment" data-series={xml_attr(s["label"])} x="{num(x)}" y="{num(base - h)}" '
                f'width="{num(bar)}" height="{num(max(h, 0.5))}" fill={xml_attr(s["colour"])}>'
                f"<title>{xml_text(tip)}</title></rect>"
            )
            base -= h
        if index % every == 0 or index == len(days) - 1 and len(days) > 1 and index % every > every / 2:
            svg.line(centre, bottom, centre, bottom + 4, QUIET)
            svg.text(centre, bottom + 17, day.strftime("%d %b"), anchor="middle", fill=QUIET)
        if unpriced[index]:
            svg.add(f'<g class="unpriced" data-day="{day.isoformat()}"><title>{xml_text(total_tip)}</title>')
            svg.text(centre, bottom + 38, f"{unpriced[index]:,}", anchor="middle", fill=UNPRICED, font_weight="600")
            svg.add("</g>")
    svg.line(left, bottom, right, bottom, QUIET)
    svg.text(left - 6, bottom + 38, "unpriced", anchor="end", fill=UNPRICED, font_weight="600")
    if not any(unpriced):
        svg.text(left + 4, bottom + 38, "none: every call in the range has a price", fill=QUIET, font_style="italic")
    height = bottom + 52
    span = f"{days[0].isoformat()} to {days[-1].isoformat()}" if days else "no days"
    desc = (
        f"Cost per day from {span}, {usd(sum(totals))} in all over {len(series)} model"
        f"{'s' if len(series) != 1 else ''}; {sum(unpriced):,} unpriced calls."
    )
    return _document(
        svg, width=WIDTH, height=height, css_class="cost-day-chart", prefix=prefix, title="Cost per day", desc=desc
    )


def cost_by_model_svg(rows: Sequence[dict], *, id_prefix: str = "cost-by-model") -> str:
    """Cost per model, largest first, as horizontal bars. `rows` are {"label", "colour", "cost", "calls",
    "unpriced"}; a model whose calls are all unpriced gets a hatched red band saying so, never a zero bar."""
    prefix = safe_id(id_prefix, "cost-by-model")
    svg = Svg()
    svg.text(0, 22, "Cost by model (USD)", font_weight="600")
    svg.text(
        0,
        39,
        "Bars: the cost of priced calls. Calls without a price are counted in red: their cost is unknown.",
        fill=QUIET,
    )
    shown = [shorten(str(r["label"])) for r in rows]
    label_width = min(max(120.0, CHAR_WIDTH * max([5, *map(len, shown)]) + 16), 290.0)
    value_width = 230.0
    left = label_width
    plot = WIDTH - left - value_width - 12
    row_height = 28.0
    top = 62.0
    bottom = top + row_height * max(len(rows), 1)
    highest = nice_ceiling(max([float(r["cost"]) for r in rows] + [0.0]) or 1.0)
    for i in range(5):
        tick = highest * i / 4
        x = left + tick / highest * plot
        svg.line(x, top, x, bottom, GRID)
        svg.text(x, bottom + 16, _axis_money(tick), anchor="middle", fill=QUIET)
    svg.line(left, bottom, left + plot, bottom, QUIET)
    for index, (row, label) in enumerate(zip(rows, shown, strict=True)):
        centre = top + row_height * index + row_height / 2
        cost, calls, unpriced = float(row["cost"]), int(row["calls"]), int(row["unpriced"])
        priced = calls - unpriced
        svg.add(f'<g class="model" data-model={xml_attr(row["label"])}><title>{xml_text(row["label"])}</title>')
        svg.text(left - 10, centre + 4, label, anchor="end", fill=INK)
        svg.add("</g>")
        if priced == 0:
            tip = f"{row['label']}: {unpriced:,} calls without a price; cost unknown"
            svg.add(
                f'<rect class="unpriced-band" x="{num(left)}" y="{num(centre - 9)}" width="{num(plot)}" '
                f'height="18" fill="#fef2f2" stroke="{UNPRICED}" stroke-width="1" stroke-dasharray="4 3">'
                f"<title>{xml_text(tip)}</title></rect>"
            )
            svg.text(left + 8, centre + 4, "no price: cost unknown, not zero", fill=UNPRICED, font_weight="600")
            svg.text(
                WIDTH - value_width + 4, centre + 4, f"unpriced · {unpriced:,} calls", fill=UNPRICED, font_weight="600"
            )
            continue
        width = cost / highest * plot
        tip = f"{row['label']}: {usd(cost)} over {priced:,} priced calls"
        svg.add(
            f'<rect class="bar" data-model={xml_attr(row["label"])} x="{num(left)}" y="{num(centre - 8)}" '
            f'width="{num(max(width, 1.0))}" height="16" fill={xml_attr(row["colour"])}>'
            f"<title>{xml_text(tip)}</title></rect>"
        )
        svg.text(WIDTH - value_width + 4, centre + 4, f"{usd(cost)} · {calls:,} calls", fill=INK, font_weight="600")
        if unpriced:
            svg.text(WIDTH - 12, centre + 4, f"{unpriced:,} unpriced", anchor="end", fill=UNPRICED, font_weight="600")
    height = bottom + 28
    unknown = [str(r["label"]) for r in rows if int(r["unpriced"])]
    desc = f"Cost of {len(rows)} models." + (f" Models with unpriced calls: {', '.join(unknown)}." if unknown else "")
    return _document(
        svg, width=WIDTH, height=height, css_class="cost-model-chart", prefix=prefix, title="Cost by model", desc=desc
    )


def _score(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def comparison_svg(
    evaluators: dict[str, dict], *, label_a: str, label_b: str, id_prefix: str = "comparison-chart"
) -> str:
    """Per evaluator, the items where B scored higher than A (green), the same (grey) or lower (red), as
    one bar of the items compared, with the mean of A, of B and the mean difference beside it."""
    prefix = safe_id(id_prefix, "comparison-chart")
    svg = Svg()
    svg.text(0, 22, f"B ({label_b}) against A ({label_a}), item by item", font_weight="600")
    svg.text(
        0,
        39,
        "Each bar splits the items: green where B scored higher, grey the same, red lower. Right: the mean scores.",
        fill=QUIET,
    )
    names = list(evaluators)
    shown = [shorten(str(n)) for n in names]
    label_width = min(max(110.0, CHAR_WIDTH * max([9, *map(len, shown)]) + 16), 240.0)
    value_width = 250.0
    left = label_width
    plot = WIDTH - left - value_width - 16
    row_height = 30.0
    head = 66.0
    svg.text(left - 10, head, "evaluator", anchor="end", fill=QUIET, font_weight="600")
    svg.text(left, head, "items: B better / same / worse", fill=QUIET, font_weight="600")
    svg.text(WIDTH - value_width + 8, head, "mean A → B (difference)", fill=QUIET, font_weight="600")
    top = head + 10
    for index, (name, label) in enumerate(zip(names, shown, strict=True)):
        stats = evaluators[name]
        centre = top + row_height * index + row_height / 2
        svg.add(f'<g class="evaluator" data-evaluator={xml_attr(name)}><title>{xml_text(name)}</title>')
        svg.text(left - 10, centre + 4, label, anchor="end", fill=INK, font_weight="600")
        svg.add("</g>")
        wins, ties, losses = int(stats["wins"]), int(stats["ties"]), int(stats["losses"])
        total = wins + ties + losses
        x = left
        for css, count, colour, word, ink in (
            ("wins", wins, BETTER, "B better", "#ffffff"),
            ("ties", ties, SAME, "same", INK),
            ("losses", losses, WORSE, "B worse", "#ffffff"),
        ):
            if not total or not count:
                continue
            width = count / total * plot
            tip = f"{name}: {word} on {count:,} of {total:,} items"
            svg.add(
                f'<rect class="{css}" x="{num(x)}" y="{num(centre - 10)}" width="{num(width)}" height="20" '
                f'fill="{colour}"><title>{xml_text(tip)}</title></rect>'
            )
            if width >= CHAR_WIDTH * len(str(count)) + 6:
                svg.text(x + width / 2, centre + 4, f"{count:,}", anchor="middle", fill=ink, font_weight="600")
            x += width
        if not total:
            svg.text(left + 4, centre + 4, "no item scored by both runs", fill=QUIET, font_style="italic")
        delta = stats.get("mean_delta")
        colour = INK if delta is None or abs(delta) < 1e-12 else (BETTER if delta > 0 else WORSE)
        sign = "" if delta is None else ("+" if delta > 0 else "−" if delta < 0 else "±")
        delta_text = "n/a" if delta is None else f"{sign}{abs(delta):.2f}"
        svg.text(
            WIDTH - value_width + 8,
            centre + 4,
            f"{_score(stats.get('mean_a'))} → {_score(stats.get('mean_b'))}",
            fill=INK,
        )
        svg.text(WIDTH - 16, centre + 4, f"({delta_text})", anchor="end", fill=colour, font_weight="600")
    bottom = top + row_height * max(len(names), 1)
    y = bottom + 22
    for offset, colour, word in ((0, BETTER, "B better"), (100, SAME, "same"), (180, WORSE, "B worse")):
        svg.add(f'<rect x="{num(left + offset)}" y="{num(y - 10)}" width="14" height="11" fill="{colour}"/>')
        svg.text(left + offset + 20, y, word, fill=QUIET)
    height = y + 14
    parts = [
        f"{n}: B better on {s['wins']}, same on {s['ties']}, worse on {s['losses']}" for n, s in evaluators.items()
    ]
    return _document(
        svg,
        width=WIDTH,
        height=height,
        css_class="comparison-chart",
        prefix=prefix,
        title="Evaluation runs compared",
        desc="; ".join(parts) + ".",
    )


# Trace waterfall: one bar per span, coloured by what the span is; this call's span outlined in ink.
SPAN_COLOURS = {
    "llm": "#4f7cac",
    "embedding": "#56b4e9",
    "retrieval": "#009e73",
    "prompt": "#cc79a7",
    "tool": "#e69f00",
    "agent": "#d55e00",
    "workflow": "#8c6d31",
    "task": "#9ca3af",
    "chain": "#9ca3af",
    "other": "#d1d5db",
}
ERROR = "#b91c1c"
ROW = 22


def trace_waterfall_svg(waterfall: dict, *, id_prefix: str = "trace") -> str:
    """A call's trace (llmops.presenters.traces.call_waterfall) as a waterfall: the span names indented by depth on
    the left, each span's bar from its start to its end on a shared millisecond axis, errors in red."""
    rows = waterfall["rows"]
    prefix = safe_id(id_prefix, "trace")
    label_width = min(320, max(120, max(CHAR_WIDTH * (len(shorten(r["name"])) + 2 * r["depth"]) for r in rows) + 16))
    left, right, top = label_width, WIDTH - 70, 28
    total = waterfall["total_ms"] or 1.0
    scale = (right - left) / total
    height = top + ROW * len(rows) + 16
    svg = Svg()
    for tick in range(5):
        value = total * tick / 4
        x = left + value * scale
        svg.line(x, top - 6, x, height - 12, GRID)
        svg.text(x, top - 10, f"{value:,.1f} ms", anchor="middle", fill=QUIET)
    for index, row in enumerate(rows):
        y = top + index * ROW
        indent = 8 + 12 * min(row["depth"], 12)
        weight = "bold" if row["this_call"] else "normal"
        svg.text(indent, y + 15, shorten(row["name"]), fill=INK, font_weight=weight)
        x = left + row["offset_ms"] * scale
        width = max(2.0, row["duration_ms"] * scale)
        colour = ERROR if row["status"] == "error" else SPAN_COLOURS.get(row["category"], OTHER)
        outline = f' stroke="{INK}" stroke-width="2"' if row["this_call"] else ""
        tip = f"{row['name']} ({row['category']}, {row['duration_ms']:,.1f} ms, {row['status']})"
        svg.add(
            f'<rect x="{num(x)}" y="{num(y + 4)}" width="{num(width)}" height="{ROW - 8}" fill="{colour}"{outline}>'
            f"<title>{xml_text(tip)}</title></rect>"
        )
        svg.text(min(x + width + 4, WIDTH - 66), y + 15, f"{row['duration_ms']:,.1f} ms", fill=QUIET)
    return svg_document(
        svg,
        width=WIDTH,
        height=height,
        css_class="chart trace-waterfall",
        prefix=prefix,
        title=f"Trace {waterfall['trace_id']}",
        desc=f"{len(rows)} spans over {total:,.1f} ms; this call's span is outlined",
    )
