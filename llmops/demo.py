"""The LLMOps demo that `make run` loads: a bank's support assistant, recorded through the real services.

    knowledge-base data version -> prompt versions (labels moved, audited) -> a few hundred calls over
    the last 30 days with their retrieved documents and usage -> prices from the shipped catalog
    -> costs and a monthly budget -> an evaluation comparing two prompt versions

The answers come from the local deterministic provider (llmops.providers.LocalProvider), which answers
from the retrieved context; token usage is reported as OpenAI or Anthropic would report it (cached
tokens included) or, for some calls, left out so the service counts it with tiktoken. One model has no
price in the catalog, so the demo shows unpriced calls reported apart, never at $0.
"""

from __future__ import annotations

import hashlib
import random
import time
from dataclasses import dataclass
from datetime import timedelta

import pandas as pd
from django.db import transaction
from django.utils import timezone

from llmops.models import LLMCall
from llmops.providers import LocalProvider
from llmops.services import budgets, evaluation, pricing, prompts
from llmops.services.calls import MAX_CALLS_PER_REQUEST, calls_ingest
from registry import services
from registry.actors import Actor
from registry.hashing import dataframe_schema, dataframe_sha256
from registry.models import Project, Role

LLM_DEMO_PROJECT = "llm-demo"
LLM_DEMO_PROJECT_NAME = "Demo: support assistant (LLM)"
PROMPT = "support-answer"
SEED = 7
CALLS = 360
DAYS = 30

# A small knowledge base, one passage per document, as a RAG index would hold it.
KNOWLEDGE_BASE = [
    ("kb/fees#late", "fees", "A late card payment costs 25 euros. The fee is waived once a year on request."),
    (
        "kb/fees#abroad",
        "fees",
        "Card payments abroad cost 1.5 percent of the amount. Cash withdrawals abroad cost 3 euros.",
    ),
    (
        "kb/cards#block",
        "cards",
        "You can block a lost card in the app under Cards. A new card arrives within five days.",
    ),
    ("kb/cards#pin", "cards", "You can see your PIN in the app after logging in with your fingerprint."),
    (
        "kb/transfers#sepa",
        "transfers",
        "SEPA transfers arrive the next working day. Instant transfers arrive within ten seconds.",
    ),
    (
        "kb/transfers#limit",
        "transfers",
        "The daily transfer limit is 5,000 euros. You can raise it in the app for 24 hours.",
    ),
    (
        "kb/loans#rate",
        "loans",
        "Personal loans have a fixed rate from 5.9 percent. The rate depends on the amount and term.",
    ),
    (
        "kb/accounts#close",
        "accounts",
        "You can close an account online. The balance is transferred within three working days.",
    ),
]
QUESTIONS = [
    ("How much does a late card payment cost?", "kb/fees#late"),
    ("What does it cost to pay by card abroad?", "kb/fees#abroad"),
    ("I lost my card, how do I block it?", "kb/cards#block"),
    ("Where can I see my PIN?", "kb/cards#pin"),
    ("When does a SEPA transfer arrive?", "kb/transfers#sepa"),
    ("What is the daily transfer limit?", "kb/transfers#limit"),
    ("What rate do personal loans have?", "kb/loans#rate"),
    ("How do I close my account?", "kb/accounts#close"),
]
V1_MESSAGES = [
    {
        "role": "system",
        "content": "You are Acme Bank's support assistant. Answer from the context only, in one sentence.",
    },
    {"role": "user", "content": "Context: {{context}}\nQuestion: {{question}}"},
]
V2_MESSAGES = [
    {"role": "system", "content": "You are Acme Bank's support assistant. Be brief."},
    {"role": "user", "content": "{{question}}\n(Background, if useful: {{context}})"},
]
# (provider, model, share of calls, usage style)
TRAFFIC = [
    ("openai", "gpt-4o-mini", 0.55, "openai"),
    ("openai", "gpt-4o", 0.2, "openai"),
    ("anthropic", "claude-haiku-4-5", 0.15, "anthropic"),
    ("acme", "acme-support-ft-2", 0.1, None),  # a fine-tune with no catalog price: reported as unpriced
]


