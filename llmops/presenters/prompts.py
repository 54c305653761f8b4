"""What a prompt's page shows beneath its fields (its versions and label moves) and the diff page of two versions."""

from __future__ import annotations

import json
from typing import TypedDict

from django.db.models import Prefetch
from django.urls import reverse

from llmops.models import PromptLabel, PromptLabelMove, PromptTemplate, PromptVersion
from llmops.presenters.content import (
    Content,
    Label,
    admin_url,
    audit_trail_url,
    diff_url,
    label,
    messages_content,
    utc_text,
    version_content,
)
from llmops.services import prompts


class VersionRow(TypedDict):
    number: int
    url: str
    commit: str
    author: str
    created: str
    hash: str
    labels: list[Label]
    model: str
    parameters: str
    variables: str
    kind: str
    content: Content
    diff_url: str | None
    previous: int | None


# "from" is a keyword: these TypedDicts are declared by call. A move's "from" is None when it created the label.
LabelMoveRow = TypedDict(
    "LabelMoveRow", {"label": Label, "from": str | None, "to": str, "to_url": str, "by": str, "when": str}
)


class PromptHistory(TypedDict):
    versions: list[VersionRow]
    moves: list[LabelMoveRow]
    audit_trail_url: str
    diff_base_url: str
    latest: int | None
    before_latest: int | None
    numbers: list[int]


def prompt_history(template: PromptTemplate) -> PromptHistory:
    """Every version of the prompt with its content, newest first, and every label move."""
    versions = list(
        template.versions.select_related("created_by_user", "created_by_key__project")
        .prefetch_related(Prefetch("labels", queryset=PromptLabel.objects.select_related("version")))
        .order_by("-version")
    )
    numbers = {v.version for v in versions}
    rows: list[VersionRow] = []
    for version in versions:
        previous = max((n for n in numbers if n < version.version), default=None)
        rows.append(
            {
                "number": version.version,
                "url": admin_url(version),
                "commit": version.commit_message,
                "author": version.created_by,
                "created": utc_text(version.created_at),
                "hash": version.content_sha256,
                "labels": [label(item.name) for item in version.labels.all()],
                "model": version.model,
                "parameters": json.dumps(version.parameters, sort_keys=True) if version.parameters else "",
                "variables": ", ".join(version.variables),
                "kind": version.get_kind_display(),
                "content": version_content(version),
                "diff_url": diff_url(template.pk, previous, version.version) if previous is not None else None,
                "previous": previous,
            }
        )
    moves = PromptLabelMove.objects.filter(template=template).select_related("from_version", "to_version")
    return {
        "versions": rows,
        "moves": [
            {
                "label": label(move.name),
                "from": f"v{move.from_version.version}" if move.from_version_id else None,
                "to": f"v{move.to_version.version}",
                "to_url": admin_url(move.to_version),
                "by": move.moved_by,
                "when": utc_text(move.moved_at),
            }
            for move in moves.order_by("-moved_at", "-id")
        ],
        "audit_trail_url": audit_trail_url(template),
        "diff_base_url": reverse("admin:llmops_prompttemplate_diff", args=[template.pk]),
        "latest": versions[0].version if versions else None,
        "before_latest": versions[1].version if len(versions) > 1 else None,
        "numbers": [v.version for v in versions],
    }


class DiffValue(TypedDict):
    """One side of a changed field: nothing, a text (JSON for other values), or chat messages."""

    kind: str  # "none", "text" or "messages"
    text: str
    content: Content | None


DiffRow = TypedDict("DiffRow", {"field": str, "from": DiffValue, "to": DiffValue})


class DiffLine(TypedDict):
    kind: str  # file, hunk, add, del or same: the line's class
    text: str


PromptDiff = TypedDict(
    "PromptDiff",
    {
        "from": int,
        "to": int,
        "identical": bool,
        "unified": str,
        "a_commit": str,
        "b_commit": str,
        "a_url": str,
        "b_url": str,
        "rows": list[DiffRow],
        "lines": list[DiffLine],
        "added": int,
        "removed": int,
        "swap_url": str,
    },
)


def diff_lines(unified: str) -> list[DiffLine]:
    """The unified diff's lines, each with its kind."""
    lines: list[DiffLine] = []
    for line in unified.splitlines():
        if line.startswith(("---", "+++")):
            kind = "file"
        elif line.startswith("@@"):
            kind = "hunk"
        elif line.startswith("+"):
            kind = "add"
        elif line.startswith("-"):
            kind = "del"
        else:
            kind = "same"
        lines.append({"kind": kind, "text": line})
    return lines


def _value(value) -> DiffValue:
    if value is None or value == "":
        return {"kind": "none", "text": "(none)", "content": None}
    text = value if isinstance(value, str) else json.dumps(value, indent=2, ensure_ascii=False)
    return {"kind": "text", "text": text, "content": None}


def _messages(messages) -> DiffValue:
    return {"kind": "messages", "text": "", "content": messages_content(messages)}


def diff_rows(changes: dict) -> list[DiffRow]:
    """prompt_versions_diff's field changes as table rows: a variable list, each parameter, the messages."""
    rows: list[DiffRow] = []
    for field, change in changes.items():
        if field == "variables":
            removed, added = ", ".join(change["removed"]), ", ".join(change["added"])
            rows.append(
                {
                    "field": "variables",
                    "from": _value(removed and "removed: " + removed),
                    "to": _value(added and "added: " + added),
                }
            )
        elif field == "parameters":
            for name, values in change.items():
                rows.append({"field": f"parameters.{name}", "from": _value(values["from"]), "to": _value(values["to"])})
        elif field == "messages":
            rows.append({"field": "messages", "from": _messages(change["from"]), "to": _messages(change["to"])})
        else:
            rows.append({"field": field, "from": _value(change["from"]), "to": _value(change["to"])})
    return rows


def prompt_diff(a: PromptVersion, b: PromptVersion) -> PromptDiff:
    """Version a against version b of one prompt (prompt_versions_diff), as the diff page shows it."""
    diff = prompts.prompt_versions_diff(a=a, b=b)
    lines = diff_lines(diff["unified"])
    return {
        "from": diff["from"],
        "to": diff["to"],
        "identical": diff["identical"],
        "unified": diff["unified"],
        "a_commit": a.commit_message,
        "b_commit": b.commit_message,
        "a_url": admin_url(a),
        "b_url": admin_url(b),
        "rows": diff_rows(diff["changes"]),
        "lines": lines,
        "added": sum(1 for line in lines if line["kind"] == "add"),
        "removed": sum(1 for line in lines if line["kind"] == "del"),
        "swap_url": diff_url(a.template_id, b.version, a.version),
    }
