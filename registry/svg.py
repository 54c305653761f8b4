"""The SVG kit every app's server-side charts are drawn with: plain strings, no JavaScript, nothing fetched.

One look (width, font, ink colours) and one set of escaping helpers, so that every piece of text a chart places
(group values, feature names, model names: clients' data) is XML-escaped the same way in governance's fairness,
drift and performance charts and in llmops' cost and comparison charts. Each chart module keeps its own colours
and layout; only what both draw with lives here.
"""

from __future__ import annotations

import math
import re
from xml.sax.saxutils import escape, quoteattr

WIDTH = 880
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
FONT_SIZE = 12
CHAR_WIDTH = 6.8  # average advance of FONT_SIZE sans-serif text, for sizing the label column
MAX_LABEL_CHARS = 30

# Ink that keeps apart in greyscale print: near-black text, grey secondary text, light grid lines.
INK = "#1f2937"
QUIET = "#4b5563"
GRID = "#d1d5db"

# Characters XML 1.0 does not allow (even escaped); a client's group value could hold them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(value: object) -> str:
    """Text content, escaped for XML (and HTML, where the SVG is inlined)."""
    return escape(_NOT_XML.sub("\ufffd", str(value)))


def xml_attr(value: object) -> str:
    """An attribute value with its quotes, escaped."""
    return quoteattr(_NOT_XML.sub("\ufffd", str(value)))


def num(value: float) -> str:
    """A coordinate in as few characters as it needs: one decimal at most, none for whole numbers."""
    return f"{value:.1f}".rstrip("0").rstrip(".") if not float(value).is_integer() else str(int(value))


def shorten(label: str) -> str:
    """A label cut to MAX_LABEL_CHARS with an ellipsis (the full text goes in a <title> beside it)."""
    return label if len(label) <= MAX_LABEL_CHARS else label[: MAX_LABEL_CHARS - 1] + "…"


def safe_id(id_prefix: str, default: str) -> str:
    """An id prefix reduced to the characters an SVG id (and its url(#...) references) may hold."""
    return re.sub(r"[^A-Za-z0-9_-]", "", id_prefix) or default


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 x 10^k at or above value (a round axis end)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= value - 1e-12:
            return step * power
    return 10 * power  # pragma: no cover - the loop ends at 10


def attr_name(keyword: str) -> str:
    """font_weight -> font-weight, class_ -> class."""
    return keyword.rstrip("_").replace("_", "-")


class Svg:
    """The parts of one SVG document, in drawing order."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def add(self, markup: str) -> None:
        self.parts.append(markup)

    def text(self, x: float, y: float, content: object, *, anchor: str = "start", **style: object) -> None:
        attrs = "".join(f" {attr_name(name)}={xml_attr(value)}" for name, value in style.items())
        self.add(f'<text x="{num(x)}" y="{num(y)}" text-anchor="{anchor}"{attrs}>{xml_text(content)}</text>')

    def line(self, x1: float, y1: float, x2: float, y2: float, stroke: str, width: float = 1, **extra: str) -> None:
        attrs = "".join(f" {attr_name(name)}={xml_attr(value)}" for name, value in extra.items())
        self.add(
            f'<line x1="{num(x1)}" y1="{num(y1)}" x2="{num(x2)}" y2="{num(y2)}" '
            f'stroke="{stroke}" stroke-width="{num(width)}"{attrs}/>'
        )


def svg_document(
    svg: Svg, *, width: float, height: float, css_class: str, prefix: str, title: str, desc: str, defs: str = ""
) -> str:
    """The whole document: its size, an accessible title and description (ids under `prefix`), the chart's own
    `defs` (hatch patterns), a white background, then the parts."""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{css_class}" role="img" '
        f'viewBox="0 0 {num(width)} {num(height)}" width="{num(width)}" '
        f'height="{num(height)}" '
        f'font-family={xml_attr(FONT)} font-size="{FONT_SIZE}" aria-labelledby="{prefix}-title {prefix}-desc">'
        f'<title id="{prefix}-title">{xml_text(title)}</title>'
        f'<desc id="{prefix}-desc">{xml_text(desc)}</desc>'
        f"{defs}"
        f'<rect width="100%" height="100%" fill="#ffffff"/>' + "".join(svg.parts) + "</svg>"
    )
