"""The LLM lines of a project's record of processing (GDPR Art. 30): each provider that receives the calls' prompts,
with how many calls to how many models since when; shown in the project's record."""

from __future__ import annotations

import pytest
from django.utils import timezone

from governance.queries.processing import processing_record
from llmops.services.subjects import LLMSubjectData
from tests.llmops.test_calls import call, post

pytestmark = pytest.mark.sqlite


def test_each_provider_is_a_recipient_of_the_prompts(ingest, project, prices):
    post(ingest, [call("a1"), call("a2"), call("b1", provider="anthropic", model="claude-sonnet-4-5")])
    lines = LLMSubjectData().processing(project_id=project.pk)
    assert [line["activity"] for line in lines] == ["LLM calls to anthropic", "LLM calls to openai"]
    assert lines[1]["intended_use"].startswith("2 calls to 1 model(s) since ")
    assert lines[1]["deployed_to"] == "recipient: openai"
    record = processing_record(project=project, now=timezone.now())
    assert [p["activity"] for p in record["processing"] if p["activity"].startswith("LLM")] == [
        "LLM calls to anthropic",
        "LLM calls to openai",
    ]


def test_the_access_reports_llm_rows_count_what_the_trace_counts(ingest, project, prices):
    from registry.subjects import subject_key

    alice = "alice.martin@example.com"
    document = {"document_id": "crm/4411", "source": "crm", "chunk_text": "Alice ...", "subject_id": alice}
    post(
        ingest,
        [
            call("a1", subject_id=alice, retrieved_documents=[document]),
            call("a2", subject_id=alice),
            call("b1", subject_id="bob", retrieved_documents=[document]),
        ],
    )
    contributor, key = LLMSubjectData(), subject_key(alice)
    counted = contributor.access_rows(project_id=project.pk, subject_key=key)
    traced = contributor.trace_rows(contributor.trace(project_id=project.pk, subject_key=key))
    assert [(r["record"], r["count"]) for r in counted] == [(r["record"], r["count"]) for r in traced]
    assert [r["count"] for r in counted] == [2, 2, 1]
