"""What a documentation pack's page and its PDF show: the stored content, when it was generated, and the changes
since the previous pack with their count."""

from __future__ import annotations

from pathlib import Path

from django.contrib.staticfiles import finders
from django.template.loader import render_to_string

from governance.evidence.pdf import html_to_pdf
from governance.models import EvidencePack
from registry.admin.kit import when


def pack_page(pack: EvidencePack) -> dict:
    changes = pack.changes or {}
    return {
        "original": pack,
        "pack": pack.content,
        "generated": when(pack.generated_at),
        "changes": changes,
        "change_total": sum(len(changes.get(kind, [])) for kind in ("added", "changed", "removed")),
    }


def pack_pdf(pack: EvidencePack) -> bytes:
    """The pack printed by Chromium (governance.evidence.pdf); raises PdfUnavailable without it."""
    stylesheet = Path(finders.find("governance/pack_print.css")).as_uri()
    return html_to_pdf(render_to_string("governance/pack_print.html", {**pack_page(pack), "stylesheet": stylesheet}))
