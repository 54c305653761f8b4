"""How an erasure request reads in admin: its status, days left, and the stored trace, execution and obligations."""

from __future__ import annotations

from datetime import UTC, datetime

from django.contrib import admin
from django.db.models import BooleanField, Case, Count, Q, Value, When
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from governance.erasure_states import CLOSED_STATUSES
from governance.models import (
    ErasureRequest,
    RetrainingObligation,
)
from registry.admin.kit import (
    EMPTY,
    choice_badge,
    link,
    plural,
    when,
)
from registry.models import Run, Stage

CLOSED = CLOSED_STATUSES
DASH = "—"
SOON_DAYS = 7
NOT_YET = format_html('<span class="text-muted">{}</span>', "not yet")


def status_badge(status: str):
    """An erasure request's status in the tone declared on ErasureRequest.Status."""
    return choice_badge(ErasureRequest.Status, status)


def days_to_due(request: ErasureRequest, now: datetime) -> int | None:
    """Calendar days (UTC) from today to the due date, negative once overdue; None for a closed request."""
    if request.status in CLOSED:
        return None
    return (request.due_at.astimezone(UTC).date() - now.astimezone(UTC).date()).days


def days_left_html(request: ErasureRequest, now: datetime, *, left: str = ""):
    """Days left as a person reads them: N days (amber within a week), due today, or red "overdue by N days";
    a dash once the request is closed."""
    days = days_to_due(request, now)
    if days is None:
        return DASH
    due = request.due_at.astimezone(UTC).strftime("due %Y-%m-%d %H:%M UTC")
    classes = "nowrap"
    if now > request.due_at:
        text = "overdue (due today)" if days == 0 else f"overdue by {plural(-days, 'day')}"
        classes += " text-danger"
    elif days == 0:
        text, classes = "due today", classes + " text-warning"
    else:
        text = plural(days, "day") + left
        if days <= SOON_DAYS:
            classes += " text-warning"
    return format_html('<span class="{}" title="{}">{}</span>', classes, due, text)


def day(value: datetime):
    """The UTC date; the full timestamp on hover."""
    utc = value.astimezone(UTC)
    return format_html(
        '<span class="nowrap" title="{}">{}</span>',
        utc.strftime("%Y-%m-%d %H:%M UTC"),
        utc.strftime("%Y-%m-%d"),
    )


def open_requests() -> Q:
    return ~Q(status__in=CLOSED)


def overdue_requests(now: datetime) -> Q:
    return open_requests() & Q(due_at__lt=now)


def with_flags(queryset, now: datetime):
    """Annotate `is_open`, `overdue` and the open obligation count (one query for a whole page)."""
    return queryset.annotate(
        is_open=Case(When(open_requests(), then=Value(True)), default=Value(False), output_field=BooleanField()),
        overdue=Case(When(overdue_requests(now), then=Value(True)), default=Value(False), output_field=BooleanField()),
        open_obligation_count=Count("obligations", filter=Q(obligations__status=RetrainingObligation.Status.OPEN)),
    )


class OverdueFilter(admin.SimpleListFilter):
    title = "deadline"
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", "Overdue"), ("no", "Not overdue")]

    def queryset(self, request, queryset):
        late = overdue_requests(timezone.now())
        if self.value() == "yes":
            return queryset.filter(late)
        if self.value() == "no":
            return queryset.exclude(late)
        return queryset


