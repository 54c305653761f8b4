"""What llmops holds about a data subject, for an erasure's trace and redaction (registered with
governance's subject-data hook in LlmopsConfig.ready)."""

from __future__ import annotations

from datetime import datetime

from llmops.models import LLMCall, RetrievedDocument
from registry.actors import Actor

MAX_TRACED_IDS = 1000


class LLMSubjectData:
    name = "llmops"

    def trace(self, *, project_id: int, subject_key: str) -> dict:
        calls = LLMCall.objects.filter(project_id=project_id, subject_key=subject_key)
        call_ids = list(calls.order_by("id").values_list("id", flat=True)[: MAX_TRACED_IDS + 1])
        about = RetrievedDocument.objects.filter(project_id=project_id, subject_key=subject_key)
        used = RetrievedDocument.objects.filter(project_id=project_id, call__subject_key=subject_key)
        return {
            "llm_calls": {
                "count": calls.count(),
                "ids": call_ids[:MAX_TRACED_IDS],
                "ids_truncated": len(call_ids) > MAX_TRACED_IDS,
                "prompt_versions": sorted(
                    set(calls.exclude(prompt_version=None).values_list("prompt_version_id", flat=True))
                ),
            },
            "retrieved_documents": {
                "about_subject": about.count(),
                "in_subjects_calls": used.count(),
                "document_ids_about_subject": sorted(set(about.values_list("id", flat=True)))[:MAX_TRACED_IDS],
            },
        }

    def redact(self, *, actor: Actor, project_id: int, subject_key: str, at: datetime) -> dict:
        """Inputs, outputs and the subject link go; which prompt version ran, tokens and cost stay."""
        documents = RetrievedDocument.objects.filter(project_id=project_id, subject_key=subject_key).update(
            document_id="[erased]", source="", chunk_sha256="", subject_key=None, erased_at=at
        )
        calls = LLMCall.objects.filter(project_id=project_id, subject_key=subject_key).update(
            input=None, output="", error="", subject_key=None, subject_key_id="", erased_at=at
        )
        return {"llm_calls_redacted": calls, "retrieved_documents_redacted": documents}
