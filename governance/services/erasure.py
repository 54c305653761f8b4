"""GDPR erasure (Art. 17): receive, trace, execute, and close with retraining obligations.

Services (`erasure_request_*`, `obligations_check`) write; `subject_trace` and `erasure_report` read
(governance/selectors.py). Every step appends an audit event in its own transaction; none holds the subject
key.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from governance.deadlines import (
    SUBJECT_REQUEST_MAX_EXTENSION_MONTHS as MAX_EXTENSION_MONTHS,
)
from governance.deadlines import erasure_due, erasure_extended_due, extension_refusal
from governance.erasure_states import ErasureOperation, erasure_allows, erasure_next_status
from governance.events import GovernanceEvent as Event
from governance.models import Decision, ErasureRequest, RetrainingObligation
from governance.selectors import TRAINING_ROLES, subject_trace, trace_summary
from governance.services.drift_counts import decisions_counted
from governance.subject_data import subject_data_contributors
from registry.actors import Actor
from registry.audit import audit_append
from registry.errors import Conflict, field_error
from registry.locks import for_update
from registry.models import (
    AuditEvent,
    BackgroundJob,
    DataVersion,
    ModelVersion,
    Project,
    SubjectIndex,
    SuppressedSubject,
)
from registry.services.jobs import job_queue
from registry.subjects import InvalidSubjectId, mentions_subject_id, subject_key, suppression_lock

ERASURE_EXECUTION = "governance.erasure_execution"  # the job kind (governance/jobs.py)
EXECUTION_STEPS = 5
Progress = Callable[[int, int, str], None]


def _no_progress(done: int, total: int, message: str) -> None:
    pass


def erasure_request_create(
    *, actor: Actor, project: Project, subject_id: object, reference: str, received_at: datetime | None = None
) -> ErasureRequest:
    """Record a request; only the subject key is kept. Due 30 days after receipt."""
    try:
        key = subject_key(subject_id)
    except InvalidSubjectId as exc:
        raise field_error("subject_id", str(exc)) from None
    now = timezone.now()
    received_at = received_at or now
    if received_at > now + timedelta(minutes=5):
        raise field_error("received_at", "must not be in the future")
    if not reference.strip():
        raise field_error("reference", "must not be empty")
    if mentions_subject_id(reference, subject_id):  # the reference is kept (and audited) forever
        raise field_error("reference", "must not contain the subject id")
    with transaction.atomic():
        request = ErasureRequest.objects.create(
            project=project,
            subject_key=key,
            reference=reference,
            received_at=received_at,
            due_at=erasure_due(received_at),
            created_by_user=actor.user if actor.user is not None and actor.user.pk else None,
            created_by_key=actor.api_key,
        )
        _audit(
            actor,
            request,
            Event.ERASURE_RECEIVED,
            None,
            {
                "status": request.status,
                "reference": reference,
                "received_at": received_at,
                "due_at": request.due_at,
            },
        )
    return request


def erasure_request_trace(*, actor: Actor, request: ErasureRequest) -> ErasureRequest:
    """Compute and store the trace; received -> traced (a traced request may be traced again)."""
    with transaction.atomic():
        locked = for_update(ErasureRequest.objects).get(pk=request.pk)
        if not erasure_allows(locked.status, ErasureOperation.TRACE):
            raise Conflict(
                f"erasure request {locked.pk} is {locked.status}; it can no longer be traced", code="invalid_state"
            )
        before = locked.status
        locked.trace = subject_trace(project_id=locked.project_id, subject_key=locked.subject_key)
        locked.traced_at = timezone.now()
        locked.status = erasure_next_status(before, ErasureOperation.TRACE)
        locked.save(update_fields=["trace", "traced_at", "status"])
        _audit(
            actor,
            locked,
            Event.ERASURE_TRACED,
            {"status": before},
            {
                "status": locked.status,
                "summary": trace_summary(locked.trace),
            },
        )
    return locked


def execution_idempotency_key(request: ErasureRequest) -> str:
    return f"erasure-request:{request.pk}"


def erasure_execution_queue(*, actor: Actor, request: ErasureRequest) -> tuple[BackgroundJob, bool]:
    """Queue the execution of a traced request as a background job (the API's and admin's `execute`). A request
    is executed once: asking again answers the job asked for first, whatever became of it (a failed one is
    retried through the job). A request that cannot be executed (not traced) is a 409 before any job exists."""

    def check() -> None:
        if not erasure_allows(request.status, ErasureOperation.EXECUTE):
            raise Conflict(
                f"erasure request {request.pk} is {request.status}; only a traced request can be executed",
                code="invalid_state",
            )

    return job_queue(
        actor=actor,
        kind=ERASURE_EXECUTION,
        project=request.project,
        input={"erasure_request": request.pk},
        idempotency_key=execution_idempotency_key(request),
        check=check,
    )


def erasure_request_execute(
    *, actor: Actor, request: ErasureRequest, progress: Progress = _no_progress
) -> ErasureRequest:
    """Erase the subject, in one transaction; only a traced request, and only once.

    Redacts the subject's decisions (personal fields, subject key and commitment salt cleared; which
    version decided what, and when, kept), removes the subject from every subject index, marks the
    affected data versions `erasure_pending`, opens a retraining obligation on every model version
    trained on them, and suppresses the subject in the project. `progress(done, total, message)` hears of
    each of its EXECUTION_STEPS steps (a background job shows them; all of it still commits at once).
    """
    with transaction.atomic():
        locked = for_update(ErasureRequest.objects).get(pk=request.pk)
        # every ingest checks the suppression list and inserts under this lock (shared): wait for those in
        # flight to commit, so that their rows are read below, and make those to come see the suppression
        suppression_lock([locked.project_id], exclusive=True)
        if not erasure_allows(locked.status, ErasureOperation.EXECUTE):
            raise Conflict(
                f"erasure request {locked.pk} is {locked.status}; only a traced request can be executed",
                code="invalid_state",
            )
        now = timezone.now()
        key, project_id = locked.subject_key, locked.project_id
        progress(0, EXECUTION_STEPS, "tracing the subject again")
        trace = subject_trace(project_id=project_id, subject_key=key, at=now)
        affected = [dv["id"] for dv in trace["data_versions"]]
        progress(1, EXECUTION_STEPS, "redacting the subject's decisions")

        subject_decisions = Decision.objects.filter(project_id=project_id, subject_key=key)
        # their features leave the drift counts with them
        erased = list(subject_decisions.values_list("model_version_id", "occurred_at", "features"))
        decisions_counted(erased, sign=-1)
        redacted = subject_decisions.update(
            features={}, sensitive={}, explanation=None, subject_key=None, subject_key_id="", salt=None, erased_at=now
        )
        progress(2, EXECUTION_STEPS, f"{redacted:,} decisions redacted; removing the subject from subject indexes")
        removed, _ = SubjectIndex.objects.filter(subject_key=key, data_version__project_id=project_id).delete()
        pending = DataVersion.objects.filter(pk__in=affected).exclude(status=DataVersion.Status.ERASURE_PENDING)
        marked = pending.update(status=DataVersion.Status.ERASURE_PENDING)
        SuppressedSubject.objects.get_or_create(
            project_id=project_id, subject_key=key, defaults={"reason": f"erasure request {locked.pk}"}
        )
        progress(3, EXECUTION_STEPS, "redacting the subject's other records")
        other = {
            c.name: c.redact(actor=actor, project_id=project_id, subject_key=key, at=now)
            for c in subject_data_contributors()
        }
        progress(4, EXECUTION_STEPS, "opening retraining obligations")
        obligations = RetrainingObligation.objects.bulk_create(
            RetrainingObligation(
                erasure_request=locked,
                project_id=project_id,
                model_version_id=mv["id"],
                affected_data_versions=affected,
                opened_at=now,
            )
            for mv in trace["model_versions"]
            if mv["trained_on_subject"]
        )
        before = locked.status
        locked.status = erasure_next_status(before, ErasureOperation.EXECUTE)
        locked.executed_at = now
        locked.execution = {
            "trace": trace,
            "decisions_redacted": redacted,
            "subject_index_rows_removed": removed,
            "data_versions_marked_erasure_pending": marked,
            "retraining_obligations": [o.model_version_id for o in obligations],
            "other": other,
        }
        locked.save(update_fields=["status", "executed_at", "execution"])
        _audit(
            actor,
            locked,
            Event.ERASURE_EXECUTED,
            {"status": before},
            {
                "status": locked.status,
                "decisions_redacted": redacted,
                "subject_index_rows_removed": removed,
                "data_versions_erasure_pending": affected,
                "retraining_obligations": [o.model_version_id for o in obligations],
                "other": other,
                "summary": trace_summary(trace),
            },
        )
        for obligation in obligations:
            audit_append(
                actor=actor,
                event_type=Event.OBLIGATION_OPENED,
                target=obligation,
                target_repr=_obligation_repr(obligation),
                after={
                    "erasure_request": locked.pk,
                    "model_version": obligation.model_version_id,
                    "affected_data_versions": affected,
                },
            )
        if not obligations:
            _complete(actor, locked, now)
        progress(EXECUTION_STEPS, EXECUTION_STEPS, "executed")
    return locked


def erasure_request_reject(*, actor: Actor, request: ErasureRequest, reason: str) -> ErasureRequest:
    """Refuse a request (e.g. a legal obligation to keep the data), with the reason; before execution only."""
    if not reason.strip():
        raise field_error("reason", "must not be empty")
    with transaction.atomic():
        locked = for_update(ErasureRequest.objects).get(pk=request.pk)
        if not erasure_allows(locked.status, ErasureOperation.REJECT):
            raise Conflict(
                f"erasure request {locked.pk} is {locked.status}; it can no longer be rejected", code="invalid_state"
            )
        before = locked.status
        locked.status, locked.rejection_reason = erasure_next_status(before, ErasureOperation.REJECT), reason
        locked.save(update_fields=["status", "rejection_reason"])
        _audit(actor, locked, Event.ERASURE_REJECTED, {"status": before}, {"status": locked.status, "reason": reason})
    return locked


MAX_REASON = 2000


def erasure_request_extend(
    *, actor: Actor, request: ErasureRequest, months: int, reason: str, now: datetime | None = None
) -> ErasureRequest:
    """Extend the deadline by `months` (1 or 2, in all) further months, with the reason the person is given
    (GDPR Art. 12(3): "where necessary, taking into account the complexity and number of the requests"). Decided
    before the first deadline and within the first month; before execution only; a second extension may only
    lengthen the first, never past two months."""
    now = now or timezone.now()
    reason = reason.strip()
    if not reason:
        raise field_error("reason", "must not be empty: the person is told why the answer takes longer")
    if len(reason) > MAX_REASON:
        raise field_error("reason", f"must be at most {MAX_REASON} characters")
    if isinstance(months, bool) or not isinstance(months, int) or not 1 <= months <= MAX_EXTENSION_MONTHS:
        raise field_error("months", f"must be 1 to {MAX_EXTENSION_MONTHS} (further months, in all)")
    with transaction.atomic():
        locked = for_update(ErasureRequest.objects).get(pk=request.pk)
        if not erasure_allows(locked.status, ErasureOperation.EXTEND):
            raise Conflict(
                f"erasure request {locked.pk} is {locked.status}; its deadline can no longer be extended",
                code="invalid_state",
            )
        refusal = extension_refusal(locked.received_at, locked.extension_months, now, months)
        if refusal:
            raise field_error("months", refusal)
        before = {"due_at": locked.due_at, "extension_months": locked.extension_months}
        locked.due_at = erasure_extended_due(locked.received_at, months)
        locked.extension_months, locked.extension_reason, locked.extended_at = months, reason, now
        locked.save(update_fields=["due_at", "extension_months", "extension_reason", "extended_at"])
        _audit(
            actor,
            locked,
            Event.ERASURE_EXTENDED,
            before,
            {"due_at": locked.due_at, "extension_months": months, "reason": reason},
        )
    return locked


def obligations_check(
    *, actor: Actor, model_version: ModelVersion | None = None, request: ErasureRequest | None = None
) -> list[RetrainingObligation]:
    """Close the open obligations that a registered successor version now satisfies.

    Called for each new model version (registry hook) and on demand for a request. A successor is a
    later version of the same model whose every training data version is a new one (none of those
    the erasure affected, none pending erasure) with a subject index that does not hold the subject
    (or whose dataset holds no personal data).
    """
    open_obligations = RetrainingObligation.objects.filter(status=RetrainingObligation.Status.OPEN).select_related(
        "model_version", "erasure_request"
    )
    if model_version is not None:
        open_obligations = open_obligations.filter(
            model_version__model_id=model_version.model_id, model_version__version__lt=model_version.version
        )
    if request is not None:
        open_obligations = open_obligations.filter(erasure_request=request)
    closed: list[RetrainingObligation] = []
    with transaction.atomic():
        for obligation in for_update(open_obligations, of=("self",)):
            candidates = (
                [model_version]
                if model_version is not None
                else ModelVersion.objects.filter(
                    model_id=obligation.model_version.model_id, version__gt=obligation.model_version.version
                ).order_by("version")
            )
            successor = next((c for c in candidates if _clean_successor(obligation, c)), None)
            if successor is None:
                continue
            now = timezone.now()
            obligation.status, obligation.closed_at, obligation.closed_by_version = (
                RetrainingObligation.Status.CLOSED,
                now,
                successor,
            )
            obligation.save(update_fields=["status", "closed_at", "closed_by_version"])
            audit_append(
                actor=actor,
                event_type=Event.OBLIGATION_CLOSED,
                target=obligation,
                target_repr=_obligation_repr(obligation),
                before={"status": RetrainingObligation.Status.OPEN},
                after={"status": obligation.status, "closed_by_version": successor.pk},
            )
            closed.append(obligation)
            parent = obligation.erasure_request
            if not parent.obligations.filter(status=RetrainingObligation.Status.OPEN).exists():
                _complete(actor, for_update(ErasureRequest.objects).get(pk=parent.pk), now)
    return closed


def _clean_successor(obligation: RetrainingObligation, candidate: ModelVersion) -> bool:
    if candidate.model_id != obligation.model_version.model_id or candidate.version <= obligation.model_version.version:
        return False
    training = list(
        DataVersion.objects.filter(run_links__run_id=candidate.run_id, run_links__role__in=TRAINING_ROLES)
        .select_related("dataset")
        .distinct()
    )
    if not training:
        return False
    affected = set(obligation.affected_data_versions)
    for dv in training:
        if dv.pk in affected or dv.status == DataVersion.Status.ERASURE_PENDING:
            return False
        if dv.dataset.contains_personal_data:
            index = SubjectIndex.objects.filter(data_version=dv)
            if not index.exists() or index.filter(subject_key=obligation.erasure_request.subject_key).exists():
                return False
    return True


def _obligation_repr(obligation: RetrainingObligation) -> str:
    return f"retrain model version {obligation.model_version_id} (erasure {obligation.erasure_request_id})"


def _complete(actor: Actor, request: ErasureRequest, at: datetime) -> None:
    """Close an executed request (its row locked by the caller) once nothing is left to retrain. A request the
    table does not let complete (one that a concurrent obligations check completed first) is left as it is."""
    before = request.status
    if not erasure_allows(before, ErasureOperation.COMPLETE):
        return
    request.status, request.completed_at = erasure_next_status(before, ErasureOperation.COMPLETE), at
    request.save(update_fields=["status", "completed_at"])
    _audit(actor, request, Event.ERASURE_COMPLETED, {"status": before}, {"status": request.status})


def _audit(actor: Actor, request: ErasureRequest, event_type: Event, before, after) -> AuditEvent:
    return audit_append(
        actor=actor,
        event_type=event_type,
        target=request,
        target_repr=f"erasure request {request.pk}",
        before=before,
        after=after,
    )
