"""The price catalog: superusers add a row through prices_import; a row is never changed."""

from __future__ import annotations

from datetime import UTC, time

from django import forms
from django.contrib import admin
from django.utils.html import format_html
from django.utils.text import Truncator

from llmops.admin.display import per_million
from llmops.models import (
    Price,
)
from llmops.services import pricing
from registry.admin.kit import (
    EMPTY,
    SUPERUSERS_ONLY,
    ServiceCreateAdmin,
    admin_actor,
)

# Prices ------------------------------------------------------------------------------------------


class PriceForm(forms.ModelForm):
    class Meta:
        model = Price
        fields = [
            "provider",
            "model",
            "model_pattern",
            "effective_from",
            "input_uncached",
            "input_cache_read",
            "input_cache_write",
            "output",
            "output_reasoning",
            "source",
            "source_date",
        ]
        labels = {
            "input_uncached": "Input",
            "input_cache_read": "Cached input (read)",
            "input_cache_write": "Cache write",
            "output": "Output",
            "output_reasoning": "Reasoning output",
        }
        help_texts = {
            "effective_from": "UTC. Calls from then on are priced with this row; a price is never edited: add a "
            "row with a later date.",
            "input_uncached": "USD per million tokens.",
            "input_cache_read": "Empty: the input price.",
            "input_cache_write": "Empty: the input price.",
            "output_reasoning": "Empty: the output price.",
            "source": "Where the price comes from (the provider's pricing page).",
        }

    def clean(self):
        cleaned = super().clean()
        if bool(cleaned.get("model")) == bool(cleaned.get("model_pattern")):
            self.add_error("model", "Give exactly one of a model name or a model pattern.")
        return cleaned


class PriceKindFilter(admin.SimpleListFilter):
    title = "matches"
    parameter_name = "matches"

    def lookups(self, request, model_admin):
        return [("model", "One model"), ("pattern", "A pattern")]

    def queryset(self, request, queryset):
        if self.value() == "model":
            return queryset.exclude(model="")
        if self.value() == "pattern":
            return queryset.filter(model="")
        return queryset


@admin.register(Price)
class PriceAdmin(ServiceCreateAdmin):
    """The price catalog, shared by every project. Rows are never changed or deleted (a new price is a new row
    with a later effective_from); superusers add one here through prices_import, which audits it."""

    write_roles = SUPERUSERS_ONLY
    form = PriceForm
    list_display = [
        "model_column",
        "effective",
        "input_price",
        "cached_price",
        "output_price",
        "source_display",
    ]  # cache write and reasoning prices on each row's page
    list_display_links = ["model_column"]
    list_filter = ["provider", PriceKindFilter]
    search_fields = ["model", "model_pattern"]
    readonly_fields = [
        "model_display",
        "effective",
        "input_price",
        "cached_price",
        "cache_write_price",
        "output_price",
        "reasoning_price",
        "source_display",
        "source_full",
        "source_day",
        "created_by",
    ]

    def get_queryset(self, request):
        return admin.ModelAdmin.get_queryset(self, request)  # the catalog belongs to no project

    def has_add_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def get_fields(self, request, obj=None):
        if obj is None:
            return PriceForm._meta.fields
        return [
            "provider",
            "model_display",
            "effective",
            "currency",
            "input_price",
            "cached_price",
            "cache_write_price",
            "output_price",
            "reasoning_price",
            "source_full",
            "source_day",
            "created_at_utc",
            "created_by",
        ]

    def service_create(self, request, data):
        entry = {
            name: (str(data[name]) if data.get(name) is not None else None)
            for name in ("input_uncached", "input_cache_read", "input_cache_write", "output", "output_reasoning")
        }
        entry.update(provider=data["provider"], model=data["model"], model_pattern=data["model_pattern"])
        return pricing.price_add(
            actor=admin_actor(request),
            where="admin",
            entry=entry,
            effective_from=data["effective_from"],
            source=data["source"],
            source_date=data.get("source_date"),
        )

    @admin.display(description="model", ordering="provider")
    def model_column(self, obj):
        """The model (or pattern), its provider beneath."""
        name = obj.model or obj.model_pattern
        kind = "" if obj.model else " · pattern"
        return format_html(
            '<span class="nowrap">{}</span><br><span class="text-muted text-small">{}{}</span>',
            name,
            obj.provider,
            kind,
        )

    @admin.display(description="source")
    def source_full(self, obj):
        if obj.source.startswith(("https://", "http://")):
            return format_html('<a href="{}" rel="noopener noreferrer">{}</a>', obj.source, obj.source)
        return obj.source

    @admin.display(description="source read on")
    def source_day(self, obj):
        return obj.source_date.isoformat() if obj.source_date else EMPTY

    @admin.display(description="model or pattern", ordering="model")
    def model_display(self, obj):
        if obj.model:
            return obj.model
        return format_html('<code>{}</code> <span class="text-muted">(pattern)</span>', obj.model_pattern)

    @admin.display(description="from (UTC)", ordering="effective_from")
    def effective(self, obj):
        moment = obj.effective_from.astimezone(UTC)
        text = f"{moment:%Y-%m-%d}" if moment.time() == time() else f"{moment:%Y-%m-%d %H:%M}"
        return format_html('<span class="nowrap" title="{}">{}</span>', f"{moment:%Y-%m-%d %H:%M} UTC", text)

    @admin.display(description="input $/M", ordering="input_uncached")
    def input_price(self, obj):
        return per_million(obj.input_uncached)

    @admin.display(description="cached input $/M")
    def cached_price(self, obj):
        return per_million(obj.input_cache_read, default="= input")

    @admin.display(description="cache write $/M")
    def cache_write_price(self, obj):
        return per_million(obj.input_cache_write, default="= input")

    @admin.display(description="output $/M", ordering="output")
    def output_price(self, obj):
        return per_million(obj.output)

    @admin.display(description="reasoning $/M")
    def reasoning_price(self, obj):
        return per_million(obj.output_reasoning, default="= output")

    @admin.display(description="source")
    def source_display(self, obj):
        """The source's site, the whole address and the date it was read on hover."""
        title = obj.source + (f" (read {obj.source_date:%Y-%m-%d})" if obj.source_date else "")
        if obj.source.startswith(("https://", "http://")):
            site = obj.source.split("://", 1)[1].split("/", 1)[0].removeprefix("www.")
            return format_html('<a href="{}" rel="noopener noreferrer" title="{}">{}</a>', obj.source, title, site)
        return format_html('<span title="{}">{}</span>', title, Truncator(obj.source).chars(30))
