"""Display helpers the LLMOps admins share: label badges, costs and prices, chat messages with their
{{variables}} marked, tags, scores, and the addresses of the custom pages."""

from __future__ import annotations

import json
from decimal import Decimal

from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.text import Truncator

from llmops import charts
from llmops.models import (
    EvaluationRun,
    PromptVersion,
)
from llmops.services import prompts
from registry.admin.kit import (
    EMPTY,
    badge,
)
from registry.tones import Tone

# Labels are free names: the two every team uses have tones of their own, any other is a plain dark grey.
LABEL_TONES = {"production": Tone.SUCCESS, "staging": Tone.WARNING}


# Display helpers -----------------------------------------------------------------------------------


def label_badge(name: str, version: int | None = None):
    return badge(name if version is None else f"{name} → v{version}", LABEL_TONES.get(name, Tone.SECONDARY))


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


def highlighted(text: str):
    """Prompt text with its {{variables}} marked, every piece escaped."""
    pieces, last = [], 0
    for match in prompts.PLACEHOLDER.finditer(text):
        pieces.append(format_html("{}", text[last : match.start()]))
        pieces.append(format_html('<mark class="llm-var">{}</mark>', match.group(0)))
        last = match.end()
    pieces.append(format_html("{}", text[last:]))
    return format_html_join("", "{}", ((piece,) for piece in pieces))


def content_text(content) -> str:
    """A chat message's content as text: a string as is, the text of a list of parts, else JSON."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for part in content:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                texts.append(part["text"])
            else:
                kind = part.get("type", "part") if isinstance(part, dict) else "part"
                texts.append(f"[{kind}]")
        return "\n".join(texts)
    return json.dumps(content, ensure_ascii=False)


def messages_html(messages, *, highlight: bool = False):
    """Chat messages as a reader wants them: the role, then the text, line breaks kept."""
    rows = []
    for message in messages:
        role = str(message.get("role", "")) if isinstance(message, dict) else ""
        text = content_text(message.get("content") if isinstance(message, dict) else message)
        rows.append((role, highlighted(text) if highlight else text))
    body = format_html_join("", '<div class="llm-message"><span class="llm-role">{}</span><pre>{}</pre></div>', rows)
    return format_html('<div class="llm-messages">{}</div>', body)


def version_content(version: PromptVersion):
    if version.kind == PromptVersion.Kind.TEXT:
        return format_html('<div class="llm-messages"><pre>{}</pre></div>', highlighted(version.text))
    return messages_html(version.messages, highlight=True)


def variables_html(variables: dict, limit: int = 200):
    if not variables:
        return EMPTY
    return format_html_join(
        "",
        '<div class="llm-kv" title="{}"><strong>{}</strong>: {}</div>',
        (
            (Truncator(str(value)).chars(1000), name, Truncator(str(value)).chars(limit))
            for name, value in variables.items()
        ),
    )


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


def percent(value: float | None) -> str:
    return EMPTY if value is None else f"{value:.0%}"


def versions_url(template_id: int) -> str:
    return reverse("admin:llmops_promptversion_changelist") + f"?template__id__exact={template_id}"


def diff_url(template_id: int, a: int, b: int) -> str:
    return reverse("admin:llmops_prompttemplate_diff", args=[template_id]) + "?" + urlencode({"a": a, "b": b})


def aggregates_summary(run: EvaluationRun):
    parts = []
    for name, values in (run.aggregates or {}).items():
        rate = values.get("pass_rate")
        mean = values.get("mean")
        if rate is None and mean is None:
            continue
        title = f"{name}: mean {mean:.3f}" if mean is not None else name
        text = f"{name} {percent(rate)}" if rate is not None else f"{name} {mean:.2f}"
        parts.append((title, text))
    if not parts:
        return EMPTY
    return format_html_join(" · ", '<span title="{}" class="nowrap">{}</span>', parts)


def compare_url(a: int, b: int) -> str:
    return reverse("admin:llmops_evaluationrun_compare") + "?" + urlencode({"a": a, "b": b})


def run_label(run: EvaluationRun) -> str:
    return f"run #{run.pk} · {run.prompt_version} · {run.model}"
