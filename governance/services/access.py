"""Subject access requests (GDPR Art. 15; Art. 15(1)(h) and AI Act Art. 86 for the automated decisions about the
person): received with the raw subject id (hashed on arrival, stored nowhere), answered within one month,
extendable by two (governance.deadlines, the same rule as erasure and contests). The report itself is read from
the records when asked (governance.queries.access.subject_access_report); answering records its sha256 in the
audit trail, so what the person was sent can be shown later."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from governance.deadlines import subject_request_due
from governance.events import GovernanceEvent as Event
from governance.models import AccessRequest
from governance.permissions import ACCESS_OFFICERS
from governance.queries.access import subject_access_report
from governance.services.subject_requests import check_extension_input, subject_request_extend
from registry.actors import Actor
from registry.audit import audit_append
from registry.errors import Conflict, Forbidden, field_error
from registry.locks import for_update
from registry.models import Project
from registry.subjects import InvalidSubjectId, mentions_subject_id, subject_key


def _check(actor: Actor, project_id: int) -> None:
    if not actor.can(ACCESS_OFFICERS, project_id):
        raise Forbidden("only a compliance officer of the project handles subject access requests")


def access_request_receive(
    *, actor: Actor, project: Project, subject_id: object, reference: str, received_at: datetime | None = None
) -> AccessRequest:
    _check(actor, project.pk)
    now = timezone.now()
    received_at = received_at or now
    if received_at > now + timedelta(minutes=5):
        raise field_error("received_at", "must not be in the future")
    if not isinstance(reference, str) or not reference.strip():
        raise field_error("reference", "must not be empty")
    try:
        key = subject_key(subject_id)
    except InvalidSubjectId as exc:
        raise field_error("subject_id", str(exc)) from None
    if mentions_subject_id(reference, subject_id):  # kept (and audited) forever
        raise field_error("reference", "must not contain the subject id")
    with transaction.atomic():
        request = AccessRequest.objects.create(
            project=project,
            subject_key=key,
            reference=reference.strip(),
            received_at=received_at,
            due_at=subject_request_due(received_at),
            created_by_user=actor.user if actor.user is not None and actor.user.pk else None,
            created_by_key=actor.api_key,
        )
        audit_append(
            actor=actor,
            event_type=Event.ACCESS_RECEIVED,
            target=request,
            after={"reference": request.reference, "received_at": received_at, "due_at": request.due_at},
        )
    return request


def access_request_extend(*, actor: Actor, request: AccessRequest, months: int, reason: str) -> AccessRequest:
    """One or two further months, with the reason the person is told (Art. 12(3)), decided within the first."""
    _check(actor, request.project_id)
    check_extension_input(months, reason)
    with transaction.atomic():
        locked = for_update(AccessRequest.objects).get(pk=request.pk)
        if locked.status != AccessRequest.Status.OPEN:
            raise Conflict(f"{locked} is {locked.status}; an answered request is not extended", code="invalid_state")
        before = subject_request_extend(locked, months=months, reason=reason, now=timezone.now())
        audit_append(
            actor=actor,
            event_type=Event.ACCESS_EXTENDED,
            target=locked,
            before=before,
            after={"due_at": locked.due_at, "extension_months": months, "reason": locked.extension_reason},
        )
    return locked


def report_sha256(report: dict) -> str:
    canonical = json.dumps(report, sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder)
    return hashlib.sha256(canonical.encode()).hexdigest()


def access_request_answer(*, actor: Actor, request: AccessRequest) -> tuple[AccessRequest, dict]:
    """Mark the request answered with the report as it stands now; the report's sha256 goes into the trail."""
    _check(actor, request.project_id)
    with transaction.atomic():
        locked = for_update(AccessRequest.objects).get(pk=request.pk)
        if locked.status != AccessRequest.Status.OPEN:
            raise Conflict(f"{locked} was answered on {locked.answered_at:%Y-%m-%d}", code="invalid_state")
        now = timezone.now()
        report = subject_access_report(project=locked.project, subject_key=locked.subject_key, now=now)
        locked.status, locked.answered_at, locked.report_sha256 = (
            AccessRequest.Status.ANSWERED,
            now,
            report_sha256(report),
        )
        locked.save(update_fields=["status", "answered_at", "report_sha256"])
        audit_append(
            actor=actor,
            event_type=Event.ACCESS_ANSWERED,
            target=locked,
            after={
                "answered_at": now,
                "in_time": now <= locked.due_at,
                "report_sha256": locked.report_sha256,
                "decisions": report["decisions"]["count"],
            },
        )
    return locked, report
