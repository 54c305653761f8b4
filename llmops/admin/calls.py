"""LLM calls, read-only: their tokens, cost, retrieved documents and scores; the cost dashboard is a page of
this admin."""

from __future__ import annotations

import json
from datetime import UTC, timedelta
from decimal import Decimal

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.text import Truncator

from llmops import charts, selectors
from llmops.admin.costs import CostsForm
from llmops.admin.display import content_html, messages_html, money, per_million, price_text, score_cell, tags_html
from llmops.models import (
    USAGE_CATEGORIES,
    CallScore,
    LLMCall,
    PromptVersion,
    RetrievedDocument,
)
from llmops.presenters import content, traces
from llmops.presenters.costs import DASHBOARD_DAYS, cost_dashboard, default_range
from registry.admin.kit import (
    EMPTY,
    ErasedFilter,
    InProjectFilter,
    ProjectFilter,
    ReadOnlyAdmin,
    ReadOnlyInline,
    VersionOfParentFilter,
    badge,
    choice_badge,
    count,
    link,
    member_scope,
    short_hash,
    when,
)
from registry.models import Project
from registry.tones import Tone

# LLM calls ---------------------------------------------------------------------------------------

CATEGORY_NAMES = {
    "input_uncached": "input (not cached)",
    "input_cache_read": "input read from the cache",
    "input_cache_write": "input written to the cache",
    "output": "output",
    "output_reasoning": "output: reasoning",
}


def draw(chart, *args, **kwargs):
    """An SVG of llmops.charts, placed in the page as markup (the charts escape every text they place)."""
    return mark_safe(chart(*args, **kwargs))  # noqa: S308


def _called(request) -> list[tuple[str, str]]:
    """(provider, model) pairs of the calls the person may see, read once per request for both filters."""
    cached = getattr(request, "_llm_called", None)
    if cached is None:
        calls = member_scope(LLMCall.objects.all(), request.user, "project")
        cached = request._llm_called = list(
            calls.order_by("provider", "model").values_list("provider", "model").distinct()
        )
    return cached


class CalledModelFilter(admin.SimpleListFilter):
    title = "model"
    parameter_name = "model"

    def lookups(self, request, model_admin):
        return [(name, name) for name in sorted({model for _, model in _called(request)})]

    def queryset(self, request, queryset):
        return queryset.filter(model=self.value()) if self.value() else queryset


class CalledProviderFilter(admin.SimpleListFilter):
    title = "provider"
    parameter_name = "provider"

    def lookups(self, request, model_admin):
        return [(name, name) for name in sorted({provider for provider, _ in _called(request)})]

    def queryset(self, request, queryset):
        return queryset.filter(provider=self.value()) if self.value() else queryset


class CallPromptVersionFilter(VersionOfParentFilter):
    """Versions of the prompt chosen in the "prompt" filter (or of the version already chosen)."""

    title = "prompt version"
    parameter_name = "prompt_version"
    version_model = PromptVersion
    parent = "template"
    parent_parameter = "prompt_version__template__id__exact"
    field = "prompt_version_id"


class RetrievedDocumentInline(ReadOnlyInline):
    model = RetrievedDocument
    fields = ["rank", "document", "source_display", "chunk", "score_display", "data_version_link", "subject"]
    readonly_fields = fields
    verbose_name_plural = "retrieved documents (the RAG context given to the model)"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("data_version__dataset")

    @admin.display(description="document")
    def document(self, obj):
        return format_html('<code class="text-wrap-anywhere">{}</code>', obj.document_id)

    @admin.display(description="source")
    def source_display(self, obj):
        return Truncator(obj.source).chars(80) or EMPTY

    @admin.display(description="chunk hash")
    def chunk(self, obj):
        return short_hash(obj.chunk_sha256)

    @admin.display(description="score")
    def score_display(self, obj):
        return EMPTY if obj.score is None else f"{obj.score:.3f}"

    @admin.display(description="data version")
    def data_version_link(self, obj):
        return link(obj.data_version) if obj.data_version_id else EMPTY

    @admin.display(description="about a subject")
    def subject(self, obj):
        if obj.erased_at is not None:
            return format_html('<span class="text-warning">{}</span>', "erased")
        return "yes" if obj.subject_key else "no"


