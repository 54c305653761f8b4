"""Serious incidents (AI Act Art. 73): open one on the model versions, deployments and decisions it touches, with
the clock its category fixes from the moment of awareness (governance.deadlines); record the initial and complete
reports sent to the authority; close it with its root cause and corrective action; record a rollback deployment
from it. While an incident is open its versions are frozen: `incident_freeze_checks` (a promotion-gate check, in
apps.py) refuses every stage move and every production deployment of them. Webhooks fire when an incident opens
(`incident.opened`) and when an unreported one nears its deadline (`incident.deadline_near`, from
`incident_clocks_check`, which `run_monitoring` runs)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from governance.deadlines import INCIDENT_REPORT_DAYS, IncidentCategory, incident_report_due
from governance.events import GovernanceEvent as Event
from governance.models import Decision, Incident, IncidentReport
from governance.services.alerts import alert_raise
from registry.actors import Actor
from registry.audit import audit_append
from registry.errors import Conflict, field_error
from registry.locks import for_update
from registry.models import Deployment, ModelVersion, Project, Stage
from registry.services import deployment_create, model_version_transition

SHA256 = re.compile(r"^[0-9a-f]{64}$")
WARN_SHARE = 0.2  # the near-deadline alert goes out with a fifth of the period left (at least MIN_WARNING)
MIN_WARNING = timedelta(hours=12)


def warning_time(incident: Incident) -> datetime:
    period = timedelta(days=INCIDENT_REPORT_DAYS[IncidentCategory(incident.category)])
    return incident.due_at - max(MIN_WARNING, period * WARN_SHARE)


def affected_decisions(filter_: dict):
    """The decisions an incident's filter names (model versions, and a window of occurred_at)."""
    rows = Decision.objects.filter(model_version_id__in=filter_.get("model_versions", []))
    if filter_.get("occurred_after"):
        rows = rows.filter(occurred_at__gte=datetime.fromisoformat(filter_["occurred_after"]))
    if filter_.get("occurred_before"):
        rows = rows.filter(occurred_at__lt=datetime.fromisoformat(filter_["occurred_before"]))
    return rows


def incident_open(
    *,
    actor: Actor,
    project: Project,
    title: str,
    description: str,
    category: str,
    aware_at: datetime,
    model_versions: Sequence[ModelVersion],
    deployments: Sequence[Deployment] = (),
    affected_after: datetime | None = None,
    affected_before: datetime | None = None,
) -> Incident:
    now = timezone.now()
    if not title.strip():
        raise field_error("title", "must not be empty")
    if not description.strip():
        raise field_error("description", "say what happened")
    if category not in Incident.Category.values:
        raise field_error("category", f"must be one of {', '.join(Incident.Category.values)}")
    if aware_at > now + timedelta(minutes=5):
        raise field_error("aware_at", "must not be in the future")
    if not model_versions:
        raise field_error("model_versions", "name at least one model version")
    if any(version.project_id != project.pk for version in model_versions):
        raise field_error("model_versions", "every version must be of the incident's project")
    version_ids = sorted({version.pk for version in model_versions})
    for deployment in deployments:
        if deployment.model_version_id not in version_ids:
            raise field_error("deployments", f"deployment {deployment.pk} serves none of the incident's versions")
    if affected_after and affected_before and affected_before <= affected_after:
        raise field_error("affected_before", "must be after affected_after")
    filter_ = {
        "model_versions": version_ids,
        "occurred_after": affected_after.isoformat() if affected_after else None,
        "occurred_before": affected_before.isoformat() if affected_before else None,
    }
    with transaction.atomic():
        incident = Incident.objects.create(
            project=project,
            title=title.strip(),
            description=description.strip(),
            category=category,
            aware_at=aware_at,
            due_at=incident_report_due(aware_at, category),
            affected_filter=filter_,
            affected_count=affected_decisions(filter_).count(),
            created_by_user=actor.user if actor.user is not None and actor.user.pk else None,
            created_by_key=actor.api_key,
        )
        incident.model_versions.set(version_ids)
        incident.deployments.set([d.pk for d in deployments])
        after = {
            "title": incident.title,
            "category": category,
            "aware_at": aware_at,
            "due_at": incident.due_at,
            "model_versions": version_ids,
            "deployments": sorted(d.pk for d in deployments),
            "affected_filter": filter_,
            "affected_count": incident.affected_count,
        }
        audit_append(actor=actor, event_type=Event.INCIDENT_OPENED, target=incident, after=after)
        alert_raise(
            actor=actor,
            project_id=project.pk,
            alert_type="incident.opened",
            target=incident,
            payload={
                "incident": incident.pk,
                **{k: v for k, v in after.items() if k not in ("aware_at", "due_at")},
                "aware_at": aware_at.isoformat(),
                "due_at": incident.due_at.isoformat(),
            },
        )
    return incident


