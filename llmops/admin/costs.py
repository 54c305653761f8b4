"""The cost dashboard's form and what it shows."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django import forms
from django.db.models import Max, Min
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.safestring import mark_safe

from llmops import charts, selectors
from llmops.admin.display import money
from registry.admin.kit import (
    EMPTY,
    badge,
    count,
)
from registry.models import Project
from registry.tones import Tone

DASHBOARD_DAYS = 30
MAX_DASHBOARD_DAYS = 400


# The cost dashboard ------------------------------------------------------------------------------


GROUPINGS = [("model", "model"), ("prompt_version", "prompt version"), ("tag", "tag"), ("day", "day")]


class CostsForm(forms.Form):
    project = forms.ModelChoiceField(
        queryset=Project.objects.none(), required=False, empty_label="All my projects", to_field_name="slug"
    )
    start = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), label="From"
    )
    end = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), label="Until"
    )
    group_by = forms.ChoiceField(choices=GROUPINGS, required=False, label="Table by")

    def __init__(self, *args, projects, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = projects

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and start > end:
            self.add_error("end", "Must be on or after the start.")
        elif start and end and (end - start).days >= MAX_DASHBOARD_DAYS:
            self.add_error("start", f"At most {MAX_DASHBOARD_DAYS} days at once.")
        return cleaned


def default_range(scope: set[int] | None) -> tuple[date, date]:
    """The last 30 days (UTC), or the last 30 days of the data when nothing was called in those."""
    today = timezone.now().astimezone(UTC).date()
    recent_start = today - timedelta(days=DASHBOARD_DAYS - 1)
    calls = selectors.calls_in(project_ids=scope, start=None, end=None)
    bounds = calls.aggregate(first=Min("occurred_at"), last=Max("occurred_at"))
    if bounds["last"] is None:
        return recent_start, today
    first, last = bounds["first"].astimezone(UTC).date(), bounds["last"].astimezone(UTC).date()
    if recent_start <= last <= today:
        return max(recent_start, first), today
    return max(last - timedelta(days=DASHBOARD_DAYS - 1), first), last


def cost_dashboard(scope: set[int] | None, start: date, end: date, group_by: str) -> dict:
    """Everything the dashboard shows, for [start, end] (UTC days, both included)."""
    start_at = datetime.combine(start, time(), UTC)
    end_at = datetime.combine(end + timedelta(days=1), time(), UTC)
    by_model = selectors.costs_rollup(project_ids=scope, group_by="model", start=start_at, end=end_at)
    table = (
        by_model
        if group_by == "model"
        else selectors.costs_rollup(project_ids=scope, group_by=group_by, start=start_at, end=end_at)
    )
    daily = selectors.daily_costs_by_model(project_ids=scope, start=start_at, end=end_at)
    models = sorted(by_model["rows"], key=lambda r: (-r["cost"], -r["calls"], r["key"]))
    names = [r["label"] for r in models]
    ambiguous = {name for name in names if names.count(name) > 1}  # one model name under two providers
    label_of = {r["key"]: (r["key"] if r["label"] in ambiguous else r["label"]) for r in models}
    priced = [r for r in models if r["cost"] > 0]
    if len(priced) > charts.MAX_SERIES:
        own, grouped = priced[: charts.MAX_SERIES - 1], priced[charts.MAX_SERIES - 1 :]
    else:
        own, grouped = priced, []
    colours = charts.series_colours([label_of[r["key"]] for r in own])
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    index = {day: i for i, day in enumerate(days)}
    series = {r["key"]: {"label": label_of[r["key"]], "colour": colours[label_of[r["key"]]]} for r in own}
    if grouped:
        series["*"] = {"label": f"{len(grouped)} other models", "colour": charts.OTHER}
    for s in series.values():
        s["values"], s["calls"] = [Decimal(0)] * len(days), [0] * len(days)
    unpriced = [0] * len(days)
    for row in daily:
        i = index.get(row["day"])
        if i is None:
            continue
        key = f"{row['provider']}/{row['model']}"
        unpriced[i] += row["unpriced"]
        target = series.get(key) or (series.get("*") if row["cost"] else None)
        if target is not None:
            target["values"][i] += row["cost"]
            target["calls"][i] += row["calls"] - row["unpriced"]
    model_rows = [
        {
            "label": label_of[r["key"]],
            "colour": colours.get(label_of[r["key"]], charts.OTHER),
            "cost": r["cost"],
            "calls": r["calls"],
            "unpriced": r["unpriced"],
        }
        for r in models
    ]
    model_rows.sort(key=lambda r: (r["calls"] == r["unpriced"], -r["cost"], -r["calls"]))
    totals = by_model["totals"]
    unpriced_models = [
        {
            "provider": r["key"].split("/", 1)[0],
            "model": r["label"],
            "calls": r["unpriced"],
            "all": r["unpriced"] == r["calls"],
            "url": reverse("admin:llmops_llmcall_changelist")
            + "?"
            + urlencode({"cost_status__exact": "unpriced", "model": r["label"]}),
        }
        for r in sorted(models, key=lambda r: -r["unpriced"])
        if r["unpriced"]
    ]
    rows = []
    for r in table["rows"]:
        label = r["label"]
        if group_by == "model":
            label = label_of.get(r["key"], label)
        rows.append({**counts_of(r), "label": label if label is not None else "(none)", "cost_html": table_cost(r)})
    return {
        "calls": totals["calls"],
        "calls_display": count(totals["calls"]),
        "cost": charts.usd(totals["cost"]),
        "cost_exact": charts.usd(totals["cost"], exact=True),
        "unpriced": totals["unpriced"],
        "unpriced_display": count(totals["unpriced"]),
        "tokens": count(totals["total_tokens"]),
        "per_call": charts.usd(totals["cost"] / (totals["calls"] - totals["unpriced"]))
        if totals["calls"] > totals["unpriced"]
        else EMPTY,
        "unpriced_models": unpriced_models,
        "day_chart": mark_safe(  # noqa: S308 - llmops.charts escapes every text it places
            charts.cost_by_day_svg(days, list(series.values()), unpriced)
        )
        if totals["calls"]
        else None,
        "model_chart": mark_safe(  # noqa: S308 - llmops.charts escapes every text it places
            charts.cost_by_model_svg(model_rows)
        )
        if model_rows
        else None,
        "group_by": group_by,
        "group_label": dict(GROUPINGS)[group_by],
        "rows": rows,
        "totals": {**counts_of(totals), "cost_html": table_cost(totals)},
        "days": len(days),
    }


def counts_of(row: dict) -> dict:
    """A roll-up row's counts with thousands separators (and whether it has unpriced calls)."""
    names = ("calls", "unpriced", *selectors.TOKEN_COLUMNS, "total_tokens")
    return {**{name: count(row[name]) for name in names}, "has_unpriced": bool(row["unpriced"])}


def table_cost(row: dict):
    """A roll-up row's cost: the priced cost, and the unpriced calls beside it (never counted as $0)."""
    if row["calls"] and row["unpriced"] == row["calls"]:
        return format_html('{} <span class="text-muted">({})</span>', badge("unpriced", Tone.DANGER), "cost unknown")
    if row["unpriced"]:
        return format_html(
            '{} <span class="text-danger nowrap">+ {} unpriced</span>',
            money(row["cost"]),
            count(row["unpriced"]),
        )
    return money(row["cost"])
