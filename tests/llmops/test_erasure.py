"""GDPR: LLM calls and retrieved documents join the erasure trace and redaction through the hook."""

from __future__ import annotations

import pytest

from governance.services.erasure import erasure_request_create, erasure_request_execute, erasure_request_trace
from llmops.models import LLMCall, RetrievedDocument
from llmops.selectors import costs_rollup
from registry.models import AuditEvent
from tests.llmops.conftest import SYSTEM
from tests.llmops.test_calls import call, post

pytestmark = pytest.mark.sqlite  # the ingest, JSON tag and erasure paths differ on SQLite

ALICE = "alice.martin@example.com"


def test_an_erasure_clears_a_subjects_calls_text_and_keeps_cost_totals(ingest, project, prompt, prices):
    _, v1 = prompt
    usage = {"prompt_tokens": 1000, "completion_tokens": 200}
    alice_doc = {
        "document_id": "crm/customer/4411",
        "source": "crm",
        "chunk_text": "Alice Martin, IBAN ...",
        "subject_id": ALICE,
    }
    post(
        ingest,
        [
            call(
                "a1",
                subject_id=ALICE,
                usage=usage,
                prompt_version=v1.pk,
                input="My card 4111 is blocked",
                retrieved_documents=[alice_doc],
            ),
            call("a2", subject_id=ALICE, usage=usage, output="Dear Alice, ..."),
            call(
                "b1", subject_id="bob", usage=usage, retrieved_documents=[alice_doc]
            ),  # bob's call used alice's record
        ],
    )
    before = costs_rollup(project_ids={project.pk}, group_by="model")["totals"]

    request = erasure_request_create(actor=SYSTEM, project=project, subject_id=ALICE, reference="GDPR-17")
    traced = erasure_request_trace(actor=SYSTEM, request=request)
    llm = traced.trace["other"]["llmops"]
    assert llm["llm_calls"]["count"] == 2 and llm["llm_calls"]["prompt_versions"] == [v1.pk]
    assert llm["retrieved_documents"] == {
        "about_subject": 2,
        "in_subjects_calls": 1,
        "document_ids_about_subject": sorted(RetrievedDocument.objects.values_list("id", flat=True)),
    }
    assert ALICE not in str(traced.trace) and "Alice" not in str(traced.trace)

    executed = erasure_request_execute(actor=SYSTEM, request=traced)
    assert executed.execution["other"]["llmops"] == {
        "llm_calls_redacted": 2,
        "retrieved_documents_redacted": 2,
        "call_scores_cleared": 0,
    }
    erased_calls = LLMCall.objects.exclude(client_call_id="b1")
    assert len(erased_calls) == 2
    for erased in erased_calls:
        assert (erased.input, erased.output, erased.subject_key, erased.erased_at is not None) == (None, "", None, True)
        assert erased.client_call_id == f"erased:{erased.pk}"  # the client's id may have named the subject
        assert erased.total_tokens == 1200 and erased.cost is not None  # the figures stay
    bob = LLMCall.objects.get(client_call_id="b1")
    assert bob.input is not None and bob.subject_key is not None and bob.erased_at is None
    assert {(d.document_id, d.chunk_sha256) for d in RetrievedDocument.objects.all()} == {
        (f"erased:{d.pk}", "") for d in RetrievedDocument.objects.all()
    }
    after = costs_rollup(project_ids={project.pk}, group_by="model")["totals"]
    assert after == before
    assert AuditEvent.objects.get(event_type="erasure.executed").after["other"]["llmops"]["llm_calls_redacted"] == 2

    refused = post(ingest, [call("a3", subject_id=ALICE)])
    assert refused.status_code == 400
    assert refused.json()["error"]["fields"] == {
        "calls[0].subject_id": ["this subject was erased from the project; the call is refused"]
    }


def test_a_project_may_keep_later_calls_without_the_erased_subject_and_its_text(ingest, project, prices):
    project.erased_subject_ingest = "strip"
    project.save()
    erasure_request_execute(
        actor=SYSTEM,
        request=erasure_request_trace(
            actor=SYSTEM, request=erasure_request_create(actor=SYSTEM, project=project, subject_id=ALICE, reference="R")
        ),
    )
    kept = post(ingest, [call("late", subject_id=ALICE, usage={"prompt_tokens": 10, "completion_tokens": 1})])
    assert kept.json()["subjects_stripped"] == 1
    late = LLMCall.objects.get(client_call_id="late")
    assert (late.subject_key, late.input, late.output) == (None, None, "") and late.erased_at and late.cost is not None
