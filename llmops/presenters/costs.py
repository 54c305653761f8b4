"""The cost dashboard: for a range of UTC days and the projects a person may see, the totals, the models without
a price (their cost is unknown, never $0), the series of the two charts (cost per day stacked by model, cost per
model) and the table of selectors.costs_rollup by model, prompt version, tag or day."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import TypedDict

from django.db.models import Max, Min
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from llmops import charts, selectors
from registry.admin.kit import EMPTY, count

DASHBOARD_DAYS = 30
GROUPINGS = [("model", "model"), ("prompt_version", "prompt version"), ("tag", "tag"), ("day", "day")]


class Series(TypedDict):
    label: str
    colour: str  # the chart's colour of the model (llmops.charts.series_colours)
    values: list[Decimal]  # cost per day
    calls: list[int]  # priced calls per day


class DayChart(TypedDict):
    days: list[date]
    series: list[Series]
    unpriced: list[int]  # unpriced calls per day


class ModelBar(TypedDict):
    label: str
    colour: str
    cost: Decimal
    calls: int
    unpriced: int


class UnpricedModel(TypedDict):
    provider: str
    model: str
    calls: int
    all: bool  # every call of the model is unpriced
    url: str  # its unpriced calls in the call list


class TableRow(TypedDict):
    """A roll-up row (or the totals): counts as text with thousands separators, the cost as text."""

    label: str
    calls: str
    unpriced: str
    input_uncached: str
    input_cache_read: str
    input_cache_write: str
    output: str
    output_reasoning: str
    total_tokens: str
    has_unpriced: bool
    all_unpriced: bool
    cost: str
    cost_exact: str


class CostDashboard(TypedDict):
    calls: int
    calls_display: str
    cost: str
    cost_exact: str
    unpriced: int
    unpriced_display: str
    tokens: str
    per_call: str
    unpriced_models: list[UnpricedModel]
    day_chart: DayChart | None  # None: no call in the range
    model_chart: list[ModelBar] | None
    group_by: str
    group_label: str
    rows: list[TableRow]
    totals: TableRow
    days: int


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


def cost_dashboard(scope: set[int] | None, start: date, end: date, group_by: str) -> CostDashboard:
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
        rows.append({**counts_of(r), "label": label if label is not None else "(none)"})
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
        "day_chart": {"days": days, "series": list(series.values()), "unpriced": unpriced} if totals["calls"] else None,
        "model_chart": model_rows or None,
        "group_by": group_by,
        "group_label": dict(GROUPINGS)[group_by],
        "rows": rows,
        "totals": {**counts_of(totals), "label": "Total"},
        "days": len(days),
    }


def counts_of(row: dict) -> dict:
    """A roll-up row's counts with thousands separators, its priced cost (exact on hover), and whether some or all
    of its calls are unpriced (their cost is unknown: never counted as $0)."""
    names = ("calls", "unpriced", *selectors.TOKEN_COLUMNS, "total_tokens")
    return {
        **{name: count(row[name]) for name in names},
        "has_unpriced": bool(row["unpriced"]),
        "all_unpriced": bool(row["calls"]) and row["unpriced"] == row["calls"],
        "cost": charts.usd(row["cost"]),
        "cost_exact": charts.usd(row["cost"], exact=True),
    }
