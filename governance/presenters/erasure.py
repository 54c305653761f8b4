"""What an erasure request's pages show: days left, the stored trace, the execution plan and what the execution
did, the retraining obligations, the rows of a confirmation page, and the printable report."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TypedDict

from django.urls import reverse

from governance import deadlines
from governance.erasure_states import CLOCK_STATUSES, CLOSED_STATUSES
from governance.models import ErasureRequest
from governance.presenters.common import Badge, Link, choice_badge, utc
from governance.subject_data import generic_rows, subject_data_contributor
from registry.admin.kit import EMPTY, admin_url, plural
from registry.models import ModelVersion, Run, Stage

SOON_DAYS = 7
DECISIONS_ERASED = (
    "features, sensitive attributes, subject key and salt cleared; which version decided what, and when, kept"
)


class DaysLeft(TypedDict):
    """Days left as a person reads them; `tone` is "warning" within a week or on the day, "danger" once overdue,
    "" otherwise; `due` is the due timestamp for the hover title."""

    days: int
    text: str
    tone: str
    due: str


class TraceLink(TypedDict):
    label: str
    url: str


class TraceDataVersion(TypedDict):
    label: str
    url: str
    holds_subject: bool
    derived_from: list[TraceLink]
    status: str


class TraceInput(TypedDict):
    label: str
    role: str


class TraceRun(TypedDict):
    label: str
    url: str
    inputs: list[TraceInput]
    trained_on_subject: bool
    used_for: list[str]


class TraceModelVersion(TypedDict):
    label: str
    url: str
    stage: Badge
    live: bool
    trained_on_subject: bool
    used_for: list[str]


class TraceDeployment(TypedDict):
    url: str
    model_version: str
    environment: str
    strategy: str
    traffic: str


class Trace(TypedDict):
    computed_at: str
    data_versions: list[TraceDataVersion]
    holding_count: int
    runs: list[TraceRun]
    model_versions: list[TraceModelVersion]
    live_count: int
    live_deployments: list[TraceDeployment]
    decision_count: int
    decision_count_display: str
    other: list[RecordRow]  # what the other apps hold, as their contributors read their answers
    records: list[RecordRow]  # the decisions, then `other`: the trace's records table


class RecordRow(TypedDict):
    """One line of a records table (trace, plan, execution): what kind of record, how many ("—" when the answer
    holds no count), what erasure does or did to it."""

    record: str
    count: str
    note: str


class ExecutionPlan(TypedDict):
    traced_at: str
    decision_count: int
    decision_count_display: str
    data_versions: list[TraceDataVersion]
    already_pending: list[TraceDataVersion]
    obligations: list[TraceModelVersion]
    live_deployments: list[TraceDeployment]
    other: list[RecordRow]


class Obligation(TypedDict):
    model_version: Link
    status: str
    opened_at: str
    closed_at: str | None
    closed_by: Link | None


class OperationRow(TypedDict):
    """One request on a confirmation page; `problem` says why the operation cannot be done ("" when it can)."""

    pk: int
    reference: str
    project: str
    url: str
    status: Badge
    due: str
    days_left: DaysLeft | None
    traced_at: str
    problem: str
    plan: ExecutionPlan | None


class ReportObligation(TypedDict):
    label: str
    status: str
    closed_by: str
    opened: str
    closed: str | None


class ReportStep(TypedDict):
    seq: int
    when: str
    event_type: str
    actor: str
    target: str
    hash: str
    prev_hash: str


class ErasureReport(TypedDict):
    """The printable report; `dates` are (label, UTC timestamp or None when not yet)."""

    summary: dict
    status: Badge
    days_left: DaysLeft | None
    dates: list[tuple[str, str | None]]
    trace: Trace | None
    execution: list[tuple[str, str]]
    obligations: list[ReportObligation]
    steps: list[ReportStep]
    generated_at: str
    generated_by: str
    json_url: str | None
    verify_url: str | None


def status_badge(status: str) -> Badge:
    """An erasure request's status in the tone declared on ErasureRequest.Status."""
    return choice_badge(ErasureRequest.Status, status)


def days_to_due(request: ErasureRequest, now: datetime) -> int | None:
    """Calendar days from today to the due date (governance.deadlines), negative once overdue; None for a closed
    request."""
    if request.status in CLOSED_STATUSES:
        return None
    return deadlines.days_left(request.due_at, now)


