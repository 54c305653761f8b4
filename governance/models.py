"""What was decided: the decision log and its outcomes."""

from __future__ import annotations

from django.db import models

from registry.models import ApiKey, Deployment, ModelVersion, Project


class Decision(models.Model):
    """One logged prediction. Append-only: only the outcome is attached later, and an erasure
    redacts the personal fields while keeping which version decided what and when."""

    id = models.BigAutoField(primary_key=True)
    # The composite indexes below lead with these columns, so the foreign keys need none of their own:
    # every index is upkeep on the ingest path.
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="+", db_index=False)
    model_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="decisions", db_index=False)
    deployment = models.ForeignKey(
        Deployment, null=True, blank=True, on_delete=models.PROTECT, related_name="decisions", db_index=False
    )
    request_id = models.CharField(max_length=200)
    subject_key = models.CharField(max_length=64, null=True, blank=True)
    subject_key_id = models.CharField(max_length=16, blank=True)
    features = models.JSONField(default=dict)
    sensitive = models.JSONField(default=dict, blank=True)
    prediction = models.JSONField()
    score = models.FloatField(null=True, blank=True)
    occurred_at = models.DateTimeField()
    outcome = models.JSONField(null=True, blank=True)
    outcome_at = models.DateTimeField(null=True, blank=True)
    erased_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    created_by_key = models.ForeignKey(
        ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    created_by_user_id = models.IntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["model_version", "request_id"], name="decision_version_request"),
        ]
        indexes = [
            models.Index(fields=["subject_key"], name="decision_subject_key"),
            models.Index(fields=["model_version", "occurred_at"], name="decision_version_time"),
            models.Index(fields=["request_id"], name="decision_request_id"),
            models.Index(fields=["deployment", "occurred_at"], name="decision_deployment_time"),
            models.Index(fields=["project", "occurred_at"], name="decision_project_time"),
        ]

    def __str__(self) -> str:
        return f"decision {self.pk} ({self.request_id})"
