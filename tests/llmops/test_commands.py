"""import_prices (seed table and LiteLLM JSON) and reprice."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from llmops.models import LLMCall, Price
from llmops.services.pricing import PriceBook
from registry.models import AuditEvent
from tests.llmops.test_calls import call, post

LITELLM = {
    "sample_spec": {"input_cost_per_token": 0, "output_cost_per_token": 0},
    "gpt-9-turbo": {
        "litellm_provider": "openai",
        "input_cost_per_token": 1.25e-06,
        "output_cost_per_token": 1e-05,
        "cache_read_input_token_cost": 1.25e-07,
        "mode": "chat",
    },
    "anthropic/claude-future": {
        "litellm_provider": "anthropic",
        "input_cost_per_token": 3e-06,
        "output_cost_per_token": 1.5e-05,
        "cache_creation_input_token_cost": 3.75e-06,
        "cache_read_input_token_cost": 3e-07,
    },
    "text-embedding-x": {"litellm_provider": "openai", "input_cost_per_token": 1e-08},
}


def test_the_seed_table_loads_once_with_sources_and_dates(db, capsys):
    call_command("import_prices", "--seed")
    assert "prices added" in capsys.readouterr().out
    count = Price.objects.count()
    assert count >= 20 and not Price.objects.filter(source="").exists()
    assert set(Price.objects.values_list("provider", flat=True)) == {"openai", "anthropic", "google", "mistral"}
    call_command("import_prices", "--seed")
    assert Price.objects.count() == count and "0 prices added" in capsys.readouterr().out
    book = PriceBook()
    at = datetime(2026, 1, 1, tzinfo=UTC)
    assert book.price_for("anthropic", "claude-sonnet-4-5-20250929", at).model_pattern == "claude-sonnet-4-5-*"
    assert book.price_for("openai", "gpt-4o-mini-2024-07-18", at).model_pattern == "gpt-4o-mini-2*"  # the most specific
    assert AuditEvent.objects.filter(event_type="llm.prices_imported").count() == 2


def test_litellm_json_is_converted_to_prices_per_million(db, tmp_path, capsys):
    path = tmp_path / "model_prices_and_context_window.json"
    path.write_text(json.dumps(LITELLM))
    call_command("import_prices", str(path), "--effective-from", "2026-05-01T00:00:00Z")
    out = capsys.readouterr().out
    assert "skipped text-embedding-x: no per-token input and output cost" in out and "2 prices added" in out
    gpt = Price.objects.get(model="gpt-9-turbo")
    assert (gpt.input_uncached, gpt.input_cache_read, gpt.output) == (Decimal("1.25"), Decimal("0.125"), Decimal("10"))
    claude = Price.objects.get(model="claude-future")
    assert (claude.provider, claude.input_cache_write, claude.input_cache_read) == (
        "anthropic",
        Decimal("3.75"),
        Decimal("0.3"),
    )
    assert gpt.source == "litellm:model_prices_and_context_window.json"
    with pytest.raises(CommandError, match="give a FILE or --seed"):
        call_command("import_prices")


def test_reprice_command_prices_calls_of_a_model_added_later(ingest, project, tmp_path, capsys):
    usage = {"prompt_tokens": 1_000_000, "completion_tokens": 100_000}
    post(ingest, [call("late", model="gpt-9-turbo", usage=usage, occurred_at="2026-06-01T00:00:00Z")])
    assert LLMCall.objects.get().cost_status == "unpriced"
    path = tmp_path / "prices.json"
    path.write_text(json.dumps(LITELLM))
    call_command("import_prices", str(path), "--effective-from", "2026-05-01T00:00:00Z")
    call_command("reprice", "--project", project.slug)
    assert "1 calls repriced: 1 priced, 0 still unpriced" in capsys.readouterr().out
    assert LLMCall.objects.get().cost == Decimal("2.25")  # 1M x 1.25 + 100k x 10 per million
    assert AuditEvent.objects.filter(event_type="llm.calls_repriced").exists()