def _attachments(value: object) -> list[dict]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise field_error("attachments", 'must be a list of {"name", "sha256"}')
    out = []
    for index, item in enumerate(value):
        if not isinstance(item, dict) or set(item) != {"name", "sha256"}:
            raise field_error("attachments", f'attachments[{index}] must be {{"name", "sha256"}}')
        name, digest = item["name"], item["sha256"]
        if not isinstance(name, str) or not name.strip() or len(name) > 200:
            raise field_error("attachments", f"attachments[{index}].name must be a file name of at most 200 characters")
        if not isinstance(digest, str) or not SHA256.match(digest):
            raise field_error("attachments", f"attachments[{index}].sha256 must be 64 lowercase hex digits")
        out.append({"name": name.strip(), "sha256": digest})
    return out


def incident_report(
    *,
    actor: Actor,
    incident: Incident,
    kind: str,
    text: str,
    sent_at: datetime,
    recipient: str,
    attachments: object = None,
) -> IncidentReport:
    """Record a report sent to the authority: the initial one (once) or the complete one (once)."""
    if kind not in IncidentReport.Kind.values:
        raise field_error("kind", f"must be one of {', '.join(IncidentReport.Kind.values)}")
    if not text.strip():
        raise field_error("text", "record what was sent")
    if not recipient.strip():
        raise field_error("recipient", "name the authority it was sent to")
    if sent_at > timezone.now() + timedelta(minutes=5):
        raise field_error("sent_at", "must not be in the future")
    files = _attachments(attachments)
    with transaction.atomic():
        locked = for_update(Incident.objects).get(pk=incident.pk)
        if not locked.is_open:
            raise Conflict(f"{locked} is closed", code="invalid_state")
        if sent_at < locked.aware_at:
            raise field_error("sent_at", "must not be before the incident was known (aware_at)")
        if locked.reports.filter(kind=kind).exists():
            raise Conflict(f"the {kind} report of {locked} is already recorded", code="already_reported")
        report = IncidentReport.objects.create(
            incident=locked,
            kind=kind,
            text=text.strip(),
            sent_at=sent_at,
            recipient=recipient.strip(),
            attachments=files,
            created_by_user=actor.user if actor.user is not None and actor.user.pk else None,
            created_by_key=actor.api_key,
        )
        before = locked.status
        locked.status = Incident.Status.COMPLETE if kind == IncidentReport.Kind.COMPLETE else Incident.Status.REPORTED
        if before == Incident.Status.COMPLETE:
            locked.status = before  # an initial report recorded after the complete one moves nothing back
        locked.save(update_fields=["status"])
        audit_append(
            actor=actor,
            event_type=Event.INCIDENT_REPORTED,
            target=locked,
            before={"status": before},
            after={
                "status": locked.status,
                "kind": kind,
                "sent_at": sent_at,
                "recipient": report.recipient,
                "attachments": files,
                "in_time": sent_at <= locked.due_at,
            },
        )
    return report


def incident_close(*, actor: Actor, incident: Incident, root_cause: str, corrective_action: str) -> Incident:
    """Close an incident once its complete report is sent, with its root cause and corrective action; its versions
    are no longer frozen."""
    if not root_cause.strip():
        raise field_error("root_cause", "must not be empty")
    if not corrective_action.strip():
        raise field_error("corrective_action", "must not be empty")
    with transaction.atomic():
        locked = for_update(Incident.objects).get(pk=incident.pk)
        if locked.status == Incident.Status.CLOSED:
            raise Conflict(f"{locked} is already closed", code="invalid_state")
        if not locked.reports.filter(kind=IncidentReport.Kind.COMPLETE).exists():
            raise field_error("status", "record the complete report to the authority before closing")
        before = locked.status
        locked.root_cause, locked.corrective_action = root_cause.strip(), corrective_action.strip()
        locked.status, locked.closed_at = Incident.Status.CLOSED, timezone.now()
        locked.save(update_fields=["root_cause", "corrective_action", "status", "closed_at"])
        audit_append(
            actor=actor,
            event_type=Event.INCIDENT_CLOSED,
            target=locked,
            before={"status": before},
            after={
                "status": locked.status,
                "root_cause": locked.root_cause,
                "corrective_action": locked.corrective_action,
            },
        )
    return locked


