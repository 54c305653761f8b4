"""Fixtures of the LLMOps presenter tests: the records the admin tests use (tests/llmops/admin/conftest.py)."""

from __future__ import annotations

from tests.llmops.admin.conftest import llm  # noqa: F401 - the same prompt, calls, budget and runs
