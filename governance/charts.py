"""Server-side SVG charts of a fairness audit, built as plain strings (no JavaScript, nothing fetched).

`fairness_chart_svg` draws two sections from an audit's `by_group` dicts:

1. selection rate per group: a horizontal bar with its interval as a whisker, and a dashed vertical line
   at `min_ratio` x the highest group's rate (the four-fifths line when the ratio is 0.8); bars left of
   that line are hatched, so the chart reads in black and white too;
2. small multiples of the true and false positive rates per group (equalized odds), with the largest
   gap between groups in each panel's heading.

Every piece of text that reaches the SVG is XML-escaped: group values come from clients' decisions.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from xml.sax.saxutils import escape, quoteattr

WIDTH = 880
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
FONT_SIZE = 12
CHAR_WIDTH = 6.8  # average advance of FONT_SIZE sans-serif text, for sizing the label column
ROW = 26
BAR = 14
TICKS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
MAX_LABEL_CHARS = 30

# Colours that keep apart in greyscale print: mid blue bars, a dark orange hatched bar, near-black ink.
INK = "#1f2937"
QUIET = "#4b5563"
GRID = "#d1d5db"
BAR_FILL = "#4f7cac"
BELOW_FILL = "#c2410c"
LINE = "#b91c1c"

# Characters XML 1.0 does not allow (even escaped); a client's group value could hold them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _text(value: object) -> str:
    """Text content, escaped for XML (and HTML, where the SVG is inlined)."""
    return escape(_NOT_XML.sub("\ufffd", str(value)))


def _attr(value: object) -> str:
    """An attribute value with its quotes, escaped."""
    return quoteattr(_NOT_XML.sub("\ufffd", str(value)))


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".") if not float(value).is_integer() else str(int(value))


def rate(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def interval(bounds: Sequence[float] | None) -> str:
    return "" if not bounds else f"{bounds[0]:.3f}–{bounds[1]:.3f}"


def group_label(group: dict) -> str:
    """A group's values joined ("Black, Male"); the attribute names head the label column."""
    return ", ".join("(missing)" if value is None else str(value) for value in group.values())


def _short(label: str) -> str:
    return label if len(label) <= MAX_LABEL_CHARS else label[: MAX_LABEL_CHARS - 1] + "…"


def _finite(value: object) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _bounds(group: dict, metric: str) -> tuple[float, float] | None:
    bounds = (group.get("intervals") or {}).get(metric)
    if not bounds or len(bounds) != 2:
        return None
    low, high = _finite(bounds[0]), _finite(bounds[1])
    return None if low is None or high is None else (low, high)


def _name(keyword: str) -> str:
    """font_weight -> font-weight, class_ -> class."""
    return keyword.rstrip("_").replace("_", "-")


class _Svg:
    def __init__(self) -> None:
        self.parts: list[str] = []

    def add(self, markup: str) -> None:
        self.parts.append(markup)

    def text(self, x: float, y: float, content: object, *, anchor: str = "start", **style: object) -> None:
        attrs = "".join(f" {_name(name)}={_attr(value)}" for name, value in style.items())
        self.add(f'<text x="{_num(x)}" y="{_num(y)}" text-anchor="{anchor}"{attrs}>{_text(content)}</text>')

    def line(self, x1: float, y1: float, x2: float, y2: float, stroke: str, width: float = 1, **extra: str) -> None:
        attrs = "".join(f" {_name(name)}={_attr(value)}" for name, value in extra.items())
        self.add(
            f'<line x1="{_num(x1)}" y1="{_num(y1)}" x2="{_num(x2)}" y2="{_num(y2)}" '
            f'stroke="{stroke}" stroke-width="{_num(width)}"{attrs}/>'
        )


def _axis(svg: _Svg, left: float, width: float, top: float, bottom: float) -> None:
    """Grid lines and tick labels from 0 to 1 under a panel."""
    for tick in TICKS:
        x = left + tick * width
        svg.line(x, top, x, bottom, GRID)
        svg.line(x, bottom, x, bottom + 4, QUIET)
        svg.text(x, bottom + 16, f"{tick:.1f}", anchor="middle", fill=QUIET)
    svg.line(left, bottom, left + width, bottom, QUIET)


