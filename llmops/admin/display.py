"""Display helpers the LLMOps admins share: label badges, costs and prices, tags and scores; chat messages,
variables and a run's scores drawn from llmops.presenters.content's data with the custom pages' own templates
(admin/llmops/includes/), so a column and a page show them alike."""

from __future__ import annotations

from decimal import Decimal

from django.template.loader import render_to_string
from django.utils.html import format_html, format_html_join

from llmops import charts
from llmops.models import EvaluationRun, PromptVersion
from llmops.presenters import content
from registry.admin.kit import EMPTY, badge
from registry.tones import Tone


def label_badge(name: str, version: int | None = None):
    shown = content.label(name, version)
    return badge(shown["text"], shown["tone"])


def labels_html(labels) -> str:
    return format_html_join(" ", "{}", ((label_badge(label.name, label.version.version),) for label in labels))


def money(value: Decimal | None, *, unpriced_badge: bool = True):
    """A cost with its exact value on hover, or a red "unpriced" badge (never $0)."""
    if value is None:
        return badge("unpriced", Tone.DANGER) if unpriced_badge else "unpriced"
    return format_html(
        '<span class="nowrap text-numeric" title="{}">{}</span>',
        charts.usd(value, exact=True),
        charts.usd(value),
    )


def price_text(value: Decimal) -> str:
    """A price per million tokens: $2.50, $0.075 (cents always shown, no trailing zeros past them)."""
    cents = value.quantize(Decimal("0.01"))
    return f"${cents:f}" if cents == value else f"${value.normalize():f}"


def per_million(value: Decimal | None, *, default: str = ""):
    if value is None:
        return format_html('<span class="text-muted">{}</span>', default) if default else EMPTY
    return format_html('<span class="text-numeric">{}</span>', price_text(value))


def content_html(shown: content.Content, *, extra_class: str = ""):
    return render_to_string("admin/llmops/includes/content.html", {"content": shown, "extra_class": extra_class})


def messages_html(messages):
    """Chat messages as a reader wants them: the role, then the text, line breaks kept."""
    return content_html(content.messages_content(messages))


def version_content(version: PromptVersion):
    """A prompt version's content, its {{variables}} marked."""
    return content_html(content.version_content(version))


def variables_html(variables: dict, limit: int = 200):
    return render_to_string(
        "admin/llmops/includes/variables.html", {"variables": content.variables(variables, limit=limit)}
    )


def aggregates_summary(run: EvaluationRun):
    """A run's scores in one line: each evaluator's pass rate (or mean), its mean on hover."""
    return render_to_string("admin/llmops/includes/scores.html", {"parts": content.score_parts(run)})


def tags_html(tags) -> str:
    if not tags:
        return EMPTY
    return format_html_join(" ", '<span class="llm-tag">{}</span>', ((tag,) for tag in tags))


def score_cell(value: float | None, passed: bool | None, title: str = ""):
    if value is None:
        return EMPTY
    outcome = {True: " score-pass", False: " score-fail"}.get(passed, "")
    mark = {True: "✓", False: "✗"}.get(passed, "")
    return format_html(
        '<span class="score-cell{}" title="{}">{} {}</span>',
        outcome,
        title,
        f"{value:.2f}",
        mark,
    )
