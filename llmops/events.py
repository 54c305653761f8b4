"""The audit event types llmops writes (the trail itself lives in registry; registered in apps.py)."""

from __future__ import annotations

from django.db import models


class LLMEvent(models.TextChoices):
    PROMPT_CREATED = "llm.prompt_created"
    PROMPT_VERSION_CREATED = "llm.prompt_version_created"
    PROMPT_LABEL_MOVED = "llm.prompt_label_moved"
    CALLS_INGESTED = "llm.calls_ingested"
    CALLS_REPRICED = "llm.calls_repriced"
    PRICES_IMPORTED = "llm.prices_imported"
    BUDGET_SET = "llm.budget_set"
    DATASET_CREATED = "llm.evaluation_dataset_created"
    EVALUATION_RUN = "llm.evaluation_run"
    CALLS_SCORED = "llm.calls_scored"
    TRACES_INGESTED = "llm.traces_ingested"
    CALL_MESSAGES_ATTACHED = "llm.call_messages_attached"
    TRACE_SETTINGS_SET = "llm.trace_settings_set"
