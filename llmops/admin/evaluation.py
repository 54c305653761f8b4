"""Evaluation datasets and runs, read-only; two runs over one dataset compared item by item."""

from __future__ import annotations

from datetime import UTC

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Prefetch
from django.http import HttpResponseRedirect
from django.urls import path
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.text import Truncator

from llmops import charts
from llmops.admin.display import aggregates_summary, variables_html
from llmops.models import (
    EvaluationDataset,
    EvaluationItem,
    EvaluationResult,
    EvaluationRun,
)
from llmops.presenters.content import compare_url, run_label
from llmops.presenters.evaluation import evaluation_run_page, run_comparison
from llmops.services import evaluation
from registry.admin.kit import (
    EMPTY,
    InProjectFilter,
    ProjectFilter,
    ReadOnlyAdmin,
    ReadOnlyInline,
    admin_url,
    choice_badge,
    count,
    link,
    pretty_json,
)
from registry.errors import ServiceError


class CompareForm(forms.Form):
    a = forms.ModelChoiceField(queryset=EvaluationRun.objects.none(), label="Run A (baseline)")
    b = forms.ModelChoiceField(queryset=EvaluationRun.objects.none(), label="Run B (candidate)")

    def __init__(self, *args, runs, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("a", "b"):
            self.fields[name].queryset = runs
            self.fields[name].label_from_instance = lambda run: f"{run_label(run)} · dataset {run.dataset.name}"

    def clean(self):
        cleaned = super().clean()
        a, b = cleaned.get("a"), cleaned.get("b")
        if a and b and a.dataset_id != b.dataset_id:
            self.add_error("b", "Runs are compared item by item: choose two runs over the same dataset.")
        elif a and b and a.pk == b.pk:
            self.add_error("b", "Choose two different runs.")
        return cleaned


@admin.register(EvaluationRun)
class EvaluationRunAdmin(ReadOnlyAdmin):
    """Evaluation runs, read-only for everyone (run through the API). Two runs over the same dataset are
    compared item by item on a page of their own (evaluation_runs_compare)."""

    change_form_template = "admin/llmops/evaluationrun/change_form.html"
    list_defer = ("evaluators",)
    list_display = ["run", "prompt_version", "dataset", "model_name", "summary", "status_display", "created_day"]
    list_display_links = ["run"]
    list_select_related = ["prompt_version__template", "dataset"]
    list_filter = [
        "status",
        ("dataset", InProjectFilter),
        ("prompt_version__template", InProjectFilter),
        ("project", ProjectFilter),
    ]
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-id"]
    actions = ["compare_runs"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "prompt_version_link",
                    "dataset_link",
                    "model_display",
                    "status_display",
                    "error",
                    "created_at_utc",
                    "created_by",
                ]
            },
        ),
        ("Evaluators", {"fields": ["evaluators_display"], "classes": ["collapse"]}),
    ]
    readonly_fields = [
        "prompt_version_link",
        "dataset_link",
        "model_display",
        "status_display",
        "evaluators_display",
        "created_by",
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related(
                "prompt_version__template", "dataset", "project", "created_by_user", "created_by_key__project"
            )
        )

    @admin.display(description="run", ordering="id")
    def run(self, obj):
        return f"#{obj.pk}"

    @admin.display(description="model", ordering="model")
    def model_display(self, obj):
        return format_html(
            '<span class="nowrap">{} <span class="text-muted">({})</span></span>', obj.model, obj.provider
        )

    @admin.display(description="model", ordering="model")
    def model_name(self, obj):
        return format_html('<span class="nowrap" title="{}">{}</span>', obj.provider, obj.model)

    @admin.display(description="scores (pass rate)")
    def summary(self, obj):
        return format_html('<span class="text-small">{}</span>', aggregates_summary(obj))

    @admin.display(description="created (UTC)", ordering="created_at")
    def created_day(self, obj):
        moment = obj.created_at.astimezone(UTC)
        return format_html('<span class="nowrap" title="{}">{}</span>', f"{moment:%H:%M} UTC", f"{moment:%Y-%m-%d}")

    @admin.display(description="status", ordering="status")
    def status_display(self, obj):
        return choice_badge(EvaluationRun.Status, obj.status)

    @admin.display(description="prompt version")
    def prompt_version_link(self, obj):
        return link(obj.prompt_version)

    @admin.display(description="dataset")
    def dataset_link(self, obj):
        return link(obj.dataset)

    @admin.display(description="evaluators")
    def evaluators_display(self, obj):
        return pretty_json(obj.evaluators)

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path("compare/", self.admin_site.admin_view(self.compare_view), name="{}_{}_compare".format(*info)),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = dict(extra_context or {})
        run = self.get_object(request, unquote(object_id))
        if run is not None and self.has_view_or_change_permission(request, run):
            others = (
                self.get_queryset(request)
                .filter(dataset_id=run.dataset_id)
                .exclude(pk=run.pk)
                .order_by("-created_at", "-id")[:20]
            )
            extra["evaluation"] = evaluation_run_page(run, others)
        return super().change_view(request, object_id, form_url, extra)

    @admin.action(description="Compare the two selected runs", permissions=["view"])
    def compare_runs(self, request, queryset):
        runs = list(queryset.order_by("created_at", "id")[:3])
        if len(runs) != 2:
            messages.warning(request, "Select exactly two runs to compare them.")
            return None
        if runs[0].dataset_id != runs[1].dataset_id:
            messages.error(request, "Runs are compared item by item: select two runs over the same dataset.")
            return None
        return HttpResponseRedirect(compare_url(runs[0].pk, runs[1].pk))

    def compare_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        runs = self.get_queryset(request).order_by("-created_at", "-id")
        form = CompareForm(request.GET if "a" in request.GET or "b" in request.GET else None, runs=runs)
        comparison = None
        if form.is_bound and form.is_valid():
            with_results = Prefetch("results", queryset=EvaluationResult.objects.select_related("item"))
            loaded = {
                r.pk: r
                for r in runs.filter(pk__in=[form.cleaned_data["a"].pk, form.cleaned_data["b"].pk]).prefetch_related(
                    with_results
                )
            }
            a, b = loaded[form.cleaned_data["a"].pk], loaded[form.cleaned_data["b"].pk]
            try:
                compared = evaluation.evaluation_runs_compare(a=a, b=b)
            except ServiceError as exc:
                form.add_error(None, exc.message)
            else:
                comparison = run_comparison(a, b, compared)
        return self.render_page(
            request,
            "admin/llmops/evaluationrun/compare.html",
            title="Compare evaluation runs",
            form=form,
            comparison=comparison,
            chart=mark_safe(charts.comparison_svg(**comparison["chart"])) if comparison else None,  # noqa: S308 - the chart escapes its texts
        )


