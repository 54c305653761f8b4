"""Read queries shared by the API, the admin and the commands."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from django.db import connection
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate

from llmops.models import LLMCall, TraceSettings, TraceSpan

GROUP_BY = ("model", "prompt_version", "tag", "day", "subject")
TOKEN_COLUMNS = {
    "input_uncached": "input_uncached",
    "input_cache_read": "input_cache_read",
    "input_cache_write": "input_cache_write",
    "output": "output_tokens",
    "output_reasoning": "output_reasoning",
}


def calls_in(*, project_ids: set[int] | None, start: datetime | None, end: datetime | None):
    calls = LLMCall.objects.all()
    if project_ids is not None:
        calls = calls.filter(project_id__in=project_ids)
    if start is not None:
        calls = calls.filter(occurred_at__gte=start)
    if end is not None:
        calls = calls.filter(occurred_at__lt=end)
    return calls


def _sums() -> dict:
    sums = {name: Sum(column, default=0) for name, column in TOKEN_COLUMNS.items()}
    return {
        "calls": Count("id"),
        "unpriced": Count("id", filter=Q(cost_status=LLMCall.CostStatus.UNPRICED)),
        **sums,
        "cost": Sum("cost", default=Decimal(0)),
    }


def _row(key: object, label: object, values: dict) -> dict:
    row = {"key": None if key is None else str(key), "label": None if label is None else str(label)}
    row.update({name: int(values[name] or 0) for name in ("calls", "unpriced", *TOKEN_COLUMNS)})
    row["total_tokens"] = sum(row[name] for name in TOKEN_COLUMNS)
    row["cost"] = Decimal(values["cost"] or 0)
    return row


def costs_rollup(
    *, project_ids: set[int] | None, group_by: str, start: datetime | None = None, end: datetime | None = None
) -> dict:
    """Sums of tokens and cost, the call count and the unpriced count, per group and in total.

    Unpriced calls count in `calls` and `unpriced` and add nothing to `cost`: they are reported,
    never priced at zero. A call with several tags counts once under each of its tags."""
    if group_by not in GROUP_BY:
        raise ValueError(group_by)
    calls = calls_in(project_ids=project_ids, start=start, end=end)
    if group_by == "tag":
        rows = _tag_rows(calls)
    elif group_by == "model":
        grouped = calls.values("provider", "model").annotate(**_sums()).order_by("provider", "model")
        rows = [_row(f"{g['provider']}/{g['model']}", g["model"], g) for g in grouped]
    elif group_by == "prompt_version":
        grouped = (
            calls.values("prompt_version", "prompt_version__template__name", "prompt_version__version")
            .annotate(**_sums())
            .order_by("prompt_version")
        )
        rows = [
            _row(
                g["prompt_version"],
                None
                if g["prompt_version"] is None
                else f"{g['prompt_version__template__name']} v{g['prompt_version__version']}",
                g,
            )
            for g in grouped
        ]
    elif group_by == "day":
        grouped = (
            calls.annotate(day=TruncDate("occurred_at", tzinfo=UTC)).values("day").annotate(**_sums()).order_by("day")
        )
        rows = [_row(g["day"].isoformat(), g["day"].isoformat(), g) for g in grouped]
    else:
        grouped = calls.values("subject_key").annotate(**_sums()).order_by("subject_key")
        rows = [_row(g["subject_key"], None, g) for g in grouped]
    totals = _row(None, "total", calls.aggregate(**_sums()))
    return {"group_by": group_by, "start": start, "end": end, "rows": rows, "totals": totals}


def daily_costs_by_model(*, project_ids: set[int] | None, start: datetime, end: datetime) -> list[dict]:
    """Cost, calls and unpriced calls per UTC day and model (the admin's stacked cost chart)."""
    calls = calls_in(project_ids=project_ids, start=start, end=end)
    return list(
        calls.annotate(day=TruncDate("occurred_at", tzinfo=UTC))
        .values("day", "provider", "model")
        .annotate(
            cost=Sum("cost", default=Decimal(0)),
            calls=Count("id"),
            unpriced=Count("id", filter=Q(cost_status=LLMCall.CostStatus.UNPRICED)),
        )
        .order_by("day", "provider", "model")
    )


def _tag_rows(calls) -> list[dict]:
    """Per tag: the JSON list of tags is expanded by the database (jsonb / json_each)."""
    inner, params = calls.values("id").query.sql_with_params()
    table = LLMCall._meta.db_table
    sums = ", ".join(f"SUM(c.{column})" for column in TOKEN_COLUMNS.values())
    if connection.vendor == "postgresql":
        expand = "CROSS JOIN LATERAL jsonb_array_elements_text(c.tags) AS t(tag)"
        tag = "t.tag"
    else:
        expand = ", json_each(c.tags) AS t"
        tag = "t.value"
    # identifiers are this module's constants and the inner query Django's; values are parameters
    sql = (
        f"SELECT {tag}, COUNT(*), SUM(CASE WHEN c.cost_status = %s THEN 1 ELSE 0 END), {sums}, SUM(c.cost) "  # noqa: S608
        f"FROM {table} c {expand} WHERE c.id IN ({inner}) GROUP BY {tag} ORDER BY {tag}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [LLMCall.CostStatus.UNPRICED, *params])
        fetched = cursor.fetchall()
    rows = []
    for tag_value, count, unpriced, *token_sums, cost in fetched:
        values = dict(zip(TOKEN_COLUMNS, token_sums, strict=True))
        rows.append(_row(tag_value, tag_value, {"calls": count, "unpriced": unpriced, **values, "cost": cost}))
    return rows


def unpriced_models(*, project_ids: set[int] | None) -> list[dict]:
    """The models with calls that have no price (at any time), most calls first."""
    queryset = LLMCall.objects.filter(cost_status=LLMCall.CostStatus.UNPRICED)
    if project_ids is not None:
        queryset = queryset.filter(project_id__in=project_ids)
    return list(queryset.values("provider", "model").annotate(calls=Count("id")).order_by("-calls"))


def trace_subject_attribute(project) -> str:
    """The span attribute a project names as its calls' end user ('' when it names none)."""
    return TraceSettings.objects.filter(project=project).values_list("subject_attribute", flat=True).first() or ""


@dataclass(frozen=True)
class TraceRow:
    """One span of a trace as the waterfall reads it: a TraceSpan row, or an LLM call's span (`call_id` set)."""

    span_id: str
    parent_span_id: str
    name: str
    category: str
    start_time_unix_nano: int
    end_time_unix_nano: int
    status: str
    call_id: int | None

    @property
    def duration_ms(self) -> float:
        return max(0, self.end_time_unix_nano - self.start_time_unix_nano) / 1e6


def trace_of_call(call: LLMCall) -> list[TraceRow]:
    """The spans of a call's trace in its project, in start order (empty for a call without a trace): its TraceSpan
    rows and its LLM calls' spans (an LLM span is its call's row, llmops.services.traces)."""
    if not call.trace_id:
        return []
    fields = ("span_id", "parent_span_id", "name", "category", "start_time_unix_nano", "end_time_unix_nano", "status")
    spans = TraceSpan.objects.filter(project_id=call.project_id, trace_id=call.trace_id)
    rows = [TraceRow(*values, call_id=None) for values in spans.values_list(*fields)]
    calls = LLMCall.objects.filter(
        project_id=call.project_id, trace_id=call.trace_id, span_start_time_unix_nano__isnull=False
    )
    rows += [
        TraceRow(*values)
        for values in calls.values_list(
            "span_id",
            "span_parent_id",
            "span_name",
            "span_category",
            "span_start_time_unix_nano",
            "span_end_time_unix_nano",
            "span_status",
            "id",
        )
    ]
    return sorted(rows, key=lambda row: (row.start_time_unix_nano, row.call_id is not None, row.span_id))
