"""Fixtures of the LLMOps admin tests."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from llmops.models import LLMCall
from llmops.services import budgets, evaluation, prompts
from tests.llmops.admin.pages import CUSTOMER, POLITE, USAGE
from tests.llmops.conftest import SYSTEM
from tests.llmops.test_calls import call, post
from tests.llmops.test_evaluation_api import EVALUATORS, ITEMS


@pytest.fixture
def llm(project, prompt, prices, ingest):
    """A prompt with three versions (v2 changes the system line, v3 is a text prompt), calls of two priced
    models and one unknown model (with cached tokens, documents, a subject and tags), a budget, a dataset and
    two runs of it (v1 and v3)."""
    template, v1 = prompt
    v2 = prompts.prompt_version_create(
        actor=SYSTEM,
        template=template,
        kind="chat",
        messages=[
            {"role": "system", "content": POLITE},
            {"role": "user", "content": "Context: {{context}}\nQuestion: {{question}}"},
        ],
        variables=["context", "question"],
        model="gpt-4o",
        parameters={"temperature": 0.2},
        commit_message="be polite",
        labels=["staging"],
    )
    v3 = prompts.prompt_version_create(
        actor=SYSTEM,
        template=template,
        kind="text",
        text="Answer the question: {{question}} (ignore: {{context}})",
        variables=["question", "context"],
        model="gpt-4o",
        commit_message="plain text",
    )
    documents = [
        {"document_id": "kb/fees.md#3", "source": "kb", "chunk_text": "A late payment costs 25 euros.", "rank": 1},
        {"document_id": "kb/cards.md#1", "source": "kb", "chunk_text": "Cards can be blocked.", "rank": 2},
    ]
    response = post(
        ingest,
        [
            call("c1", usage=USAGE, prompt_version=v1.pk, tags=["support"], retrieved_documents=documents),
            call("c2", usage=USAGE, occurred_at="2026-02-11T09:00:00Z", subject_id=CUSTOMER),
            call(
                "c3",
                provider="anthropic",
                model="claude-sonnet-4-5",
                usage={"input_tokens": 400, "output_tokens": 90},
                occurred_at="2026-02-12T09:00:00Z",
            ),
            call("c4", model="gpt-9-turbo", occurred_at="2026-02-12T10:00:00Z", tags=["beta"]),
            call("c5", model="gpt-9-turbo", occurred_at="2026-02-13T10:00:00Z", status="error", error="timeout"),
        ],
    )
    assert response.status_code == 200, response.content
    budget = budgets.budget_create(actor=SYSTEM, project=project, name="support monthly", limit="0.01")
    dataset = evaluation.evaluation_dataset_create(actor=SYSTEM, project=project, name="fees", items=ITEMS)
    run1 = evaluation.evaluation_run(actor=SYSTEM, version=v1, dataset=dataset, evaluators=EVALUATORS)
    run3 = evaluation.evaluation_run(actor=SYSTEM, version=v3, dataset=dataset, evaluators=EVALUATORS)
    return SimpleNamespace(
        project=project,
        template=template,
        v1=v1,
        v2=v2,
        v3=v3,
        calls={c.client_call_id: c for c in LLMCall.objects.all()},
        budget=budget,
        dataset=dataset,
        run1=run1,
        run3=run3,
        price=prices[0],
    )