def days_left(request: ErasureRequest, now: datetime, *, left: str = "") -> DaysLeft | None:
    """N days (a warning within a week), due today (a warning), or overdue by N days (danger); None once the
    request is closed."""
    days = days_to_due(request, now)
    if days is None:
        return None
    due = request.due_at.astimezone(UTC).strftime("due %Y-%m-%d %H:%M UTC")
    if request.status not in CLOCK_STATUSES and request.executed_at is not None:
        # executed: the clock has stopped; what it says now is whether the erasure came in time
        spare = deadlines.days_left(request.due_at, request.executed_at)
        if deadlines.is_overdue(request.due_at, request.executed_at):
            late = f"{plural(-spare, 'day')} late" if spare < 0 else "late, on the due day"
            return {"days": spare, "text": f"erased {late}", "tone": "danger", "due": due}
        early = f", {plural(spare, 'day')} early" if spare > 0 else ", on the due day"
        return {"days": spare, "text": f"erased in time{early}", "tone": "", "due": due}
    return days_left_of(request.due_at, now, left=left)


def days_left_of(due_at: datetime, now: datetime, *, left: str = "") -> DaysLeft:
    """A running clock (any legal deadline): N days (a warning within a week), due today, or overdue by N days."""
    days = deadlines.days_left(due_at, now)
    due = due_at.astimezone(UTC).strftime("due %Y-%m-%d %H:%M UTC")
    if deadlines.is_overdue(due_at, now):
        text = "overdue (due today)" if days == 0 else f"overdue by {plural(-days, 'day')}"
        tone = "danger"
    elif days == 0:
        text, tone = "due today", "warning"
    else:
        text = plural(days, "day") + left
        tone = "warning" if days <= SOON_DAYS else ""
    return {"days": days, "text": text, "tone": tone, "due": due}


def trace_view(trace: dict | None) -> Trace | None:
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
    other = other_rows(trace.get("other") or {}, redaction=False)
    return {
        "computed_at": utc(datetime.fromisoformat(trace["computed_at"])) if trace.get("computed_at") else EMPTY,
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
        "other": other,
        "records": [
            _record_row(
                "Decisions about the subject",
                decisions.get("count", 0),
                DECISIONS_ERASED,
            ),
            *other,
        ],
    }


def _record_row(record: str, count: int | None, note: str = "") -> RecordRow:
    return {"record": record, "count": "—" if count is None else f"{count:,}", "note": note}


def other_rows(sections: dict, *, redaction: bool) -> list[RecordRow]:
    """Other apps' stored answers (their trace sections, or what their redaction did) as rows, each read by its
    app's contributor (governance.subject_data); an app that is gone, or gives no reader, is read generically
    with its name before each record."""
    rows: list[RecordRow] = []
    for name, section in sorted(sections.items()):
        contributor = subject_data_contributor(name)
        reader = getattr(contributor, "redaction_rows" if redaction else "trace_rows", None)
        if reader is not None and isinstance(section, dict):
            found = reader(section)
        else:
            found = [{**row, "record": f"{name}: {row['record']}"} for row in generic_rows(section)]
        rows.extend(_record_row(row["record"], row["count"], row["note"]) for row in found)
    return rows


def execution_plan(request: ErasureRequest) -> ExecutionPlan | None:
    """What executing would do, read from the stored trace (the execution traces again as it runs)."""
    trace = trace_view(request.trace)
    if trace is None:
        return None
    return {
        "traced_at": utc(request.traced_at),
        "decision_count": trace["decision_count"],
        "decision_count_display": trace["decision_count_display"],
        "data_versions": [dv for dv in trace["data_versions"] if dv["status"] != "erasure_pending"],
        "already_pending": [dv for dv in trace["data_versions"] if dv["status"] == "erasure_pending"],
        "obligations": [mv for mv in trace["model_versions"] if mv["trained_on_subject"]],
        "live_deployments": trace["live_deployments"],
        "other": trace["other"],
    }


