"""The audit event types governance writes (the trail itself lives in registry; registered in apps.py)."""

from __future__ import annotations

from django.db import models


class GovernanceEvent(models.TextChoices):
    DECISIONS_INGESTED = "decisions.ingested"
    OUTCOMES_RECORDED = "decisions.outcomes_recorded"
    ERASURE_RECEIVED = "erasure.received"
    ERASURE_TRACED = "erasure.traced"
    ERASURE_EXECUTED = "erasure.executed"
    ERASURE_COMPLETED = "erasure.completed"
    ERASURE_REJECTED = "erasure.rejected"
    ERASURE_EXTENDED = "erasure.extended"
    OBLIGATION_OPENED = "erasure.obligation_opened"
    OBLIGATION_CLOSED = "erasure.obligation_closed"
    FAIRNESS_AUDITED = "fairness.audited"
    POLICY_CREATED = "policy.created"
    POLICY_CHANGED = "policy.changed"
    DRIFT_REPORTED = "drift.reported"
    PERFORMANCE_REPORTED = "performance.reported"
    MODEL_VERSION_APPROVED = "model_version.approved"
    ALERT_RAISED = "alert.raised"
    REVIEW_QUEUED = "review.queued"
    REVIEW_RECORDED = "review.recorded"
    EVIDENCE_PACK_GENERATED = "evidence_pack.generated"
    ACCESS_RECEIVED = "access.received"
    ACCESS_EXTENDED = "access.extended"
    ACCESS_ANSWERED = "access.answered"
    CONTEST_RECEIVED = "contest.received"
    CONTEST_EXTENDED = "contest.extended"
    CONTEST_DECIDED = "contest.decided"
    INCIDENT_OPENED = "incident.opened"
    INCIDENT_REPORTED = "incident.reported"
    INCIDENT_CLOSED = "incident.closed"
    INCIDENT_ROLLED_BACK = "incident.rolled_back"
    WEBHOOK_CREATED = "webhook.created"