def _bar(
    svg: _Svg,
    *,
    left: float,
    width: float,
    y: float,
    value: float | None,
    bounds: tuple[float, float] | None,
    below: bool,
    prefix: str,
    tooltip: str,
    metric: str,
) -> None:
    """One group's bar (its centre line at y) with the interval whisker; 'no data' where the rate is undefined."""
    title = f"<title>{_text(tooltip)}</title>"
    if value is None:
        svg.text(left + 4, y + 4, "no data", fill=QUIET, font_style="italic")
        return
    fill = f"url(#{prefix}-below)" if below else BAR_FILL
    svg.add(
        f'<rect class="bar" data-metric={_attr(metric)} x="{_num(left)}" y="{_num(y - BAR / 2)}" '
        f'width="{_num(max(value, 0.0) * width)}" height="{BAR}" fill="{fill}">{title}</rect>'
    )
    if bounds is not None:
        low, high = (left + min(max(b, 0.0), 1.0) * width for b in bounds)
        svg.add(
            f'<g class="whisker" stroke="{INK}" stroke-width="1.5">{title}'
            f'<line x1="{_num(low)}" y1="{_num(y)}" x2="{_num(high)}" y2="{_num(y)}"/>'
            f'<line x1="{_num(low)}" y1="{_num(y - 5)}" x2="{_num(low)}" y2="{_num(y + 5)}"/>'
            f'<line x1="{_num(high)}" y1="{_num(y - 5)}" x2="{_num(high)}" y2="{_num(y + 5)}"/></g>'
        )


