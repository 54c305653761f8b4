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

from registry.svg import (
    CHAR_WIDTH,
    FONT,
    FONT_SIZE,
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

ROW = 26
BAR = 14
TICKS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)

# Colours that keep apart in greyscale print (with registry.svg's ink): mid blue bars, a dark orange hatched bar.
BAR_FILL = "#4f7cac"
BELOW_FILL = "#c2410c"
LINE = "#b91c1c"


def rate(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def interval(bounds: Sequence[float] | None) -> str:
    return "" if not bounds else f"{bounds[0]:.3f}–{bounds[1]:.3f}"


def group_label(group: dict) -> str:
    """A group's values joined ("Black, Male"); the attribute names head the label column."""
    return ", ".join("(missing)" if value is None else str(value) for value in group.values())


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


def _axis(svg: Svg, left: float, width: float, top: float, bottom: float) -> None:
    """Grid lines and tick labels from 0 to 1 under a panel."""
    for tick in TICKS:
        x = left + tick * width
        svg.line(x, top, x, bottom, GRID)
        svg.line(x, bottom, x, bottom + 4, QUIET)
        svg.text(x, bottom + 16, f"{tick:.1f}", anchor="middle", fill=QUIET)
    svg.line(left, bottom, left + width, bottom, QUIET)


def _bar(
    svg: Svg,
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
    title = f"<title>{xml_text(tooltip)}</title>"
    if value is None:
        svg.text(left + 4, y + 4, "no data", fill=QUIET, font_style="italic")
        return
    fill = f"url(#{prefix}-below)" if below else BAR_FILL
    svg.add(
        f'<rect class="bar" data-metric={xml_attr(metric)} x="{num(left)}" y="{num(y - BAR / 2)}" '
        f'width="{num(max(value, 0.0) * width)}" height="{BAR}" fill="{fill}">{title}</rect>'
    )
    if bounds is not None:
        low, high = (left + min(max(b, 0.0), 1.0) * width for b in bounds)
        svg.add(
            f'<g class="whisker" stroke="{INK}" stroke-width="1.5">{title}'
            f'<line x1="{num(low)}" y1="{num(y)}" x2="{num(high)}" y2="{num(y)}"/>'
            f'<line x1="{num(low)}" y1="{num(y - 5)}" x2="{num(low)}" y2="{num(y + 5)}"/>'
            f'<line x1="{num(high)}" y1="{num(y - 5)}" x2="{num(high)}" y2="{num(y + 5)}"/></g>'
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
    shown = [f"{shorten(label)} (n={g.get('count', 0):,})" for label, g in zip(labels, groups, strict=True)]
    label_width = min(max(110.0, CHAR_WIDTH * max([len(header), *map(len, shown)]) + 16), 290.0)
    value_width = 150.0
    left = label_width
    plot = WIDTH - left - value_width - 12
    svg = Svg()

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
        svg.add(f'<g class="group" data-group={xml_attr(label)}><title>{xml_text(label)}</title>')
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
    svg.add(f'<rect x="{num(left)}" y="{num(y - 10)}" width="14" height="10" fill="{BAR_FILL}"/>')
    svg.text(left + 20, y, "at or above the line", fill=QUIET)
    svg.add(f'<rect x="{num(left + 150)}" y="{num(y - 10)}" width="14" height="10" fill="url(#{prefix}-below)"/>')
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
        svg.add(f'<g class="group" data-group={xml_attr(label)}><title>{xml_text(label)}</title>')
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
        f'viewBox="0 0 {WIDTH} {num(height)}" width="{WIDTH}" height="{num(height)}" '
        f'font-family={xml_attr(FONT)} font-size="{FONT_SIZE}" aria-labelledby="{prefix}-title {prefix}-desc">'
        f'<title id="{prefix}-title">Fairness audit charts</title>'
        f'<desc id="{prefix}-desc">{xml_text(summary)}</desc>'
        f'<defs><pattern id="{prefix}-below" width="6" height="6" patternUnits="userSpaceOnUse" '
        f'patternTransform="rotate(45)"><rect width="6" height="6" fill="{BELOW_FILL}"/>'
        f'<line x1="0" y1="0" x2="0" y2="6" stroke="#ffffff" stroke-width="2.5"/></pattern></defs>'
        f'<rect width="100%" height="100%" fill="#ffffff"/>' + "".join(svg.parts) + "</svg>"
    )


# Drift and performance reports ----------------------------------------------------------------------
#
# `drift_psi_chart_svg` draws one horizontal PSI bar per feature with a dashed line at the policy's
# `max_psi`; `drift_feature_svg` a small paired histogram of one feature (reference share beside window
# share per bin, or per category for the ten largest categories); `performance_chart_svg` accuracy per
# window over time with the baseline and the floor. Feature names and categories are clients' data:
# everything placed in the SVG goes through `xml_text` or `xml_attr`, as above.

REFERENCE_FILL = "#9ca3af"  # grey: the training data
WINDOW_FILL = BAR_FILL  # blue: the window
BASELINE = "#15803d"
SMALL_WIDTH = 430
TOP_CATEGORIES = 10


def _svg_document(svg: Svg, *, width: float, height: float, css_class: str, prefix: str, title: str, desc: str) -> str:
    """A report chart's document, with the hatch pattern of the bars past a threshold."""
    defs = (
        f'<defs><pattern id="{prefix}-above" width="6" height="6" patternUnits="userSpaceOnUse" '
        f'patternTransform="rotate(45)"><rect width="6" height="6" fill="{BELOW_FILL}"/>'
        f'<line x1="0" y1="0" x2="0" y2="6" stroke="#ffffff" stroke-width="2.5"/></pattern></defs>'
    )
    return svg_document(
        svg, width=width, height=height, css_class=css_class, prefix=prefix, title=title, desc=desc, defs=defs
    )


def compact(value: float) -> str:
    """A bin edge in a few characters: 3 significant digits, k and M for thousands and millions."""
    value = float(value)
    if not math.isfinite(value):
        return str(value)
    magnitude = abs(value)
    for size, suffix in ((1e6, "M"), (1e3, "k")):
        if magnitude >= size * 10:
            return f"{value / size:.3g}{suffix}"
    return f"{value:.4g}"  # 4 digits: years (2013) stay whole


def drift_psi_chart_svg(features: dict, *, max_psi: float | None, id_prefix: str = "psi-chart") -> str:
    """PSI per feature (highest first) as horizontal bars, with a dashed vertical line at the policy's
    `max_psi`; bars beyond it are hatched orange, so the chart reads in black and white too."""
    prefix = safe_id(id_prefix, "psi-chart")
    names = sorted(features, key=lambda n: (-(_finite(features[n].get("psi")) or -1.0), str(n)))
    values = {name: _finite(features[name].get("psi")) for name in names}
    known = [v for v in values.values() if v is not None]
    axis_end = nice_ceiling(max([*known, (max_psi or 0.0) * 1.25, 0.05]))
    shown = [shorten(str(name)) for name in names]
    label_width = min(max(110.0, CHAR_WIDTH * max([7, *map(len, shown)]) + 16), 290.0)
    value_width = 110.0
    left = label_width
    plot = WIDTH - left - value_width - 12
    svg = Svg()
    y = 22.0
    svg.text(0, y, "Population stability index (PSI) per feature: window against the training data", font_weight="600")
    y += 17
    if max_psi is not None:
        svg.text(
            0,
            y,
            f"Dashed line: the policy's limit, PSI {max_psi:g}. Hatched bars exceed it: those features have drifted.",
            fill=QUIET,
        )
    y += 22
    svg.text(left - 10, y, "feature", anchor="end", fill=QUIET, font_weight="600")
    svg.text(WIDTH - value_width + 4, y, "PSI", fill=QUIET, font_weight="600")
    top = y + 8
    bottom = top + ROW * max(len(names), 1)
    ticks = [axis_end * i / 5 for i in range(6)]
    for tick in ticks:
        x = left + tick / axis_end * plot
        svg.line(x, top, x, bottom, GRID)
        svg.line(x, bottom, x, bottom + 4, QUIET)
        svg.text(x, bottom + 16, f"{tick:.3g}", anchor="middle", fill=QUIET)
    svg.line(left, bottom, left + plot, bottom, QUIET)
    for index, (name, text) in enumerate(zip(names, shown, strict=True)):
        centre = top + ROW * index + ROW / 2
        value = values[name]
        above = value is not None and max_psi is not None and value > max_psi
        svg.add(f'<g class="feature" data-feature={xml_attr(name)}><title>{xml_text(name)}</title>')
        svg.text(left - 10, centre + 4, text, anchor="end", fill=INK)
        svg.add("</g>")
        if value is None:
            status = features[name].get("status") or "no data"
            svg.text(left + 4, centre + 4, status, fill=QUIET, font_style="italic")
            svg.text(WIDTH - value_width + 4, centre + 4, "n/a", fill=QUIET)
            continue
        fill = f"url(#{prefix}-above)" if above else BAR_FILL
        width = min(max(value, 0.0), axis_end) / axis_end * plot
        svg.add(
            f'<rect class="psi-bar" data-feature={xml_attr(name)} x="{num(left)}" y="{num(centre - BAR / 2)}" '
            f'width="{num(max(width, 1.0))}" height="{BAR}" fill="{fill}"><title>{xml_text(f"{name}: PSI {value:.3f}")}'
            "</title></rect>"
        )
        svg.text(
            WIDTH - value_width + 4,
            centre + 4,
            f"{value:.3f}" + ("  drifted" if above else ""),
            fill=BELOW_FILL if above else INK,
            font_weight="600" if above else "400",
        )
    if max_psi is not None:
        x = left + min(max_psi, axis_end) / axis_end * plot
        svg.line(x, top - 4, x, bottom, LINE, 2, stroke_dasharray="6 4", class_="threshold")
        svg.text(x + 4, top - 8, f"limit {max_psi:g}", fill=LINE, font_weight="600")
    height = bottom + 30
    drifted = [str(n) for n in names if values[n] is not None and max_psi is not None and values[n] > max_psi]
    desc = f"PSI of {len(names)} features; " + (f"drifted: {', '.join(drifted)}." if drifted else "none drifted.")
    return _svg_document(
        svg, width=WIDTH, height=height, css_class="psi-chart", prefix=prefix, title="PSI per feature", desc=desc
    )


def _shares(counts: Sequence[float]) -> list[float]:
    total = float(sum(counts))
    return [float(c) / total if total else 0.0 for c in counts]


def _legend(svg: Svg, x: float, y: float) -> None:
    svg.add(f'<rect x="{num(x)}" y="{num(y - 9)}" width="10" height="10" fill="{REFERENCE_FILL}"/>')
    svg.text(x + 14, y, "training data", fill=QUIET, font_size="11")
    svg.add(f'<rect x="{num(x + 100)}" y="{num(y - 9)}" width="10" height="10" fill="{WINDOW_FILL}"/>')
    svg.text(x + 114, y, "window", fill=QUIET, font_size="11")


def drift_feature_svg(name: str, result: dict, *, max_psi: float | None = None, id_prefix: str = "feature") -> str:
    """One feature's distributions side by side: for a numeric feature, the share of the training data and
    of the window in each of the profile's bins (columns, with the bin edges beneath); for a categorical
    feature, horizontal paired bars for its ten largest categories. Empty when there is nothing to draw."""
    prefix = safe_id(id_prefix, "feature")
    psi_value = _finite(result.get("psi"))
    svg = Svg()
    drifted = psi_value is not None and max_psi is not None and psi_value > max_psi
    heading = shorten(str(name))
    svg.add(f'<g class="heading"><title>{xml_text(name)}</title>')
    svg.text(0, 16, heading, font_weight="600", fill=INK)
    svg.add("</g>")
    if psi_value is not None:
        svg.text(
            SMALL_WIDTH,
            16,
            f"PSI {psi_value:.3f}" + (" · drifted" if drifted else ""),
            anchor="end",
            fill=BELOW_FILL if drifted else QUIET,
            font_weight="600",
        )
    _legend(svg, 0, 34)
    if result.get("kind") == "numeric" and result.get("reference_bins") and result.get("window_bins"):
        reference = _shares(result["reference_bins"])
        window = _shares(result["window_bins"])
        edges = list(result.get("bin_edges") or [])
        top, bottom, left, right = 48.0, 168.0, 34.0, SMALL_WIDTH - 18
        highest = nice_ceiling(max([*reference, *window, 0.01]))
        for i in range(3):
            tick = highest * i / 2
            y = bottom - tick / highest * (bottom - top)
            svg.line(left, y, right, y, GRID)
            svg.text(left - 4, y + 4, f"{tick:.0%}", anchor="end", fill=QUIET, font_size="10")
        slot = (right - left) / len(reference)
        bar = max(min(slot * 0.4, 18.0), 1.0)
        for index, (ref, win) in enumerate(zip(reference, window, strict=True)):
            x = left + slot * index + slot / 2
            low = compact(edges[index]) if index < len(edges) else "?"
            high = compact(edges[index + 1]) if index + 1 < len(edges) else "?"
            tip = f"{name}, {low} to {high}: training {ref:.1%}, window {win:.1%}"
            for offset, share, fill, css in (
                (-bar, ref, REFERENCE_FILL, "reference"),
                (0.0, win, WINDOW_FILL, "window"),
            ):
                h = share / highest * (bottom - top)
                svg.add(
                    f'<rect class="{css}" x="{num(x + offset)}" y="{num(bottom - h)}" width="{num(bar)}" '
                    f'height="{num(h)}" fill="{fill}"><title>{xml_text(tip)}</title></rect>'
                )
        svg.line(left, bottom, right, bottom, QUIET)
        # edges beneath the boundaries between bins (the outer ones are the training data's min and max)
        step = 1 if len(edges) <= 8 else 2
        for index, edge in enumerate(edges):
            if index % step and index != len(edges) - 1:
                continue
            x = left + slot * index
            svg.line(x, bottom, x, bottom + 4, QUIET)
            svg.text(x, bottom + 15, compact(edge), anchor="middle", fill=QUIET, font_size="10")
        height = bottom + 24
        desc = f"Distribution of {name} in the training data and the window, over {len(reference)} bins."
    elif result.get("kind") == "categorical" and result.get("categories"):
        categories = [str(c) for c in result["categories"]]
        reference = _shares(result.get("reference_frequencies") or [0] * len(categories))
        window = _shares(result.get("window_frequencies") or [0] * len(categories))
        new = set(str(c) for c in result.get("new_categories") or [])
        order = sorted(range(len(categories)), key=lambda i: (-max(reference[i], window[i]), categories[i]))
        chosen = order[:TOP_CATEGORIES]
        labels = [shorten(categories[i])[:20] + (" (new)" if categories[i] in new else "") for i in chosen]
        left = min(max(70.0, CHAR_WIDTH * 0.9 * max([4, *map(len, labels)]) + 10), 170.0)
        right = SMALL_WIDTH - 44
        highest = nice_ceiling(max([*reference, *window, 0.01]))
        top = 46.0
        row = 22.0
        bottom = top + row * len(chosen)
        for i in range(3):
            tick = highest * i / 2
            x = left + tick / highest * (right - left)
            svg.line(x, top, x, bottom, GRID)
            svg.text(x, bottom + 13, f"{tick:.0%}", anchor="middle", fill=QUIET, font_size="10")
        for position, (i, label) in enumerate(zip(chosen, labels, strict=True)):
            y = top + row * position
            tip = f"{name} = {categories[i]}: training {reference[i]:.1%}, window {window[i]:.1%}"
            svg.add(f'<g class="category" data-category={xml_attr(categories[i])}><title>{xml_text(tip)}</title>')
            svg.text(left - 6, y + 14, label, anchor="end", fill=INK, font_size="11")
            for offset, share, fill, css in (
                (3.0, reference[i], REFERENCE_FILL, "reference"),
                (11.0, window[i], WINDOW_FILL, "window"),
            ):
                svg.add(
                    f'<rect class="{css}" x="{num(left)}" y="{num(y + offset)}" '
                    f'width="{num(share / highest * (right - left))}" height="8" fill="{fill}"/>'
                )
            svg.text(right + 4, y + 14, f"{window[i]:.0%}", fill=QUIET, font_size="10")
            svg.add("</g>")
        svg.line(left, top, left, bottom, QUIET)
        more = len(categories) - len(chosen)
        height = bottom + 20
        if more > 0:
            svg.text(
                0, height + 4, f"and {more} smaller categor{'y' if more == 1 else 'ies'}", fill=QUIET, font_size="11"
            )
            height += 10
        desc = f"Shares of the {len(chosen)} largest categories of {name} in the training data and the window."
    else:
        svg.text(0, 56, result.get("status") or "nothing to compare", fill=QUIET, font_style="italic")
        height = 66.0
        desc = f"{name}: {result.get('status') or 'nothing to compare'}."
    return _svg_document(
        svg,
        width=SMALL_WIDTH,
        height=height,
        css_class="feature-chart",
        prefix=prefix,
        title=f"Distribution of {name}",
        desc=desc,
    )


def _parse_time(text: str):
    from datetime import datetime

    return datetime.fromisoformat(text)


def performance_chart_svg(
    windows: Sequence[dict],
    *,
    baseline: float,
    floor: float | None,
    bucket: str = "week",
    metric: str = "accuracy",
    id_prefix: str = "performance-chart",
) -> str:
    """Accuracy per window as a line over time, with the validation baseline (solid green) and the floor
    (dashed red, baseline minus the policy's allowed drop); points below the floor are red squares."""
    prefix = safe_id(id_prefix, "performance-chart")
    points = [(_parse_time(w["start"]), _finite(w.get("accuracy")), w) for w in windows if w.get("start")]
    svg = Svg()
    left, right, top, bottom = 58.0, WIDTH - 150.0, 62.0, 322.0
    svg.text(0, 22, f"Live {metric} per {bucket}, against the validation {metric}", font_weight="600")
    if floor is not None:
        svg.text(
            0,
            39,
            f"Green line: validation {metric} {baseline:.3f}. Dashed red line: the floor the policy allows, "
            f"{floor:.3f}. "
            "Red squares: windows below the floor.",
            fill=QUIET,
        )
    values = [v for _, v, _ in points if v is not None] + [baseline] + ([floor] if floor is not None else [])
    low = max(0.0, math.floor((min(values) - 0.02) * 20) / 20)
    high = min(1.0, math.ceil((max(values) + 0.02) * 20) / 20)
    if high - low < 0.1:
        high = min(1.0, low + 0.1)
        low = high - 0.1

    def y_of(value: float) -> float:
        return bottom - (value - low) / (high - low) * (bottom - top)

    step = 0.05 if high - low <= 0.3 else 0.1
    tick = math.ceil(low / step - 1e-9) * step  # round ticks: 0.3, 0.4 (not 0.25, 0.35)
    while tick <= high + 1e-9:
        y = y_of(tick)
        svg.line(left, y, right, y, GRID)
        svg.text(left - 6, y + 4, f"{tick:.2f}", anchor="end", fill=QUIET)
        tick += step
    svg.line(left, bottom, right, bottom, QUIET)
    svg.line(left, top, left, bottom, QUIET)
    svg.text(
        14,
        (top + bottom) / 2,
        metric,
        anchor="middle",
        fill=QUIET,
        transform=f"rotate(-90 14 {num((top + bottom) / 2)})",
    )

    times = [t.timestamp() for t, _, _ in points]
    first, last = (min(times), max(times)) if times else (0.0, 1.0)
    pad = (right - left) * 0.04

    def x_of(moment) -> float:
        if last == first:
            return (left + right) / 2
        return left + pad + (moment.timestamp() - first) / (last - first) * (right - left - 2 * pad)

    # x labels: at most 8, evenly chosen among the windows
    every = max(1, math.ceil(len(points) / 8))
    for index, (moment, _, _) in enumerate(points):
        if index % every and index != len(points) - 1:
            continue
        x = x_of(moment)
        svg.line(x, bottom, x, bottom + 4, QUIET)
        svg.text(x, bottom + 17, moment.strftime("%Y-%m-%d"), anchor="middle", fill=QUIET)
    svg.text((left + right) / 2, bottom + 36, f"start of the {bucket} (UTC)", anchor="middle", fill=QUIET)

    svg.line(left, y_of(baseline), right, y_of(baseline), BASELINE, 2, class_="baseline")
    svg.text(right + 6, y_of(baseline) + 4, f"validation {baseline:.3f}", fill=BASELINE, font_weight="600")
    if floor is not None and low <= floor <= high:
        svg.line(left, y_of(floor), right, y_of(floor), LINE, 2, stroke_dasharray="6 4", class_="floor")
        svg.text(right + 6, y_of(floor) + 4, f"floor {floor:.3f}", fill=LINE, font_weight="600")

    drawn = [(x_of(t), y_of(v), v, w) for t, v, w in points if v is not None]
    if len(drawn) > 1:
        path = " ".join(f"{'M' if i == 0 else 'L'}{num(x)} {num(y)}" for i, (x, y, _, _) in enumerate(drawn))
        svg.add(f'<path d="{path}" fill="none" stroke="{BAR_FILL}" stroke-width="2"/>')
    below_count = 0
    for x, y, value, window in drawn:
        below = floor is not None and value < floor
        below_count += below
        auc = _finite(window.get("auc"))
        tip = f"{window['start'][:10]}: {metric} {value:.3f} on {window.get('count', 0):,} decisions" + (
            f", AUC {auc:.3f}" if auc is not None else ""
        )
        if below:
            svg.add(
                f'<rect class="point below" x="{num(x - 5)}" y="{num(y - 5)}" width="10" height="10" '
                f'fill="{LINE}" stroke="#ffffff" stroke-width="1"><title>{xml_text(tip)}</title></rect>'
            )
        else:
            svg.add(
                f'<circle class="point" cx="{num(x)}" cy="{num(y)}" r="4.5" fill="{BAR_FILL}" '
                f'stroke="#ffffff" stroke-width="1"><title>{xml_text(tip)}</title></circle>'
            )
    height = bottom + 48
    desc = f"{metric} of {len(drawn)} windows; {below_count} below the floor."
    return _svg_document(
        svg,
        width=WIDTH,
        height=height,
        css_class="performance-chart",
        prefix=prefix,
        title=f"Live {metric} over time",
        desc=desc,
    )