class CallScoreInline(ReadOnlyInline):
    model = CallScore
    fields = ["evaluator", "kind", "score", "detail_display", "scored"]
    readonly_fields = fields
    verbose_name_plural = "scores"

    @admin.display(description="score")
    def score(self, obj):
        return score_cell(obj.value, obj.passed)

    @admin.display(description="detail")
    def detail_display(self, obj):
        if not obj.detail:
            return EMPTY
        return Truncator(json.dumps(obj.detail, ensure_ascii=False, sort_keys=True)).chars(160)

    @admin.display(description="scored at")
    def scored(self, obj):
        return when(obj.scored_at)


@admin.register(LLMCall)
class LLMCallAdmin(ReadOnlyAdmin):
    """Recorded LLM calls, read-only for everyone (ingested through the API). The cost dashboard is a page
    of this admin. The subject key is never shown; whether a call is linked to a subject is."""

    change_list_template = "admin/llmops/llmcall/change_list.html"
    list_defer = ("input", "output", "error")  # the inputs and outputs (the large columns) stay in the database
    list_display = [
        "occurred_utc",
        "model_name",
        "prompt_version_name",
        "status_display",
        "tokens",
        "cost_display",
        "tags_display",
    ]
    list_display_links = ["occurred_utc"]
    list_select_related = ["prompt_version__template"]
    list_filter = [
        CalledModelFilter,
        CalledProviderFilter,
        "status",
        "cost_status",
        ("prompt_version__template", InProjectFilter),
        CallPromptVersionFilter,
        ErasedFilter,
        ("project", ProjectFilter),
    ]
    date_hierarchy = "occurred_at"
    search_fields = ["client_call_id"]
    search_help_text = "exact client call id or trace id"
    ordering = ["-occurred_at", "-id"]
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # a count per filter choice would scan the whole table
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "client_call_id",
                    "project",
                    "occurred",
                    "model_display",
                    "prompt_version_link",
                    "status_display",
                    "error_display",
                    "latency",
                ]
            },
        ),
        ("Input and output", {"fields": ["input_display", "output_display"]}),
        ("Tokens and cost", {"fields": ["usage_display", "token_source", "cost_detail", "price_display"]}),
        ("Trace", {"fields": ["tags_display", "trace_id", "span_id", "trace_waterfall"]}),
        ("Data subject", {"fields": ["has_subject", "erased_when"]}),
        ("Record", {"fields": ["created_at_utc", "created_by_key_display"], "classes": ["collapse"]}),
    ]
    readonly_fields = [
        "occurred",
        "model_display",
        "prompt_version_link",
        "status_display",
        "error_display",
        "latency",
        "input_display",
        "output_display",
        "usage_display",
        "cost_detail",
        "price_display",
        "tags_display",
        "has_subject",
        "erased_when",
        "created_by_key_display",
        "trace_waterfall",
    ]
    inlines = [RetrievedDocumentInline, CallScoreInline]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("prompt_version__template", "price", "project")

    def get_search_results(self, request, queryset, search_term):
        """Exact matches on the client call id or the trace id, so the indexes answer."""
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(Q(client_call_id=term) | Q(trace_id=term)), False

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path("costs/", self.admin_site.admin_view(self.costs_view), name="{}_{}_costs".format(*info)),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(
            request, {"costs_url": reverse("admin:llmops_llmcall_costs"), **(extra_context or {})}
        )

    # Columns

    @admin.display(description="occurred (UTC)", ordering="occurred_at")
    def occurred_utc(self, obj):
        return when(obj.occurred_at, suffix=False)

    @admin.display(description="model", ordering="model")
    def model_name(self, obj):
        return format_html('<span class="nowrap" title="{}">{}</span>', obj.provider, obj.model)

    @admin.display(description="prompt version", ordering="prompt_version")
    def prompt_version_name(self, obj):
        if obj.prompt_version_id is None:
            return EMPTY
        return format_html('<span class="nowrap">{}</span>', obj.prompt_version)

    @admin.display(description="status", ordering="status")
    def status_display(self, obj):
        """The call's status, and an "erased" badge once an erasure request redacted it."""
        status = choice_badge(LLMCall.Status, obj.status)
        if obj.erased_at is None:
            return status
        return format_html("{} {}", status, badge("erased", Tone.WARNING))

    @admin.display(description="tokens in / out")
    def tokens(self, obj):
        """Input and output tokens; beneath, the cached share and reasoning, and "counted" when the service
        counted them (no usage from the provider)."""
        notes = []
        if obj.input_cache_read:
            notes.append(f"{obj.input_cache_read:,} cached")
        if obj.input_cache_write:
            notes.append(f"{obj.input_cache_write:,} to cache")
        if obj.output_reasoning:
            notes.append(f"{obj.output_reasoning:,} reasoning")
        if obj.token_source != "provider":
            notes.append("counted" + (", fallback" if "fallback" in obj.token_source else ""))
        figures = f"{obj.input_tokens:,} / {obj.output_tokens + obj.output_reasoning:,}"
        if not notes:
            return format_html('<span class="nowrap" title="{}">{}</span>', obj.token_source, figures)
        return format_html(
            '<span class="nowrap" title="{}">{}</span><br><span class="text-muted text-small nowrap">{}</span>',
            obj.token_source,
            figures,
            ", ".join(notes),
        )

    @admin.display(description="cost", ordering="cost")
    def cost_display(self, obj):
        return money(obj.cost)

    @admin.display(description="tags")
    def tags_display(self, obj):
        return tags_html(obj.tags)

    # Fields of a call's page

    @admin.display(description="occurred at")
    def occurred(self, obj):
        return when(obj.occurred_at)

    @admin.display(description="model")
    def model_display(self, obj):
        return format_html('{} <span class="text-muted">({})</span>', obj.model, obj.provider)

    @admin.display(description="prompt version")
    def prompt_version_link(self, obj):
        return link(obj.prompt_version) if obj.prompt_version_id else EMPTY

    @admin.display(description="error")
    def error_display(self, obj):
        return format_html('<pre class="llm-pre">{}</pre>', obj.error) if obj.error else EMPTY

    @admin.display(description="trace")
    def trace_waterfall(self, obj):
        """The call's trace as a waterfall (its spans as OTLP sent them), this call's span outlined."""
        waterfall = traces.call_waterfall(obj)
        if waterfall is None:
            return EMPTY
        return draw(charts.trace_waterfall_svg, waterfall, id_prefix=f"trace-{obj.pk}")

    @admin.display(description="latency")
    def latency(self, obj):
        return EMPTY if obj.latency_ms is None else f"{obj.latency_ms:,.0f} ms"

    def _erased(self, obj):
        return format_html(
            '<span class="text-warning">{}</span> <span class="text-muted">{}</span>',
            "erased",
            f"(redacted on {obj.erased_at.astimezone(UTC):%Y-%m-%d} by an erasure request)",
        )

    @admin.display(description="input")
    def input_display(self, obj):
        if obj.erased_at is not None:
            return self._erased(obj)
        if obj.input is None:
            return EMPTY
        if isinstance(obj.input, list):
            return messages_html(obj.input)
        return content_html(content.text_content(content.content_text(obj.input)))

    @admin.display(description="output")
    def output_display(self, obj):
        if obj.erased_at is not None:
            return self._erased(obj)
        if not obj.output:
            return EMPTY
        return format_html('<div class="llm-messages llm-output"><pre>{}</pre></div>', obj.output)

    @admin.display(description="tokens by usage category")
    def usage_display(self, obj):
        price = obj.price
        rows = []
        for category in USAGE_CATEGORIES:
            tokens = getattr(obj, selectors.TOKEN_COLUMNS[category])
            rate = price.per_million(category) if price is not None else None
            cost = Decimal(tokens) * rate / Decimal(1_000_000) if rate is not None else None
            rows.append(
                (
                    CATEGORY_NAMES[category],
                    count(tokens),
                    per_million(rate) if rate is not None else EMPTY,
                    money(cost, unpriced_badge=False) if tokens and cost is not None else EMPTY,
                )
            )
        body = format_html_join(
            "", '<tr><td>{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td></tr>', rows
        )
        return format_html(
            '<table class="llm-usage"><thead><tr><th>category</th><th class="num">tokens</th>'
            '<th class="num">price per million</th><th class="num">cost</th></tr></thead><tbody>{}</tbody>'
            '<tfoot><tr><td>total</td><td class="num">{}</td><td></td><td class="num">{}</td></tr></tfoot></table>',
            body,
            count(obj.total_tokens),
            money(obj.cost),
        )

    @admin.display(description="cost")
    def cost_detail(self, obj):
        if obj.cost is None:
            return format_html(
                '{} <span class="text-muted">{}</span>',
                badge("unpriced", Tone.DANGER),
                "No price for this model at the call's time: the cost is unknown, not zero. Add a price row "
                "in force then, and reprice.",
            )
        return format_html(
            '<strong>{}</strong> <span class="text-muted">(exactly {})</span>',
            charts.usd(obj.cost),
            charts.usd(obj.cost, exact=True),
        )

    @admin.display(description="price used")
    def price_display(self, obj):
        if obj.price is None:
            return EMPTY
        price = obj.price
        return format_html(
            '{} <span class="text-muted">· input {} · cached input {} · output {} per million tokens · {}</span>',
            link(price),
            price_text(price.input_uncached),
            price_text(price.per_million("input_cache_read")),
            price_text(price.output),
            Truncator(price.source).chars(60),
        )

    @admin.display(description="linked to a subject")
    def has_subject(self, obj):
        if obj.erased_at is not None:
            return "no longer (erased)"
        return "yes" if obj.subject_key else "no"

    @admin.display(description="erased at")
    def erased_when(self, obj):
        return when(obj.erased_at)

    @admin.display(description="ingested with key")
    def created_by_key_display(self, obj):
        return f"{obj.created_by_key.name} ({obj.created_by_key.prefix}…)" if obj.created_by_key_id else EMPTY

    # The cost dashboard

    def costs_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        projects = member_scope(Project.objects.order_by("slug"), request.user, "pk")
        form = CostsForm(request.GET or None, projects=projects)
        valid = form.is_valid() if form.is_bound else False
        data = form.cleaned_data if valid else {}
        project = data.get("project")
        if project is not None:
            scope: set[int] | None = {project.pk}
        elif request.user.is_superuser:
            scope = None
        else:
            scope = set(projects.values_list("pk", flat=True))
        start, end = data.get("start"), data.get("end")
        if start is None or end is None:
            default_start, default_end = default_range(scope)
            start, end = start or default_start, end or default_end
            if start > end:
                start = end - timedelta(days=DASHBOARD_DAYS - 1)
        group_by = data.get("group_by") or "model"
        report = cost_dashboard(scope, start, end, group_by)
        if valid or not form.is_bound:  # the form shows the range and grouping used, defaults included
            shown = {"project": project.slug if project else "", "start": start, "end": end, "group_by": group_by}
            form = CostsForm(shown, projects=projects)
            form.is_valid()
        return self.render_page(
            request,
            "admin/llmops/costs.html",
            title="LLM costs",
            form=form,
            report=report,
            day_chart=draw(charts.cost_by_day_svg, **report["day_chart"]) if report["day_chart"] else None,
            model_chart=draw(charts.cost_by_model_svg, report["model_chart"]) if report["model_chart"] else None,
            project=project,
            start=start,
            end=end,
            calls_url=reverse("admin:llmops_llmcall_changelist"),
            prices_url=reverse("admin:llmops_price_changelist"),
            price_add_url=reverse("admin:llmops_price_add") if request.user.is_superuser else None,
        )