def fairness_chart_svg(
    groups: Sequence[dict],
    *,
    attributes: Sequence[str] = (),
    min_ratio: float = 0.8,
    max_odds_difference: float | None = None,
    positive_label: object = "positive",
    id_prefix: str = "fairness-chart",
) -> str:
    """The audit's charts as one SVG document: selection rates with the four-fifths line, then TPR and FPR.

    `groups` are the audit's `by_group` dicts (group, count, selection_rate, tpr, fpr, intervals); the
    thresholds come from the policy snapshot stored with the audit.
    """
    prefix = re.sub(r"[^A-Za-z0-9_-]", "", id_prefix) or "fairness-chart"
    positive = positive_label if isinstance(positive_label, str) else repr(positive_label)
    labels = [group_label(g.get("group") or {}) for g in groups]
    header = ", ".join(str(a) for a in attributes) or "group"
    shown = [f"{_short(label)} (n={g.get('count', 0):,})" for label, g in zip(labels, groups, strict=True)]
    label_width = min(max(110.0, CHAR_WIDTH * max([len(header), *map(len, shown)]) + 16), 290.0)
    value_width = 150.0
    left = label_width
    plot = WIDTH - left - value_width - 12
    svg = _Svg()

    # 1. Selection rates ------------------------------------------------------------------------------
    rates = [_finite(g.get("selection_rate")) for g in groups]
    known = [r for r in rates if r is not None]
    highest = max(known) if known else None
    line_at = highest * min_ratio if highest is not None else None
    y = 22.0
    svg.text(0, y, f"Selection rate by group: share of decisions predicted {positive!r}", font_weight="600")
    y += 17
    if line_at is not None:
        svg.text(
            0,
            y,
            f"Dashed line: {min_ratio:g} × the highest group's rate ({highest:.3f}) = {line_at:.3f}. "
            "Hatched bars fall below it. Whiskers: 95% intervals.",
            fill=QUIET,
        )
    y += 22
    svg.text(left - 10, y, header, anchor="end", fill=QUIET, font_weight="600")
    svg.text(WIDTH - value_width + 4, y, "rate (95% interval)", fill=QUIET, font_weight="600")
    top = y + 8
    bottom = top + ROW * len(groups)
    _axis(svg, left, plot, top, bottom)
    for index, (group, label, text, value) in enumerate(zip(groups, labels, shown, rates, strict=True)):
        centre = top + ROW * index + ROW / 2
        below = value is not None and line_at is not None and value < line_at - 1e-12
        bounds = _bounds(group, "selection_rate")
        svg.add(f'<g class="group" data-group={_attr(label)}><title>{_text(label)}</title>')
        svg.text(left - 10, centre + 4, text, anchor="end", fill=INK)
        svg.add("</g>")
        _bar(
            svg,
            left=left,
            width=plot,
            y=centre,
            value=value,
            bounds=bounds,
            below=below,
            prefix=prefix,
            tooltip=f"{label}: selection rate {rate(value)}" + (f" ({interval(bounds)})" if bounds else ""),
            metric="selection_rate",
        )
        figure = rate(value) + (f" ({interval(bounds)})" if bounds else "")
        svg.text(
            WIDTH - value_width + 4,
            centre + 4,
            figure,
            fill=BELOW_FILL if below else INK,
            font_weight="600" if below else "400",
        )
    if line_at is not None:
        x = left + min(line_at, 1.0) * plot
        svg.line(x, top - 4, x, bottom, LINE, 2, stroke_dasharray="6 4", class_="four-fifths")
        svg.text(x, top - 8, f"{min_ratio:g} × highest", anchor="middle", fill=LINE, font_weight="600")
    y = bottom + 34
    # legend
    svg.add(f'<rect x="{_num(left)}" y="{_num(y - 10)}" width="14" height="10" fill="{BAR_FILL}"/>')
    svg.text(left + 20, y, "at or above the line", fill=QUIET)
    svg.add(f'<rect x="{_num(left + 150)}" y="{_num(y - 10)}" width="14" height="10" fill="url(#{prefix}-below)"/>')
    svg.text(left + 170, y, "below the line", fill=QUIET)
    svg.line(left + 280, y - 5, left + 300, y - 5, INK, 1.5)
    svg.line(left + 280, y - 9, left + 280, y - 1, INK, 1.5)
    svg.line(left + 300, y - 9, left + 300, y - 1, INK, 1.5)
    svg.text(left + 306, y, "95% interval", fill=QUIET)
    svg.line(left + 400, y - 5, left + 420, y - 5, LINE, 2, stroke_dasharray="6 4")
    svg.text(left + 426, y, f"{min_ratio:g} × highest rate", fill=QUIET)

    # 2. Equalized odds: TPR and FPR side by side ---------------------------------------------------------
    y += 40
    svg.line(0, y - 22, WIDTH, y - 22, GRID)
    svg.text(0, y, "Equalized odds: error rates by group", font_weight="600")
    y += 17
    limit = f" The policy allows a gap of at most {max_odds_difference:g}." if max_odds_difference is not None else ""
    svg.text(0, y, f"The gap is the largest difference between two groups' rates.{limit}", fill=QUIET)
    y += 24
    gap_between = 40.0
    panel = (WIDTH - left - gap_between - 12) / 2
    panels = (
        ("tpr", "True positive rate", f"outcome {positive!r}: share predicted {positive!r}"),
        ("fpr", "False positive rate", f"outcome not {positive!r}: share predicted {positive!r}"),
    )
    heading = y
    top = heading + 34
    bottom = top + ROW * len(groups)
    svg.text(left - 10, top - 6, header, anchor="end", fill=QUIET, font_weight="600")
    for index, (label, text) in enumerate(zip(labels, shown, strict=True)):
        centre = top + ROW * index + ROW / 2
        svg.add(f'<g class="group" data-group={_attr(label)}><title>{_text(label)}</title>')
        svg.text(left - 10, centre + 4, text, anchor="end", fill=INK)
        svg.add("</g>")
    for number, (metric, title, subtitle) in enumerate(panels):
        x0 = left + number * (panel + gap_between)
        values = [_finite(g.get(metric)) for g in groups]
        present = [v for v in values if v is not None]
        gap = max(present) - min(present) if len(present) > 1 else None
        too_wide = gap is not None and max_odds_difference is not None and gap > max_odds_difference + 1e-12
        svg.text(x0, heading, title, font_weight="600")
        svg.text(
            x0 + panel,
            heading,
            f"gap {gap:.3f}" if gap is not None else "gap n/a",
            anchor="end",
            fill=LINE if too_wide else INK,
            font_weight="600",
        )
        svg.text(x0, heading + 15, subtitle, fill=QUIET, font_size="11")
        _axis(svg, x0, panel, top, bottom)
        for index, (group, label, value) in enumerate(zip(groups, labels, values, strict=True)):
            bounds = _bounds(group, metric)
            _bar(
                svg,
                left=x0,
                width=panel,
                y=top + ROW * index + ROW / 2,
                value=value,
                bounds=bounds,
                below=False,
                prefix=prefix,
                tooltip=f"{label}: {title.lower()} {rate(value)}" + (f" ({interval(bounds)})" if bounds else ""),
                metric=metric,
            )
    height = bottom + 30

    summary = (
        f"Selection rate, true positive rate and false positive rate of {len(groups)} groups by {header}, "
        "with 95% intervals."
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="fairness-chart" role="img" '
        f'viewBox="0 0 {WIDTH} {_num(height)}" width="{WIDTH}" height="{_num(height)}" '
        f'font-family={_attr(FONT)} font-size="{FONT_SIZE}" aria-labelledby="{prefix}-title {prefix}-desc">'
        f'<title id="{prefix}-title">Fairness audit charts</title>'
        f'<desc id="{prefix}-desc">{_text(summary)}</desc>'
        f'<defs><pattern id="{prefix}-below" width="6" height="6" patternUnits="userSpaceOnUse" '
        f'patternTransform="rotate(45)"><rect width="6" height="6" fill="{BELOW_FILL}"/>'
        f'<line x1="0" y1="0" x2="0" y2="6" stroke="#ffffff" stroke-width="2.5"/></pattern></defs>'
        f'<rect width="100%" height="100%" fill="#ffffff"/>' + "".join(svg.parts) + "</svg>"
    )
