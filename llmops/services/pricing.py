"""The price catalog: which price was in force for a model at a time, what a call cost, imports
(the shipped seed table and LiteLLM's JSON) and repricing."""

from __future__ import annotations

import fnmatch
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from llmops.events import LLMEvent
from llmops.models import PER_TOKENS, USAGE_CATEGORIES, LLMCall, Price
from registry.actors import Actor
from registry.audit import audit_append
from registry.errors import ServiceError, field_error
from registry.locks import for_update
from registry.services.common import created_by

SEED_FILE = Path(__file__).resolve().parent.parent / "data" / "prices.json"
PRICE_FIELDS = ("input_uncached", "input_cache_read", "input_cache_write", "output", "output_reasoning")
# the token count field of LLMCall for each usage category
CALL_FIELDS = {
    "input_uncached": "input_uncached",
    "input_cache_read": "input_cache_read",
    "input_cache_write": "input_cache_write",
    "output": "output_tokens",
    "output_reasoning": "output_reasoning",
}


def cost_of(tokens: dict[str, int], price: Price) -> Decimal:
    """Exact: each category's tokens times its price per million, summed, in Decimal."""
    total = sum((Decimal(tokens[c]) * price.per_million(c) for c in USAGE_CATEGORIES), Decimal(0))
    return total / PER_TOKENS


def _specificity(pattern: str) -> tuple[int, int]:
    """Longer literal parts first: `gpt-4o-mini-*` wins over `gpt-4o-*`."""
    literal = sum(1 for ch in pattern if ch not in "*?[]")
    return literal, len(pattern)


class PriceBook:
    """The catalog for some providers, loaded once, answering "the price in force for this model at
    this time": the exact model name first, then the most specific matching pattern."""

    def __init__(self, providers: set[str] | None = None):
        queryset = Price.objects.all()
        if providers is not None:
            queryset = queryset.filter(provider__in=providers)
        self.exact: dict[tuple[str, str], list[Price]] = defaultdict(list)
        self.patterns: dict[str, list[Price]] = defaultdict(list)
        for price in queryset.order_by("-effective_from"):
            if price.model:
                self.exact[(price.provider, price.model)].append(price)
            else:
                self.patterns[price.provider].append(price)
        self._pattern_cache: dict[tuple[str, str], list[list[Price]]] = {}

    @staticmethod
    def _in_force(prices: list[Price], at: datetime) -> Price | None:
        return next((p for p in prices if p.effective_from <= at), None)  # newest first

    def price_for(self, provider: str, model: str, at: datetime) -> Price | None:
        found = self._in_force(self.exact.get((provider, model), []), at)
        if found is not None:
            return found
        key = (provider, model)
        if key not in self._pattern_cache:
            by_pattern: dict[str, list[Price]] = defaultdict(list)
            for price in self.patterns.get(provider, []):
                if fnmatch.fnmatchcase(model, price.model_pattern):
                    by_pattern[price.model_pattern].append(price)  # newest first, as loaded
            self._pattern_cache[key] = [by_pattern[p] for p in sorted(by_pattern, key=_specificity, reverse=True)]
        for prices in self._pattern_cache[key]:  # the most specific pattern with a price in force
            found = self._in_force(prices, at)
            if found is not None:
                return found
        return None


def _decimal(value: object, name: str, *, required: bool) -> Decimal | None:
    if value is None or value == "":
        if required:
            raise field_error(name, "is required")
        return None
    if isinstance(value, float):
        value = repr(value)
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise field_error(name, "must be a decimal number (USD per million tokens)") from None
    if not number.is_finite() or number < 0:
        raise field_error(name, "must be a non-negative number")
    return number.quantize(Decimal("0.000001"))


@dataclass(frozen=True)
class ImportResult:
    created: int
    unchanged: int
    skipped: list[str]


def _price_row(entry: dict, *, source: str, source_date: date | None, effective_from: datetime) -> dict:
    if not entry.get("provider"):
        raise field_error("provider", "is required")
    model, pattern = entry.get("model") or "", entry.get("model_pattern") or ""
    if bool(model) == bool(pattern):
        raise field_error("model", "give exactly one of model or model_pattern")
    return {
        "provider": entry["provider"],
        "model": model,
        "model_pattern": pattern,
        "effective_from": effective_from,
        "input_uncached": _decimal(entry.get("input_uncached"), "input_uncached", required=True),
        "input_cache_read": _decimal(entry.get("input_cache_read"), "input_cache_read", required=False),
        "input_cache_write": _decimal(entry.get("input_cache_write"), "input_cache_write", required=False),
        "output": _decimal(entry.get("output"), "output", required=True),
        "output_reasoning": _decimal(entry.get("output_reasoning"), "output_reasoning", required=False),
        "source": source,
        "source_date": source_date,
    }


def prices_import(*, actor: Actor, rows: list[dict], what: str) -> ImportResult:
    """Add price rows; a row identical to one already in the catalog is left as it is. One audit event."""
    created = unchanged = 0
    with transaction.atomic():
        for row in rows:
            key = {k: row[k] for k in ("provider", "model", "model_pattern", "effective_from")}
            existing = Price.objects.filter(**key).first()
            if existing is not None:
                same = all(getattr(existing, f) == row[f] for f in PRICE_FIELDS)
                if not same:
                    raise ServiceError(
                        f"{row['provider']}/{row['model'] or row['model_pattern']} already has a different price "
                        f"from {row['effective_from']:%Y-%m-%d}: add a row with a later effective_from",
                        fields={"effective_from": ["a price from this time exists"]},
                    )
                unchanged += 1
                continue
            Price.objects.create(**row, **created_by(actor))
            created += 1
        audit_append(
            actor=actor,
            event_type=LLMEvent.PRICES_IMPORTED,
            target_type="llmops.price",
            target_repr=what,
            after={"source": what, "created": created, "unchanged": unchanged},
        )
    return ImportResult(created=created, unchanged=unchanged, skipped=[])