def execution_view(execution: dict | None) -> list[RecordRow]:
    """What the execution did, as rows: the decision log's and the registry's, then each other app's."""
    if not execution:
        return []
    rows = [
        _record_row(
            "Decisions redacted",
            execution.get("decisions_redacted", 0),
            DECISIONS_ERASED,
        ),
        _record_row(
            "Subject index rows removed",
            execution.get("subject_index_rows_removed", 0),
            "the data versions no longer list the subject",
        ),
        _record_row(
            "Data versions marked erasure_pending",
            execution.get("data_versions_marked_erasure_pending", 0),
            "to be rewritten without the subject",
        ),
        _record_row(
            "Retraining obligations opened",
            len(execution.get("retraining_obligations", [])),
            "each model version trained on the subject must be replaced by one trained without",
        ),
    ]
    return rows + other_rows(execution.get("other") or {}, redaction=True)


def _link(version: ModelVersion) -> Link:
    return {"label": str(version), "url": admin_url(version)}


def obligations_view(obligations) -> list[Obligation]:
    """The request's retraining obligations (model versions with `model` joined, as the change page loads them)."""
    return [
        {
            "model_version": _link(o.model_version),
            "status": o.status,
            "opened_at": utc(o.opened_at),
            "closed_at": utc(o.closed_at) if o.closed_at else None,
            "closed_by": _link(o.closed_by_version) if o.closed_by_version_id else None,
        }
        for o in obligations
    ]


def operation_rows(requests, *, operation: str, from_statuses, may_operate, now: datetime) -> list[OperationRow]:
    """The rows of a confirmation page of `operation` (trace, execute, reject, extend): each request with why it cannot
    be done, if so (`may_operate(request)` says whether the person's role in its project may), and for an
    execution what it would do."""
    rows: list[OperationRow] = []
    for obj in requests:
        problem = ""
        if not may_operate(obj):
            problem = f"your role in {obj.project.slug} may not {operation} erasure requests"
        elif obj.status not in from_statuses:
            problem = (
                "not traced yet: trace it first"
                if operation == "execute" and obj.status == ErasureRequest.Status.RECEIVED
                else f"already {obj.status}"
            )
        elif operation == "extend":
            problem = deadlines.extension_refusal(obj.received_at, obj.extension_months, now)
        rows.append(
            {
                "pk": obj.pk,
                "reference": obj.reference,
                "project": obj.project.slug,
                "url": admin_url(obj),
                "status": status_badge(obj.status),
                "due": utc(obj.due_at),
                "days_left": days_left(obj, now),
                "traced_at": utc(obj.traced_at),
                "problem": problem,
                "plan": execution_plan(obj) if operation == "execute" and not problem else None,
            }
        )
    return rows


def erasure_report(
    obj: ErasureRequest,
    report: dict,
    *,
    now: datetime,
    generated_by: str,
    json_url: str | None,
    verify_url: str | None,
) -> ErasureReport:
    """The printable report of `obj` from governance.selectors.erasure_report; `json_url` (the same report over
    the API) and `verify_url` (the audit chain's check) are None when the person may not open them."""
    summary = report["request"]
    closed_by = [o["closed_by_version"] for o in report["obligations"] if o["closed_by_version"]]
    successors = {mv.pk: str(mv) for mv in ModelVersion.objects.filter(pk__in=closed_by).select_related("model")}
    return {
        "summary": summary,
        "status": status_badge(summary["status"]),
        "days_left": days_left(obj, now, left=" left") if obj.status not in CLOSED_STATUSES else None,
        "dates": [
            (label, utc(summary[key]) if summary[key] else None)
            for label, key in [
                ("Received", "received_at"),
                ("Due", "due_at"),
                ("Traced", "traced_at"),
                ("Executed", "executed_at"),
                ("Completed", "completed_at"),
            ]
        ],
        "trace": trace_view(report["trace"]),
        "execution": execution_view(report["execution"]),
        "obligations": [
            {
                "label": f"{o['model']} v{o['version']}",
                "status": o["status"],
                "closed_by": successors.get(o["closed_by_version"], ""),
                "opened": utc(o["opened_at"], suffix=False),
                "closed": utc(o["closed_at"], suffix=False) if o["closed_at"] else None,
            }
            for o in report["obligations"]
        ],
        "steps": [
            {
                "seq": step["seq"],
                "when": utc(step["at"], suffix=False),
                "event_type": step["event_type"],
                "actor": step["actor"],
                "target": step["target"],
                "hash": step["hash"],
                "prev_hash": step["prev_hash"],
            }
            for step in report["steps"]
        ],
        "generated_at": utc(now),
        "generated_by": generated_by,
        "json_url": json_url,
        "verify_url": verify_url,
    }