@dataclass(frozen=True)
class LLMDemoResult:
    loaded: bool
    project: Project
    calls: int = 0
    unpriced: int = 0
    cost: str = "0"
    evaluation_runs: tuple[int, ...] = ()
    seconds: float = 0.0


def _context(question_doc: str, rng: random.Random) -> list[tuple[str, str, str, float]]:
    """The retrieved passages for a question: the right one first, then two others, with scores."""
    by_id = {doc_id: (doc_id, source, text) for doc_id, source, text in KNOWLEDGE_BASE}
    others = rng.sample([d for d in by_id if d != question_doc], 2)
    scores = [round(rng.uniform(0.82, 0.95), 3), round(rng.uniform(0.55, 0.7), 3), round(rng.uniform(0.4, 0.55), 3)]
    return [(*by_id[d], s) for d, s in zip([question_doc, *others], scores, strict=True)]


def _usage(style: str | None, prompt_tokens: int, completion_tokens: int, rng: random.Random) -> dict | None:
    if style is None or rng.random() < 0.15:
        return None  # no usage reported: the service counts the tokens with tiktoken
    cached = 0 if rng.random() < 0.5 else min(prompt_tokens, 1024 if prompt_tokens >= 1024 else prompt_tokens // 2)
    if style == "openai":
        return {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": cached},
        }
    return {
        "input_tokens": prompt_tokens - cached,
        "cache_read_input_tokens": cached,
        "cache_creation_input_tokens": 0,
        "output_tokens": completion_tokens,
    }


def llm_demo_load() -> LLMDemoResult:
    """Load the LLM demo project unless it exists. Prices come from the shipped catalog (loaded if missing)."""
    existing = Project.objects.filter(slug=LLM_DEMO_PROJECT).first()
    if existing is not None:
        return LLMDemoResult(loaded=False, project=existing)
    started = time.monotonic()
    rng = random.Random(SEED)
    system = Actor.system()
    provider = LocalProvider()
    now = timezone.now().replace(microsecond=0)
    with transaction.atomic():
        pricing.prices_seed(actor=system)
        project = services.project_create(actor=system, slug=LLM_DEMO_PROJECT, name=LLM_DEMO_PROJECT_NAME)
        ingest_key, _ = services.api_key_create(actor=system, project=project, role=Role.INGEST, name="demo: assistant")
        ingest = Actor.for_key(ingest_key)

        kb = pd.DataFrame(KNOWLEDGE_BASE, columns=["document_id", "source", "text"])
        dataset = services.dataset_create(
            actor=system, project=project, name="support-kb", contains_personal_data=False
        )
        kb_version = services.data_version_register(
            actor=system,
            dataset=dataset,
            version="2026-10",
            content_sha256=dataframe_sha256(kb),
            row_count=len(kb),
            schema=dataframe_schema(kb),
        )

        template = prompts.prompt_create(
            actor=system,
            project=project,
            name=PROMPT,
            description="Answers customer questions from the knowledge base.",
        )
        v1 = prompts.prompt_version_create(
            actor=system,
            template=template,
            kind="chat",
            messages=V1_MESSAGES,
            variables=["context", "question"],
            model="gpt-4o-mini",
            parameters={"temperature": 0},
            commit_message="First version: answer from the retrieved context only",
            labels=["production"],
        )
        v2 = prompts.prompt_version_create(
            actor=system,
            template=template,
            kind="chat",
            messages=V2_MESSAGES,
            variables=["context", "question"],
            model="gpt-4o-mini",
            parameters={"temperature": 0},
            commit_message="Shorter system prompt; context as background",
            labels=["staging"],
        )

        items, customers = [], [f"customer-{n:04d}" for n in range(60)]
        for n in range(CALLS):
            question, doc = QUESTIONS[rng.randrange(len(QUESTIONS))]
            retrieved = _context(doc, rng)
            version = v1 if rng.random() < 0.8 else v2
            messages = prompts.prompt_render(
                version=version, variables={"context": " ".join(r[2] for r in retrieved), "question": question}
            )["messages"]
            provider_name, model, style = _traffic(rng)
            completion = provider.complete(messages, model=model)
            prompt_tokens = completion.usage["prompt_tokens"] + rng.randrange(300, 1400)  # history and tools
            usage = _usage(style, prompt_tokens, completion.usage["completion_tokens"], rng)
            at = now - timedelta(days=DAYS) + timedelta(seconds=rng.randrange(DAYS * 86400))
            item = {
                "client_call_id": f"demo-{n:05d}",
                "prompt_version": version.pk,
                "provider": provider_name,
                "model": model,
                "input": messages,
                "output": completion.text,
                "latency_ms": round(rng.uniform(350, 2400), 1),
                "subject_id": rng.choice(customers),
                "tags": ["support", rng.choice(["app", "web"])],
                "trace_id": hashlib.sha256(f"trace-{n}".encode()).hexdigest()[:32],
                "span_id": hashlib.sha256(f"span-{n}".encode()).hexdigest()[:16],
                "occurred_at": at.isoformat(),
                "retrieved_documents": [
                    {
                        "document_id": doc_id,
                        "source": source,
                        "chunk_text": text,
                        "score": score,
                        "rank": rank,
                        "data_version": kb_version.pk,
                    }
                    for rank, (doc_id, source, text, score) in enumerate(retrieved, start=1)
                ],
            }
            if usage is not None:
                item["usage"] = usage
            items.append(item)
        items.sort(key=lambda i: i["occurred_at"])
        budgets.budget_create(
            actor=system,
            project=project,
            name="assistant monthly",
            limit="0.25",
            period="monthly",
            thresholds=[0.5, 0.8, 1],
        )
        for start in range(0, len(items), MAX_CALLS_PER_REQUEST):
            calls_ingest(actor=ingest, project_slug=project.slug, items=items[start : start + MAX_CALLS_PER_REQUEST])

        golden = evaluation.evaluation_dataset_create(
            actor=system,
            project=project,
            name="golden questions",
            description="One question per knowledge-base passage, with the expected answer.",
            items=[
                {
                    "variables": {
                        "context": " ".join(r[2] for r in _context(doc, random.Random(i))),
                        "question": question,
                    },
                    "expected": next(text for d, _, text in KNOWLEDGE_BASE if d == doc),
                    "context": [next(text for d, _, text in KNOWLEDGE_BASE if d == doc)],
                }
                for i, (question, doc) in enumerate(QUESTIONS)
            ],
        )
        evaluators = [
            {"name": "exact", "kind": "exact_match"},
            {"name": "grounded", "kind": "groundedness"},
            {"name": "no-pii", "kind": "pii_leak"},
            {"name": "brief", "kind": "length_tokens", "config": {"max": 60}},
            {
                "name": "judge",
                "kind": "llm_judge",
                "config": {"rubric": "Correct, grounded and brief.", "model": "local-judge"},
            },
        ]
        runs = tuple(
            evaluation.evaluation_run(
                actor=system, version=v, dataset=golden, evaluators=evaluators, provider=provider
            ).pk
            for v in (v1, v2)
        )
    calls = LLMCall.objects.filter(project=project)
    cost = sum((c for c in calls.values_list("cost", flat=True) if c is not None), start=0)
    return LLMDemoResult(
        loaded=True,
        project=project,
        calls=calls.count(),
        unpriced=calls.filter(cost_status=LLMCall.CostStatus.UNPRICED).count(),
        cost=f"{cost:.4f}",
        evaluation_runs=runs,
        seconds=time.monotonic() - started,
    )


def _traffic(rng: random.Random) -> tuple[str, str, str | None]:
    roll, cumulative = rng.random(), 0.0
    for provider, model, share, style in TRAFFIC:
        cumulative += share
        if roll < cumulative:
            return provider, model, style
    provider, model, _, style = TRAFFIC[-1]
    return provider, model, style
