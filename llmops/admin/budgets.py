"""Budgets, set through budget_create by compliance officers, with their state in the current period."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode

from llmops.admin.display import money
from llmops.models import (
    Budget,
    BudgetAlert,
)
from llmops.permissions import BUDGET_OFFICERS
from llmops.services import budgets
from registry.admin.kit import (
    EMPTY,
    ProjectFilter,
    ReadOnlyInline,
    ServiceCreateAdmin,
    admin_actor,
    audit_trail_url,
    badge,
    count,
    plural,
    when,
)
from registry.tones import Tone

# A budget's state (llmops.services.budgets.BudgetState.state) in the current period.
BUDGET_STATE_TONES = {"ok": Tone.SUCCESS, "warning": Tone.WARNING, "exceeded": Tone.DANGER}


# Budgets -----------------------------------------------------------------------------------------


def budget_state_of(budget: Budget) -> budgets.BudgetState:
    """The service's state of the budget now, computed once per row (several columns show it)."""
    state = getattr(budget, "_llm_state", None)
    if state is None:
        state = budget._llm_state = budgets.budget_state(budget, timezone.now())
    return state


def share_bar(state: budgets.BudgetState, thresholds) -> str:
    """The share of the limit spent as a bar 120 by 10 pixels (an SVG: its widths are attributes, its colours the
    stylesheet's), a tick at each alert threshold below 100 % overflowing the bar by 2 pixels, and the share in the
    state's tone beside it."""
    share = float(state.share)
    tone = BUDGET_STATE_TONES.get(state.state, Tone.NEUTRAL).value
    ticks = format_html_join(
        "",
        '<rect class="share-bar-tick" x="{}" y="-2" width="2" height="14"><title>alert at {}</title></rect>',
        ((f"{float(t) * 120:.1f}", f"{float(t):.0%}") for t in thresholds if 0 < float(t) < 1),
    )
    return format_html(
        '<span class="share-bar">'
        '<svg class="share-bar-track" width="120" height="10" viewBox="0 0 120 10" role="img">'
        "<title>{} of the limit spent</title>"
        '<rect class="share-bar-empty" x="0" y="0" width="120" height="10" rx="2"></rect>'
        '<rect class="share-bar-fill tone-{}" x="0" y="0" width="{}" height="10" rx="2"></rect>'
        "{}</svg>"
        '<span class="share-bar-figure tone-{}">{}</span></span>',
        f"{share:.1%}",
        tone,
        f"{min(share, 1.0) * 120:.1f}",
        ticks,
        tone,
        f"{share:.0%}",
    )


class BudgetForm(forms.ModelForm):
    thresholds = forms.CharField(
        initial="0.5, 0.8, 1",
        help_text="Shares of the limit that raise an alert (an audit event and the webhooks), once per period, "
        "separated by commas.",
    )

    class Meta:
        model = Budget
        fields = ["project", "name", "scope", "scope_value", "period", "limit", "thresholds"]

    def clean_thresholds(self) -> list[float]:
        try:
            return [float(part) for part in self.cleaned_data["thresholds"].split(",") if part.strip()]
        except ValueError:
            raise forms.ValidationError("Numbers separated by commas, e.g. 0.5, 0.8, 1.") from None


class BudgetAlertInline(ReadOnlyInline):
    model = BudgetAlert
    fields = ["period", "threshold_display", "spent_display", "raised"]
    readonly_fields = fields
    verbose_name_plural = "alerts raised"
    ordering = ["-raised_at", "-id"]

    @admin.display(description="period from")
    def period(self, obj):
        return obj.period_start.isoformat()

    @admin.display(description="threshold crossed")
    def threshold_display(self, obj):
        return f"{float(obj.threshold):.0%} of the limit"

    @admin.display(description="spent then")
    def spent_display(self, obj):
        return money(obj.spent)

    @admin.display(description="raised at")
    def raised(self, obj):
        return when(obj.raised_at)