def incident_rollback(
    *, actor: Actor, incident: Incident, model_version: ModelVersion, environment: str, reason: str
) -> Deployment:
    """Record a rollback from the incident: `model_version` (another version of an affected model, itself through
    the gate) goes back to production if it is not there, and is deployed to `environment`."""
    if not reason.strip():
        raise field_error("reason", "must not be empty")
    frozen = set(incident.model_versions.values_list("pk", flat=True))
    if model_version.pk in frozen:
        raise field_error("model_version", "roll back to a version the incident does not name")
    models = set(ModelVersion.objects.filter(pk__in=frozen).values_list("model_id", flat=True))
    if model_version.model_id not in models or model_version.project_id != incident.project_id:
        raise field_error("model_version", "must be a version of a model the incident names")
    if not incident.is_open:
        raise Conflict(f"{incident} is closed", code="invalid_state")
    with transaction.atomic():
        why = f"rollback from incident {incident.pk}: {reason.strip()}"
        if model_version.stage == Stage.ARCHIVED:  # the stage machine goes back through staging
            model_version_transition(actor=actor, model_version=model_version, to_stage=Stage.STAGING, reason=why)
        if model_version.stage != Stage.PRODUCTION:
            model_version_transition(actor=actor, model_version=model_version, to_stage=Stage.PRODUCTION, reason=why)
        deployment = deployment_create(actor=actor, model_version=model_version, environment=environment)
        incident.deployments.add(deployment)
        audit_append(
            actor=actor,
            event_type=Event.INCIDENT_ROLLED_BACK,
            target=incident,
            after={"deployment": deployment.pk, "model_version": model_version.pk, "reason": reason.strip()},
        )
    return deployment


def _open_incidents_named(model_version: ModelVersion) -> str:
    """The open incidents naming the version, as "12 (title), 13 (title)"; "" when none is open."""
    open_incidents = Incident.objects.filter(model_versions=model_version, status__in=Incident.OPEN_STATUSES)
    return ", ".join(f"{pk} ({title})" for pk, title in open_incidents.values_list("pk", "title"))


def incident_freeze_checks(actor: Actor, model_version: ModelVersion, to_stage: str) -> list[dict]:
    """A promotion-gate check on every stage move (and production deployment) of a version: refused while an
    incident on it is open."""
    named = _open_incidents_named(model_version)
    if named:
        return [
            {
                "check": "no_open_incident",
                "passed": False,
                "message": f"frozen while incident {named} is open: the version may not move (AI Act Art. 73(6))",
            }
        ]
    if to_stage == Stage.PRODUCTION:
        return [{"check": "no_open_incident", "passed": True, "message": "no open incident names this version"}]
    return []


def incident_change_refusals(actor: Actor, model_version: ModelVersion) -> list[str]:
    """A registry change guard (hooks.add_change_guard): the record of a version named by an open incident may not
    change, its model card included, before the authority is informed (AI Act Art. 73(6))."""
    named = _open_incidents_named(model_version)
    if named:
        return [f"frozen while incident {named} is open: its record may not change (AI Act Art. 73(6))"]
    return []


def incident_clocks_check(*, actor: Actor, now: datetime | None = None) -> list[Incident]:
    """Alert once on each unreported incident whose deadline is near (a fifth of its period left, at least
    12 hours) or past; answers the incidents alerted."""
    now = now or timezone.now()
    alerted = []
    with transaction.atomic():
        for incident in for_update(Incident.objects).filter(status=Incident.Status.OPEN, warned_at__isnull=True):
            if now < warning_time(incident):
                continue
            incident.warned_at = now
            incident.save(update_fields=["warned_at"])
            alert_raise(
                actor=actor,
                project_id=incident.project_id,
                alert_type="incident.deadline_near",
                target=incident,
                payload={
                    "incident": incident.pk,
                    "title": incident.title,
                    "category": incident.category,
                    "due_at": incident.due_at.isoformat(),
                    "hours_left": round((incident.due_at - now).total_seconds() / 3600, 1),
                },
            )
            alerted.append(incident)
    return alerted