def trace_view(trace: dict | None) -> dict | None:
    """The stored trace as a person reads it: labels and admin links instead of ids."""
    if not trace:
        return None
    data_versions = {dv["id"]: dv for dv in trace.get("data_versions", [])}

    def dv_label(pk: int) -> str:
        dv = data_versions.get(pk)
        return f"{dv['dataset']} {dv['version']}" if dv else f"data version {pk}"

    def dv_url(pk: int) -> str:
        return reverse("admin:registry_dataversion_change", args=[pk])

    versions = {mv["id"]: mv for mv in trace.get("model_versions", [])}

    def mv_label(pk: int) -> str:
        mv = versions.get(pk)
        return f"{mv['model']} v{mv['version']}" if mv else f"model version {pk}"

    runs = trace.get("runs", [])
    run_names = dict(Run.objects.filter(pk__in=[run["id"] for run in runs]).values_list("pk", "name"))
    decisions = trace.get("decisions", {})
    return {
        "computed_at": when(datetime.fromisoformat(trace["computed_at"])) if trace.get("computed_at") else EMPTY,
        "data_versions": [
            {
                "label": dv_label(dv["id"]),
                "url": dv_url(dv["id"]),
                "holds_subject": dv["holds_subject"],
                "derived_from": [{"label": dv_label(pk), "url": dv_url(pk)} for pk in dv.get("derived_from", [])],
                "status": dv.get("status", ""),
            }
            for dv in data_versions.values()
        ],
        "holding_count": sum(1 for dv in data_versions.values() if dv["holds_subject"]),
        "runs": [
            {
                "label": run_names.get(run["id"], f"run {run['id']}"),
                "url": reverse("admin:registry_run_change", args=[run["id"]]),
                "inputs": [{"label": dv_label(i["data_version"]), "role": i["role"]} for i in run.get("inputs", [])],
                "trained_on_subject": run.get("trained_on_subject", False),
                "used_for": run.get("used_for", []),
            }
            for run in runs
        ],
        "model_versions": [
            {
                "label": mv_label(mv["id"]),
                "url": reverse("admin:registry_modelversion_change", args=[mv["id"]]),
                "stage": choice_badge(Stage, mv.get("stage", "")),
                "live": mv.get("live", False),
                "trained_on_subject": mv.get("trained_on_subject", False),
                "used_for": mv.get("used_for", []),
            }
            for mv in versions.values()
        ],
        "live_count": sum(1 for mv in versions.values() if mv.get("live")),
        "live_deployments": [
            {
                "url": reverse("admin:registry_deployment_change", args=[dep["id"]]),
                "model_version": mv_label(dep["model_version"]),
                "environment": dep["environment"],
                "strategy": dep["strategy"],
                "traffic": f"{dep['traffic_percent']:g}%",
            }
            for dep in trace.get("live_deployments", [])
        ],
        "decision_count": decisions.get("count", 0),
        "decision_count_display": f"{decisions.get('count', 0):,}",
        "other": [
            (name, section.get("count") if isinstance(section, dict) else None, section)
            for name, section in sorted(trace.get("other", {}).items())
        ],
    }


def execution_plan(request: ErasureRequest) -> dict | None:
    """What executing would do, read from the stored trace (the execution traces again as it runs)."""
    trace = trace_view(request.trace)
    if trace is None:
        return None
    obligations = [mv for mv in trace["model_versions"] if mv["trained_on_subject"]]
    return {
        "traced_at": when(request.traced_at),
        "decision_count": trace["decision_count"],
        "decision_count_display": trace["decision_count_display"],
        "data_versions": [dv for dv in trace["data_versions"] if dv["status"] != "erasure_pending"],
        "already_pending": [dv for dv in trace["data_versions"] if dv["status"] == "erasure_pending"],
        "obligations": obligations,
        "live_deployments": trace["live_deployments"],
        "other": trace["other"],
    }


def execution_view(execution: dict | None) -> list[tuple[str, str]]:
    """What the execution did, as (what, how many) lines."""
    if not execution:
        return []
    rows = [
        ("decisions redacted", f"{execution.get('decisions_redacted', 0):,}"),
        ("subject index rows removed", f"{execution.get('subject_index_rows_removed', 0):,}"),
        ("data versions marked erasure_pending", f"{execution.get('data_versions_marked_erasure_pending', 0):,}"),
        ("retraining obligations opened", f"{len(execution.get('retraining_obligations', [])):,}"),
    ]
    for name, done in sorted((execution.get("other") or {}).items()):
        counts = done.items() if isinstance(done, dict) else [("", done)]
        rows.extend((f"{name}: {what}".rstrip(": ").replace("_", " "), str(value)) for what, value in counts)
    return rows


def obligations_view(obligations) -> list[dict]:
    return [
        {
            "model_version": link(o.model_version),
            "status": o.status,
            "opened_at": when(o.opened_at),
            "closed_at": when(o.closed_at) if o.closed_at else None,
            "closed_by": link(o.closed_by_version) if o.closed_by_version_id else None,
        }
        for o in obligations
    ]
