"""The pieces several LLMOps pages show alike, as plain data: chat messages with their {{variables}} marked, an
item's variables, a run's scores in one line, timestamps and the addresses of the custom pages.

Why here and not in the admin: presenters build on them and must not import the admin (the admin imports the
presenters); the admin's own columns render the same data with the same templates (admin/llmops/includes/)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TypedDict

from django.urls import reverse
from django.utils.http import urlencode
from django.utils.text import Truncator

from llmops.models import EvaluationRun, PromptVersion
from llmops.services import prompts
from registry.admin.kit import EMPTY, admin_url, audit_trail_url
from registry.tones import Tone

__all__ = ["EMPTY", "admin_url", "audit_trail_url"]  # the kit's plain-text helpers, for the presenters

# Labels are free names: the two every team uses have tones of their own, any other is a plain dark grey.
LABEL_TONES = {"production": Tone.SUCCESS, "staging": Tone.WARNING}


class Piece(TypedDict):
    text: str
    variable: bool  # a {{variable}} placeholder: marked on the page


class Message(TypedDict):
    role: str
    pieces: list[Piece]


class Content(TypedDict):
    """A prompt's or a call's content: chat messages, or (``messages`` None) one text."""

    messages: list[Message] | None
    text: list[Piece]


class Label(TypedDict):
    text: str
    tone: str  # a registry.tones.Tone value: the badge's class


class Variable(TypedDict):
    name: str
    value: str  # cut to the page's limit
    full: str  # cut to 1,000 characters: shown on hover


class ScorePart(TypedDict):
    title: str
    text: str


def utc_text(value: datetime | None) -> str:
    """A timestamp as compliance reports write it: 2026-02-01 09:00 UTC (registry.admin.kit.when, as text)."""
    if value is None:
        return EMPTY
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M") + " UTC"


def label(name: str, version: int | None = None) -> Label:
    text = name if version is None else f"{name} → v{version}"
    return {"text": text, "tone": LABEL_TONES.get(name, Tone.SECONDARY).value}


def highlight(text: str) -> list[Piece]:
    """Prompt text cut at its {{variables}}, each placeholder a piece of its own."""
    pieces: list[Piece] = []
    last = 0
    for match in prompts.PLACEHOLDER.finditer(text):
        pieces.append({"text": text[last : match.start()], "variable": False})
        pieces.append({"text": match.group(0), "variable": True})
        last = match.end()
    pieces.append({"text": text[last:], "variable": False})
    return pieces


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


def plain(text: str) -> list[Piece]:
    return [{"text": text, "variable": False}]


def messages_content(messages, *, highlighted: bool = False) -> Content:
    """Chat messages as a reader wants them: the role, then the text (its variables marked when ``highlighted``)."""
    rows: list[Message] = []
    for message in messages:
        role = str(message.get("role", "")) if isinstance(message, dict) else ""
        text = content_text(message.get("content") if isinstance(message, dict) else message)
        rows.append({"role": role, "pieces": highlight(text) if highlighted else plain(text)})
    return {"messages": rows, "text": []}


def text_content(text: str, *, highlighted: bool = False) -> Content:
    return {"messages": None, "text": highlight(text) if highlighted else plain(text)}


def version_content(version: PromptVersion) -> Content:
    if version.kind == PromptVersion.Kind.TEXT:
        return text_content(version.text, highlighted=True)
    return messages_content(version.messages, highlighted=True)


def variables(values: dict, limit: int = 200) -> list[Variable]:
    return [
        {"name": name, "value": Truncator(str(value)).chars(limit), "full": Truncator(str(value)).chars(1000)}
        for name, value in (values or {}).items()
    ]


def percent(value: float | None) -> str:
    return EMPTY if value is None else f"{value:.0%}"


def score_parts(run: EvaluationRun) -> list[ScorePart]:
    """A run's scores in one line: each evaluator's pass rate (or mean), its mean on hover."""
    parts: list[ScorePart] = []
    for name, values in (run.aggregates or {}).items():
        rate = values.get("pass_rate")
        mean = values.get("mean")
        if rate is None and mean is None:
            continue
        title = f"{name}: mean {mean:.3f}" if mean is not None else name
        text = f"{name} {percent(rate)}" if rate is not None else f"{name} {mean:.2f}"
        parts.append({"title": title, "text": text})
    return parts


def run_label(run: EvaluationRun) -> str:
    return f"run #{run.pk} · {run.prompt_version} · {run.model}"


def versions_url(template_id: int) -> str:
    return reverse("admin:llmops_promptversion_changelist") + f"?template__id__exact={template_id}"


def diff_url(template_id: int, a: int, b: int) -> str:
    return reverse("admin:llmops_prompttemplate_diff", args=[template_id]) + "?" + urlencode({"a": a, "b": b})


def compare_url(a: int, b: int) -> str:
    return reverse("admin:llmops_evaluationrun_compare") + "?" + urlencode({"a": a, "b": b})