class EvaluationItemInline(ReadOnlyInline):
    model = EvaluationItem
    fields = ["position", "variables_display", "expected", "context_display"]
    readonly_fields = fields
    verbose_name_plural = "items"

    @admin.display(description="variables")
    def variables_display(self, obj):
        return variables_html(obj.variables)

    @admin.display(description="context passages")
    def context_display(self, obj):
        if not obj.context:
            return EMPTY
        return format_html_join(
            "", '<div class="llm-kv">{}</div>', ((Truncator(str(passage)).chars(160),) for passage in obj.context)
        )


@admin.register(EvaluationDataset)
class EvaluationDatasetAdmin(ReadOnlyAdmin):
    """Evaluation datasets and their items, read-only (made through the API)."""

    list_display = ["name", "project", "item_count", "run_count", "created"]
    list_select_related = ["project"]
    list_filter = [("project", ProjectFilter)]
    search_fields = ["name", "description"]
    fields = ["name", "project", "description", "runs_display", "created_at_utc", "created_by"]
    readonly_fields = ["runs_display", "created_by"]
    inlines = [EvaluationItemInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("project", "created_by_user", "created_by_key__project")
            .annotate(items_count=Count("items", distinct=True), runs_count=Count("runs", distinct=True))
        )

    @admin.display(description="items", ordering="items_count")
    def item_count(self, obj):
        return count(obj.items_count)

    @admin.display(description="evaluation runs", ordering="runs_count")
    def run_count(self, obj):
        return count(obj.runs_count)

    @admin.display(description="evaluation runs")
    def runs_display(self, obj):
        runs = obj.runs.select_related("prompt_version__template").order_by("-created_at", "-id")
        rows = [(admin_url(run), run_label(run), aggregates_summary(run)) for run in runs]
        if not rows:
            return EMPTY
        return format_html_join("", '<div><a href="{}">{}</a> <span class="text-muted">{}</span></div>', rows)
