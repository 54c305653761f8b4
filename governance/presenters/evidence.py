"""What a documentation pack's page and its PDF show: the stored content, when it was generated, the changes since
the previous pack with their count, and each section's statements in groups: one group in a version's pack; in a
model's pack the statements about the model, then one group per version, and the change log as one list across the
versions, oldest first, each change marked with its version."""

from __future__ import annotations

from pathlib import Path
from typing import TypedDict

from django.contrib.staticfiles import finders
from django.template.loader import render_to_string

from governance.evidence.pdf import html_to_pdf
from governance.models import EvidencePack
from registry.admin.kit import when


class StatementGroup(TypedDict):
    title: str  # "" where the section has one group
    statements: list[dict]  # as stored, each with `tag` ("v2" or "") for the change log across versions


class PackSection(TypedDict):
    id: str
    title: str
    groups: list[StatementGroup]


def _groups(section: dict, versions: dict[int, str] | None) -> list[StatementGroup]:
    statements = section.get("statements", [])
    if not statements:
        return []
    if versions is None:
        return [{"title": "", "statements": [{**st, "tag": ""} for st in statements]}]
    if section["id"] == "changes":
        tagged = [{**st, "tag": f"v{st['version']}" if st.get("version") else ""} for st in statements]
        return [{"title": "Across versions, oldest first", "statements": tagged}]
    groups: list[StatementGroup] = []
    current: object = object()
    for statement in statements:
        version = statement.get("version")
        if version != current:
            current = version
            title = versions.get(version, f"Version {version}") if version is not None else "The model"
            groups.append({"title": title, "statements": []})
        groups[-1]["statements"].append({**statement, "tag": ""})
    return groups


def pack_sections(content: dict) -> list[PackSection]:
    listed = content.get("versions")
    versions = (
        {v["version"]: f"Version {v['version']} ({v['stage']})" for v in listed} if content.get("model") else None
    )
    return [
        {"id": section["id"], "title": section["title"], "groups": _groups(section, versions)}
        for section in content.get("sections", [])
    ]


def pack_page(pack: EvidencePack) -> dict:
    changes = pack.changes or {}
    return {
        "original": pack,
        "pack": pack.content,
        "sections": pack_sections(pack.content),
        "subject": "model" if pack.model_id is not None else "version",
        "generated": when(pack.generated_at),
        "changes": changes,
        "change_total": sum(len(changes.get(kind, [])) for kind in ("added", "changed", "removed")),
    }


def pack_pdf(pack: EvidencePack) -> bytes:
    """The pack printed by Chromium (governance.evidence.pdf); raises PdfUnavailable without it."""
    stylesheet = Path(finders.find("governance/pack_print.css")).as_uri()
    return html_to_pdf(render_to_string("governance/pack_print.html", {**pack_page(pack), "stylesheet": stylesheet}))
