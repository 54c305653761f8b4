"""What llmops holds about a data subject, for an erasure's trace and redaction (registered with
governance's subject-data hook in LlmopsConfig.ready)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import CharField, Q, Value
from django.db.models.functions import Cast, Concat

from governance.subject_data import SubjectDataRow
from llmops.models import CallScore, LLMCall, PromptVersion, RetrievedDocument
from registry.actors import Actor

MAX_TRACED_IDS = 1000

CALLS_ERASED = "input, output, error, tags and client call id cleared; model, tokens, cost and prompt version kept"
DOCUMENTS_ERASED = "document id, source and chunk hash cleared; rank and data version kept"


def _count(section: dict, key: str) -> int | None:
    value = section.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class LLMSubjectData:
    name = "llmops"
    label = "LLM calls and retrieved documents"

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

    def access_rows(self, *, project_id: int, subject_key: str) -> list[SubjectDataRow]:
        """What a subject access report says of the person's LLM records: the trace's rows, counted in one
        statement of three counts, each on its own index (no id lists). Written as SQL: the ORM spent longer
        compiling three counting subqueries than the database spent answering them (bench/evidence.py)."""
        from django.db import connection

        calls, documents = LLMCall._meta.db_table, RetrievedDocument._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT (SELECT COUNT(*) FROM {calls} WHERE project_id = %s AND subject_key = %s), "  # noqa: S608 - table names from _meta
                f"(SELECT COUNT(*) FROM {documents} WHERE project_id = %s AND subject_key = %s), "
                f"(SELECT COUNT(*) FROM {documents} d JOIN {calls} c ON c.id = d.call_id "
                "WHERE d.project_id = %s AND c.subject_key = %s)",
                [project_id, subject_key] * 3,
            )
            counted = cursor.fetchone()
        counts = dict(zip(("calls", "about", "used"), counted, strict=True))
        return [
            {"record": "LLM calls about the subject", "count": counts["calls"], "note": CALLS_ERASED},
            {"record": "Retrieved documents about the subject", "count": counts["about"], "note": DOCUMENTS_ERASED},
            {
                "record": "Retrieved documents given in the subject's calls",
                "count": counts["used"],
                "note": DOCUMENTS_ERASED,
            },
        ]

    def processing(self, *, project_id: int) -> list[dict]:
        """The record of processing's lines for LLM calls: each provider that receives the calls' prompts."""
        from django.db.models import Count, Min

        rows = (
            LLMCall.objects.filter(project_id=project_id)
            .values("provider")
            .annotate(calls=Count("id"), since=Min("occurred_at"), models=Count("model", distinct=True))
            .order_by("provider")
        )
        return [
            {
                "activity": f"LLM calls to {row['provider']}",
                "risk_tier": "",
                "intended_use": f"{row['calls']:,} calls to {row['models']} model(s) since {row['since']:%Y-%m-%d}",
                "deployed_to": f"recipient: {row['provider']}",
                "versions": row["models"],
                "sensitive_attributes": "",
            }
            for row in rows
        ]

    def trace_rows(self, section: dict) -> list[SubjectDataRow]:
        """The stored trace answer as rows; the prompt versions the subject's calls ran are named (as they are
        now: a version deleted since is named by its id)."""
        calls = section.get("llm_calls") or {}
        documents = section.get("retrieved_documents") or {}
        prompt_ids = [pk for pk in calls.get("prompt_versions") or [] if isinstance(pk, int)]
        names = {pv.pk: str(pv) for pv in PromptVersion.objects.filter(pk__in=prompt_ids).select_related("template")}
        prompts = ", ".join(names.get(pk, f"prompt version {pk}") for pk in prompt_ids)
        note = CALLS_ERASED + (f"; through {prompts}" if prompts else "")
        if calls.get("ids_truncated"):
            note += f"; the trace lists the first {MAX_TRACED_IDS:,} ids"
        return [
            {"record": "LLM calls about the subject", "count": _count(calls, "count"), "note": note},
            {
                "record": "Retrieved documents about the subject",
                "count": _count(documents, "about_subject"),
                "note": DOCUMENTS_ERASED,
            },
            {
                "record": "Retrieved documents given in the subject's calls",
                "count": _count(documents, "in_subjects_calls"),
                "note": DOCUMENTS_ERASED,
            },
        ]

    def redaction_rows(self, done: dict) -> list[SubjectDataRow]:
        return [
            {"record": "LLM calls redacted", "count": _count(done, "llm_calls_redacted"), "note": CALLS_ERASED},
            {
                "record": "Retrieved documents redacted",
                "count": _count(done, "retrieved_documents_redacted"),
                "note": DOCUMENTS_ERASED,
            },
            {
                "record": "Call scores' details cleared",
                "count": _count(done, "call_scores_cleared"),
                "note": "the evaluators' details quote the output; the scores stay",
            },
        ]

    def redact(self, *, actor: Actor, project_id: int, subject_key: str, at: datetime) -> dict:
        """Everything that can hold the subject's content goes: the calls' input, output, error and tags,
        their client ids (replaced by "erased:<call id>", unique and identifying no one), the scores'
        details (which quote the output), and the id, source and chunk hash of the documents about the
        subject or given in the subject's calls. Which prompt version ran, tokens, cost, score values and
        the documents' data versions stay."""
        calls = LLMCall.objects.filter(project_id=project_id, subject_key=subject_key)
        call_ids = calls.values("id")
        scores = CallScore.objects.filter(call_id__in=call_ids).update(detail={})
        documents = RetrievedDocument.objects.filter(
            Q(project_id=project_id, subject_key=subject_key) | Q(call_id__in=call_ids)
        ).update(
            document_id=Concat(Value("erased:"), Cast("id", CharField())),
            source="",
            chunk_sha256="",
            subject_key=None,
            erased_at=at,
        )
        redacted = calls.update(
            input=None,
            output="",
            error="",
            tags=[],
            client_call_id=Concat(Value("erased:"), Cast("id", CharField())),
            subject_key=None,
            subject_key_id="",
            erased_at=at,
        )
        return {
            "llm_calls_redacted": redacted,
            "retrieved_documents_redacted": documents,
            "call_scores_cleared": scores,
        }
