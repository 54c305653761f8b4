"""Contests of automated decisions (GDPR Art. 22(3): the right to obtain human intervention, to express one's
point of view and to contest the decision). A contest names the decision by model version and request id, or by
the subject id and the time of the decision; it puts the decision at the head of the review queue (reopening it if
it was reviewed before) and is due one month after receipt, extendable by two with a reason (Art. 12(3)). The
review that closes the decision decides the contest (`contests_decide`, called by the review service).

The subject id is hashed on arrival to find the decision and is kept nowhere."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from governance.deadlines import subject_request_due
from governance.events import GovernanceEvent as Event
from governance.models import Contest, Decision, ReviewItem
from governance.services.reviews import review_request
from governance.services.subject_requests import check_extension_input, subject_request_extend
from registry.actors import Actor
from registry.audit import audit_append
from registry.errors import Conflict, field_error
from registry.locks import for_update
from registry.models import ModelVersion, Project
from registry.subjects import InvalidSubjectId, mentions_subject_id, subject_key

CONTEST_PRIORITY = 10
# A decision named by its subject and time: the subject's decisions this close to the time given.
TIME_TOLERANCE = timedelta(hours=12)


def _decision_named(
    project: Project,
    *,
    model_version: ModelVersion | None,
    request_id: str | None,
    subject_id: object,
    occurred_at: datetime | None,
) -> Decision:
    if model_version is not None or request_id:
        if model_version is None:
            raise field_error("model_version", "name the model version with the request id")
        if not request_id:
            raise field_error("request_id", "name the request id with the model version")
        if model_version.project_id != project.pk:
            raise field_error("model_version", f"model version {model_version.pk} does not exist")
        decisions = Decision.objects.filter(model_version=model_version, request_id=request_id)
        if occurred_at is not None:  # a request id may name decisions at several times (the log's key has the time)
            decisions = decisions.filter(
                occurred_at__gte=occurred_at - TIME_TOLERANCE, occurred_at__lte=occurred_at + TIME_TOLERANCE
            )
        named = list(decisions.order_by("occurred_at")[:2])
        if not named:
            raise field_error("request_id", f"no decision {request_id!r} of {model_version} is logged")
        if len(named) > 1:
            raise field_error(
                "occurred_at", f"request id {request_id!r} names decisions at several times: give the time"
            )
        return named[0]
    if subject_id is None:
        raise field_error("model_version", "name the decision: model version and request id, or subject id and time")
    if occurred_at is None:
        raise field_error("occurred_at", "with a subject id, give the time of the decision")
    try:
        key = subject_key(subject_id)
    except InvalidSubjectId as exc:
        raise field_error("subject_id", str(exc)) from None
    found = list(
        Decision.objects.filter(
            project_id=project.pk,
            subject_key=key,
            occurred_at__gte=occurred_at - TIME_TOLERANCE,
            occurred_at__lte=occurred_at + TIME_TOLERANCE,
        ).order_by("occurred_at")[:5]
    )
    if not found:
        raise field_error("occurred_at", "no decision about this subject within 12 hours of that time")
    if len(found) > 1:
        raise field_error(
            "occurred_at",
            f"{len(found) if len(found) < 5 else 'several'} decisions about this subject within 12 hours of that "
            "time: name the model version and request id",
        )
    return found[0]


def contest_receive(
    *,
    actor: Actor,
    project: Project,
    reference: str,
    statement: str = "",
    model_version: ModelVersion | None = None,
    request_id: str | None = None,
    subject_id: object = None,
    occurred_at: datetime | None = None,
    received_at: datetime | None = None,
) -> Contest:
    """Record a contest and put its decision at the head of the review queue."""
    now = timezone.now()
    received_at = received_at or now
    if received_at > now + timedelta(minutes=5):
        raise field_error("received_at", "must not be in the future")
    if not reference.strip():
        raise field_error("reference", "must not be empty")
    if subject_id is not None:
        for name, text in (("reference", reference), ("statement", statement)):
            if mentions_subject_id(text, subject_id):  # kept (and audited) forever
                raise field_error(name, "must not contain the subject id")
    decision = _decision_named(
        project, model_version=model_version, request_id=request_id, subject_id=subject_id, occurred_at=occurred_at
    )
    with transaction.atomic():
        item = review_request(
            actor=actor, decision=decision, reason=ReviewItem.Reason.CONTEST, priority=CONTEST_PRIORITY
        )
        contest = Contest.objects.create(
            project=project,
            model_version_id=decision.model_version_id,
            request_id=decision.request_id,
            decision_id=decision.pk,
            decision_occurred_at=decision.occurred_at,
            review_item=item,
            reference=reference.strip(),
            statement=statement.strip(),
            received_at=received_at,
            due_at=subject_request_due(received_at),
            created_by_user=actor.user if actor.user is not None and actor.user.pk else None,
            created_by_key=actor.api_key,
        )
        audit_append(
            actor=actor,
            event_type=Event.CONTEST_RECEIVED,
            target=contest,
            after={
                "reference": contest.reference,
                "decision": decision.pk,
                "model_version": decision.model_version_id,
                "request_id": decision.request_id,
                "review_item": item.pk,
                "received_at": received_at,
                "due_at": contest.due_at,
            },
        )
    return contest


def contest_extend(*, actor: Actor, contest: Contest, months: int, reason: str) -> Contest:
    """Extend the answer's deadline by one or two further months, with the reason the person is told (Art. 12(3))."""
    check_extension_input(months, reason)
    with transaction.atomic():
        locked = for_update(Contest.objects).get(pk=contest.pk)
        if locked.status != Contest.Status.OPEN:
            raise Conflict(f"{locked} is {locked.status}; a decided contest is not extended", code="invalid_state")
        before = subject_request_extend(locked, months=months, reason=reason, now=timezone.now())
        audit_append(
            actor=actor,
            event_type=Event.CONTEST_EXTENDED,
            target=locked,
            before=before,
            after={"due_at": locked.due_at, "extension_months": months, "reason": locked.extension_reason},
        )
    return locked


def contests_decide(*, actor: Actor, item: ReviewItem, now: datetime) -> int:
    """The review closing `item` decides its open contests: upheld when confirmed, changed when overridden. Runs in
    the review's transaction; answers how many were decided."""
    decided = 0
    outcome = Contest.Outcome.CHANGED if item.status == ReviewItem.Status.OVERRIDDEN else Contest.Outcome.UPHELD
    for contest in for_update(Contest.objects).filter(review_item=item, status=Contest.Status.OPEN):
        contest.status, contest.outcome, contest.decided_at = Contest.Status.DECIDED, outcome, now
        contest.final_decision = item.final_decision if outcome == Contest.Outcome.CHANGED else None
        contest.save(update_fields=["status", "outcome", "decided_at", "final_decision"])
        audit_append(
            actor=actor,
            event_type=Event.CONTEST_DECIDED,
            target=contest,
            before={"status": Contest.Status.OPEN},
            after={
                "status": contest.status,
                "outcome": outcome,
                "final_decision": contest.final_decision,
                "decided_at": now,
                "in_time": now <= contest.due_at,
            },
        )
        decided += 1
    return decided
