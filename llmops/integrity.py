"""The records verify's check of prompt versions (registry/records.py): each version's content must hash to
its `content_sha256`, and that hash must be the one its creation event recorded, so a version deleted and
inserted again with other messages under its id and hash is named."""

from __future__ import annotations

from collections.abc import Callable

from llmops.events import LLMEvent
from llmops.models import PromptVersion
from llmops.services.prompts import prompt_content_sha256
from registry.records import check_against_creation_events


def prompt_versions_check(report: Callable[[str, object, str], None]) -> dict[str, int]:
    rows = (
        (
            pk,
            stored,
            prompt_content_sha256(
                kind=kind, messages=messages, text=text, variables=variables, model=model, parameters=parameters
            ),
        )
        for pk, stored, kind, messages, text, variables, model, parameters in PromptVersion.objects.order_by(
            "pk"
        ).values_list("pk", "content_sha256", "kind", "messages", "text", "variables", "model", "parameters")
    )
    checked = check_against_creation_events(
        record="llmops.promptversion",
        rows=rows,
        event_type=LLMEvent.PROMPT_VERSION_CREATED,
        target_type="llmops.promptversion",
        hash_key="content_sha256",
        report=report,
    )
    return {"llmops.promptversion": checked}