@admin.register(Budget)
class BudgetAdmin(ServiceCreateAdmin):
    """Budgets, set here through budget_create by compliance officers (of the budget's project); read-only
    once set. The state is the service's (budget_state) for the current UTC day or month."""

    write_roles = BUDGET_OFFICERS
    form = BudgetForm
    list_display = [
        "name",
        "project",
        "scope_display",
        "period",
        "spent_of_limit",
        "share_display",
        "state_display",
        "alert_count",
    ]
    list_select_related = ["project"]
    list_filter = ["period", "scope", ("project", ProjectFilter)]
    search_fields = ["name", "scope_value"]
    list_per_page = 100
    readonly_fields = [
        "scope_display",
        "limit_display",
        "thresholds_display",
        "period_display",
        "state_display",
        "spent_of_limit",
        "share_display",
        "unpriced_display",
        "links",
        "created_by",
    ]
    inlines = [BudgetAlertInline]

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        rows = list(changelist.result_list)
        states = budgets.budget_states(rows, timezone.now())  # the page's states in one query
        for budget in rows:
            budget._llm_state = states[budget.pk]
        return changelist

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": BudgetForm._meta.fields})]
        return [
            (None, {"fields": ["name", "project", "scope_display", "period", "limit_display", "thresholds_display"]}),
            (
                "This period",
                {"fields": ["period_display", "state_display", "spent_of_limit", "share_display", "unpriced_display"]},
            ),
            ("Record", {"fields": ["links", "created_at_utc", "created_by"]}),
        ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("project", "created_by_user", "created_by_key__project")
            .annotate(alerts_raised=Count("alerts"))
        )

    def service_create(self, request, data):
        return budgets.budget_create(
            actor=admin_actor(request),
            project=data["project"],
            name=data["name"],
            limit=data["limit"],
            period=data["period"],
            scope=data["scope"],
            scope_value=data["scope_value"],
            thresholds=data["thresholds"],
        )

    @admin.display(description="covers", ordering="scope")
    def scope_display(self, obj):
        if obj.scope == Budget.Scope.PROJECT:
            return "the whole project"
        return format_html("{} <code>{}</code>", obj.scope, obj.scope_value)

    @admin.display(description="limit")
    def limit_display(self, obj):
        return f"${obj.limit:,.2f} per {'day' if obj.period == Budget.Period.DAILY else 'month'} (UTC)"

    @admin.display(description="alert thresholds")
    def thresholds_display(self, obj):
        return ", ".join(f"{float(t):.0%}" for t in obj.thresholds) or EMPTY

    @admin.display(description="period")
    def period_display(self, obj):
        start = budget_state_of(obj).period_start
        if obj.period == Budget.Period.DAILY:
            return f"{start.isoformat()} (UTC day)"
        return f"{start:%B %Y} (UTC month from {start.isoformat()})"

    @admin.display(description="state")
    def state_display(self, obj):
        state = budget_state_of(obj)
        return badge(state.state, BUDGET_STATE_TONES.get(state.state, Tone.NEUTRAL))

    @admin.display(description="spent / limit")
    def spent_of_limit(self, obj):
        state = budget_state_of(obj)
        return format_html(
            '<span class="nowrap text-numeric">{} / {}</span>',
            money(state.spent),
            f"${obj.limit:,.2f}",
        )

    @admin.display(description="share of the limit")
    def share_display(self, obj):
        return share_bar(budget_state_of(obj), obj.thresholds)

    @admin.display(description="unpriced calls this period")
    def unpriced_display(self, obj):
        unpriced = budget_state_of(obj).unpriced_calls
        if not unpriced:
            return "none"
        return format_html(
            '<span class="text-danger">{}</span> {}',
            plural(unpriced, "call"),
            "without a price: the spend above leaves them out (their cost is unknown, not zero).",
        )

    @admin.display(description="alerts", ordering="alerts_raised")
    def alert_count(self, obj):
        return count(getattr(obj, "alerts_raised", 0))

    @admin.display(description="see also")
    def links(self, obj):
        costs = reverse("admin:llmops_llmcall_costs") + "?" + urlencode({"project": obj.project.slug})
        return format_html(
            '<a href="{}">Costs of {}</a> · <a href="{}">This budget in the audit trail</a>',
            costs,
            obj.project.slug,
            audit_trail_url(obj),
        )
