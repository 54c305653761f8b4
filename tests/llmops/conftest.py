from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from llmops.models import Price
from llmops.services import prompts
from registry.actors import Actor

SYSTEM = Actor.system()
JAN = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def ingest(make_client, project):
    return make_client("ingest", project)


@pytest.fixture
def scientist(make_client, project):
    return make_client("data_scientist", project)


@pytest.fixture
def prices(db):
    """gpt-4o from January at 2.50 / 1.25 cached / 10.00, and from March at 2.00 / 1.00 / 8.00;
    claude-sonnet-4-5 with cache reads and writes; a pattern for dated gpt-4o snapshots."""
    rows = [
        dict(
            provider="openai",
            model="gpt-4o",
            effective_from=JAN,
            input_uncached="2.50",
            input_cache_read="1.25",
            output="10.00",
        ),
        dict(
            provider="openai",
            model="gpt-4o",
            effective_from=datetime(2026, 3, 1, tzinfo=UTC),
            input_uncached="2.00",
            input_cache_read="1.00",
            output="8.00",
        ),
        dict(provider="openai", model_pattern="gpt-4o-2*", effective_from=JAN, input_uncached="5.00", output="15.00"),
        dict(
            provider="anthropic",
            model="claude-sonnet-4-5",
            effective_from=JAN,
            input_uncached="3.00",
            input_cache_read="0.30",
            input_cache_write="3.75",
            output="15.00",
        ),
    ]
    return [
        Price.objects.create(
            source="test", **{k: (Decimal(v) if k[0] in "io" and k != "provider" else v) for k, v in r.items()}
        )
        for r in rows
    ]


@pytest.fixture
def prompt(project):
    template = prompts.prompt_create(actor=SYSTEM, project=project, name="support-answer")
    v1 = prompts.prompt_version_create(
        actor=SYSTEM,
        template=template,
        kind="chat",
        messages=[
            {"role": "system", "content": "You answer bank customers briefly."},
            {"role": "user", "content": "Context: {{context}}\nQuestion: {{question}}"},
        ],
        variables=["context", "question"],
        model="gpt-4o",
        parameters={"temperature": 0},
        commit_message="first",
        labels=["production"],
    )
    return template, v1