def price_add(
    *, actor: Actor, where: str, entry: dict, effective_from: datetime, source: str, source_date: date | None = None
) -> Price:
    """One price row (provider, model or model_pattern, prices per million) added to the catalog; audited.
    `where` names the surface it came through (API, admin) in the audit event."""
    row = _price_row(entry, source=source, source_date=source_date, effective_from=effective_from)
    name = row["model"] or row["model_pattern"]
    prices_import(actor=actor, rows=[row], what=f"{where}: {row['provider']}/{name} from {effective_from:%Y-%m-%d}")
    return Price.objects.get(**{k: row[k] for k in ("provider", "model", "model_pattern", "effective_from")})


def prices_seed(*, actor: Actor) -> ImportResult:
    """The shipped catalog (llmops/data/prices.json): public list prices with their source and date."""
    seed = json.loads(SEED_FILE.read_text())
    rows = []
    for entry in seed["prices"]:
        rows.append(
            _price_row(
                entry,
                source=entry["source"],
                source_date=date.fromisoformat(entry["source_date"]),
                effective_from=datetime.fromisoformat(entry["effective_from"]),
            )
        )
    return prices_import(actor=actor, rows=rows, what=f"seed {SEED_FILE.name} ({seed['as_of']})")


LITELLM_PROVIDERS = {"gemini": "google", "vertex_ai-language-models": "google", "text-completion-openai": "openai"}


def litellm_rows(data: dict, *, effective_from: datetime, source: str) -> tuple[list[dict], list[str]]:
    """Rows from LiteLLM's model_prices_and_context_window.json (costs per token, floats)."""
    rows, skipped = [], []
    for name, spec in data.items():
        if name == "sample_spec" or not isinstance(spec, dict):
            continue
        if spec.get("input_cost_per_token") is None or spec.get("output_cost_per_token") is None:
            skipped.append(f"{name}: no per-token input and output cost")
            continue
        provider = spec.get("litellm_provider") or ""
        provider = LITELLM_PROVIDERS.get(provider, provider)
        model = name.split("/", 1)[1] if "/" in name else name

        def per_million(key: str, spec: dict = spec) -> str | None:
            value = spec.get(key)
            return None if value is None else str(Decimal(repr(float(value))) * PER_TOKENS)

        rows.append(
            _price_row(
                {
                    "provider": provider,
                    "model": model,
                    "input_uncached": per_million("input_cost_per_token"),
                    "input_cache_read": per_million("cache_read_input_token_cost"),
                    "input_cache_write": per_million("cache_creation_input_token_cost"),
                    "output": per_million("output_cost_per_token"),
                    "output_reasoning": per_million("output_cost_per_reasoning_token"),
                },
                source=source,
                source_date=effective_from.date(),
                effective_from=effective_from,
            )
        )
    unique: dict[tuple, dict] = {}
    for row in rows:  # LiteLLM lists some models under several prefixes: keep the first
        unique.setdefault((row["provider"], row["model"]), row)
    return list(unique.values()), skipped


@dataclass(frozen=True)
class RepriceResult:
    calls: int
    priced: int
    unpriced: int
    cost_before: Decimal
    cost_after: Decimal


def calls_reprice(
    *, actor: Actor, project_id: int, start: datetime | None = None, end: datetime | None = None
) -> RepriceResult:
    """Price the project's calls in [start, end) again with the catalog as it is now; audited."""
    calls = LLMCall.objects.filter(project_id=project_id)
    if start is not None:
        calls = calls.filter(occurred_at__gte=start)
    if end is not None:
        calls = calls.filter(occurred_at__lt=end)
    with transaction.atomic():
        before = calls.aggregate(total=Sum("cost"))["total"] or Decimal(0)
        book = PriceBook(set(calls.values_list("provider", flat=True).distinct()))
        changed: list[LLMCall] = []
        count = priced = 0
        for call in (
            for_update(calls)
            .only("id", "provider", "model", "occurred_at", "cost", "price_id", *CALL_FIELDS.values())
            .iterator(chunk_size=2000)
        ):
            count += 1
            price = book.price_for(call.provider, call.model, call.occurred_at)
            cost = None if price is None else cost_of(call_tokens(call), price)
            status = LLMCall.CostStatus.UNPRICED if price is None else LLMCall.CostStatus.PRICED
            priced += price is not None
            if cost != call.cost or (price and price.pk) != call.price_id:
                call.cost, call.price, call.cost_status = cost, price, status
                changed.append(call)
        LLMCall.objects.bulk_update(changed, ["cost", "price", "cost_status"], batch_size=2000)
        after = calls.aggregate(total=Sum("cost"))["total"] or Decimal(0)
        audit_append(
            actor=actor,
            event_type=LLMEvent.CALLS_REPRICED,
            target_type="llmops.llmcall",
            target_repr=f"calls of project {project_id}",
            project_id=project_id,
            before={"cost": before},
            after={
                "cost": after,
                "calls": count,
                "changed": len(changed),
                "unpriced": count - priced,
                "start": start,
                "end": end,
                "repriced_at": timezone.now(),
            },
        )
    return RepriceResult(calls=count, priced=priced, unpriced=count - priced, cost_before=before, cost_after=after)


def call_tokens(call: LLMCall) -> dict[str, int]:
    return {category: getattr(call, field) for category, field in CALL_FIELDS.items()}
