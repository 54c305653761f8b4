"""What was decided: the decision log and its outcomes."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from registry.models import ApiKey, Created, Deployment, Model, ModelVersion, Project
from registry.tones import Tone, declare_tones


class Decision(models.Model):
    """One logged prediction. Append-only: only the outcome is attached later, and an erasure
    redacts the personal fields while keeping which version decided what and when. On PostgreSQL one
    partition per month of `occurred_at` (registry/partitions.py), which retention drops whole."""

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
    # Why the model decided so (SHAP-style attributions, base value, explainer, reason codes): personal data, in
    # the commitment when present, cleared by an erasure (governance.services.decisions.check_explanation)
    explanation = models.JSONField(null=True, blank=True)
    # Tamper evidence (governance/integrity.py): the salt goes with an erasure, the commitment stays.
    salt = models.CharField(max_length=32, null=True, blank=True)
    commitment = models.CharField(max_length=64)
    # sha256 of the non-personal skeleton, no salt: what still covers an erased row (empty on rows logged before)
    skeleton_commitment = models.CharField(max_length=64, blank=True, default="")
    batch_id = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField()
    created_by_key = models.ForeignKey(
        ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    created_by_user_id = models.IntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            # with the project and the partition key, as PostgreSQL's partitioned tables need (governance 0019):
            # a decision's key has its time, and the same request id at another time is another decision
            models.UniqueConstraint(
                fields=["project", "model_version", "request_id", "occurred_at"], name="decision_version_request"
            ),
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


class OutcomeVersion(models.Model):
    """Append-only history of a decision's outcome: version 1 is the first outcome, each later one a correction
    with its reason. `Decision.outcome` is the current value, for fast reads; the outcome batch's audit event
    holds a hash over (decision, version, outcome, outcome_at) of its rows (governance/integrity.py). On
    PostgreSQL triggers refuse UPDATE, DELETE and TRUNCATE (migration 0010). No database foreign key to the
    decision: the log is truncated or dropped by month (retention) and the history must not stand in the way.
    Partitioned as the log is, by project and the month of the decision (registry/partitions.py)."""

    id = models.BigAutoField(primary_key=True)
    decision = models.ForeignKey(
        Decision, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="outcome_versions"
    )
    # the decision's project and time, the keys this history is partitioned by as the log is (governance 0020):
    # retention drops a month of outcomes with its month of decisions
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="+", db_index=False)
    decision_occurred_at = models.DateTimeField()
    version = models.PositiveIntegerField()
    outcome = models.JSONField()
    outcome_at = models.DateTimeField()
    reason = models.TextField(blank=True)
    batch_id = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField()
    created_by_key = models.ForeignKey(
        ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    created_by_user_id = models.IntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["decision", "version", "project", "decision_occurred_at"], name="outcome_version_unique"
            ),
        ]
        indexes = [models.Index(fields=["batch_id"], name="outcome_version_batch")]

    def __str__(self) -> str:
        return f"outcome v{self.version} of decision {self.decision_id}"


class DriftHour(models.Model):
    """A model version's decisions of one UTC hour, counted by the bins and values of its reference profile's
    features: what a drift report sums instead of reading every decision (governance/services/drift_counts.py).

    `decisions` and `counts` are kept by the service as decisions arrive (the ingest adds a batch's counts in
    its own transaction, an erasure takes its decisions out in its own). `logged` is kept by the database: on
    PostgreSQL triggers on the decision log count the hour's decisions that are not erased, whatever writes
    them (migration 0007). A report trusts an hour's counts only when the two agree."""

    id = models.BigAutoField(primary_key=True)
    model_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="+", db_index=False)
    hour = models.DateTimeField()
    logged = models.BigIntegerField(default=0)  # PostgreSQL only: kept by the decision log's triggers
    decisions = models.BigIntegerField(default=0)
    # {feature: {key: count}}: a numeric feature's keys are its bin indexes ("0", "1", ...) and "x" for values
    # that are not numbers; a categorical feature's are str(value); missing and null values are not counted
    counts = models.JSONField(default=dict)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["model_version", "hour"], name="drift_hour_version_hour")]

    def __str__(self) -> str:
        return f"drift counts of model version {self.model_version_id} at {self.hour:%Y-%m-%d %H:00}"


class ErasureRequest(Created):
    """A data subject's request to be erased (GDPR Art. 17): received -> traced -> executed -> completed.

    Holds the subject key only, never the raw id. `reference` is the officer's ticket reference;
    it must not contain the person's identifiers.
    """

    class Status(models.TextChoices):
        RECEIVED = "received"
        TRACED = "traced"
        EXECUTED = "executed"
        COMPLETED = "completed"
        REJECTED = "rejected"

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="+")
    subject_key = models.CharField(max_length=64)
    reference = models.CharField(max_length=200)
    received_at = models.DateTimeField()
    due_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECEIVED)
    trace = models.JSONField(null=True, blank=True)
    traced_at = models.DateTimeField(null=True, blank=True)
    executed_at = models.DateTimeField(null=True, blank=True)
    execution = models.JSONField(null=True, blank=True, help_text="what the execution did (counts, ids)")
    completed_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.TextField(blank=True)
    # GDPR Art. 12(3): the deadline extended by up to two further months, the person told why (due_at moves)
    extension_months = models.PositiveSmallIntegerField(default=0)
    extension_reason = models.TextField(blank=True)
    extended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at"]
        indexes = [
            models.Index(fields=["project", "status", "due_at"], name="erasure_project_status_due"),
            models.Index(fields=["subject_key"], name="erasure_subject_key"),
        ]

    def __str__(self) -> str:
        return f"erasure request {self.pk} ({self.reference})"


declare_tones(
    ErasureRequest.Status,
    {
        ErasureRequest.Status.RECEIVED: Tone.INFO,
        ErasureRequest.Status.TRACED: Tone.ACCENT,
        ErasureRequest.Status.EXECUTED: Tone.WARNING,
        ErasureRequest.Status.COMPLETED: Tone.SUCCESS,
        ErasureRequest.Status.REJECTED: Tone.NEUTRAL,
    },
)


class RetrainingObligation(models.Model):
    """A model version trained on data that held an erased subject: open until a successor version of
    the same model is registered whose training data provably (subject index) no longer holds them."""

    class Status(models.TextChoices):
        OPEN = "open"
        CLOSED = "closed"

    erasure_request = models.ForeignKey(ErasureRequest, on_delete=models.PROTECT, related_name="obligations")
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="+")
    model_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="retraining_obligations")
    affected_data_versions = models.JSONField(default=list)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by_version = models.ForeignKey(
        ModelVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="closed_obligations"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["erasure_request", "model_version"], name="obligation_request_version")
        ]
        indexes = [models.Index(fields=["status", "model_version"], name="obligation_status_version")]

    def __str__(self) -> str:
        return f"retrain {self.model_version} ({self.status})"


def default_protected_aliases() -> list[str]:
    return ["champion", "production"]


class Basis(models.TextChoices):
    """What a fairness audit or performance report judges: the model's predictions, or the final decisions
    (a reviewer's where they overrode the model)."""

    PREDICTION = "prediction", "model predictions"
    FINAL = "final_decision", "final decisions (after review)"


MIN_RETENTION_MONTHS = 6


class Policy(models.Model):
    """A project's governance thresholds: fairness, drift, performance, promotion."""

    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="policy")
    min_demographic_parity_ratio = models.FloatField(default=0.8, help_text="four-fifths rule")
    max_equalized_odds_difference = models.FloatField(default=0.1)
    min_group_size = models.PositiveIntegerField(default=30, help_text="smaller groups are listed apart")
    max_psi = models.FloatField(default=0.2, help_text="population stability index above which a feature drifted")
    max_performance_drop = models.FloatField(
        default=0.05, help_text="largest drop of live accuracy below the validation metric"
    )
    high_risk_needs_second_approver = models.BooleanField(default=True)
    metric_floors = models.JSONField(
        default=dict, blank=True, help_text='promotion floors on a version\'s metrics, e.g. {"accuracy": 0.6}'
    )
    required_sensitive_features = models.JSONField(
        default=list,
        blank=True,
        help_text='the attributes of a gating fairness audit, e.g. ["sex"]; none: nothing passes the gate',
    )
    min_audit_decisions = models.PositiveIntegerField(
        default=500, help_text="decisions with outcomes a gating fairness audit must count at least"
    )
    max_audit_age_days = models.PositiveIntegerField(
        default=90, help_text="a gating fairness audit's window must end within this many days"
    )
    protected_aliases = models.JSONField(
        default=default_protected_aliases,
        blank=True,
        help_text="model aliases whose move is a promotion to production through the gate",
    )
    # Human review of decisions (AI Act Art. 14; GDPR Art. 22(3)): a decision of a model in one of these tiers
    # (any tier when empty) enters the review queue at ingest when its prediction is one of the labels, its
    # score lies in the band, or it falls in the sampled share; with no label, band or share, none does.
    review_risk_tiers = models.JSONField(
        default=list, blank=True, help_text='models whose decisions may need a person, e.g. ["high"]; none: every tier'
    )
    review_labels = models.JSONField(
        default=list, blank=True, help_text="predicted labels that always need a person, e.g. [true]"
    )
    review_score_min = models.FloatField(null=True, blank=True, help_text="a score band that needs a person: from")
    review_score_max = models.FloatField(null=True, blank=True, help_text="a score band that needs a person: to")
    review_sample_rate = models.FloatField(
        default=0.0, help_text="share of the other decisions sampled for review (0 to 1), by a keyed hash"
    )
    review_four_eyes = models.BooleanField(default=True, help_text="an override stands once a second person agrees")
    review_min_override_rate = models.FloatField(
        default=0.01, help_text="below this override rate reviewers may be rubber-stamping (automation bias)"
    )
    review_max_override_rate = models.FloatField(
        default=0.3, help_text="above this override rate the model is overridden too often"
    )
    review_rate_min_reviews = models.PositiveIntegerField(
        default=50, help_text="reviews in the window before the override rate is judged"
    )
    review_rate_window_days = models.PositiveIntegerField(default=30)
    # Reason codes (ECOA / Regulation B principal reasons; GDPR Art. 15(1)(h)): what a decision's explanation may
    # cite, each with the sentence a person reads
    reason_codes = models.JSONField(
        default=dict, blank=True, help_text='code -> plain-language reason, e.g. {"R01": "Income too low"}'
    )
    # Retention of the logs (decisions and their outcomes), in whole months past the end of the month a row is in:
    # never less than six (AI Act Art. 19(1) and 26(6)), longer where sector law says so (25 months for credit
    # notices, Regulation B), and no longer than the purpose needs (GDPR Art. 5(1)(e)); no maximum: kept
    retention_min_months = models.PositiveIntegerField(
        default=MIN_RETENTION_MONTHS, help_text="months a logged decision is kept at least (six or more)"
    )
    retention_max_months = models.PositiveIntegerField(
        null=True, blank=True, help_text="months after which a month of decisions is sealed and dropped; none: kept"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "policies"

    def __str__(self) -> str:
        return f"policy of {self.project.slug}"

    def snapshot(self) -> dict:
        return {
            "min_demographic_parity_ratio": self.min_demographic_parity_ratio,
            "max_equalized_odds_difference": self.max_equalized_odds_difference,
            "min_group_size": self.min_group_size,
            "max_psi": self.max_psi,
            "max_performance_drop": self.max_performance_drop,
            "high_risk_needs_second_approver": self.high_risk_needs_second_approver,
            "metric_floors": self.metric_floors,
            "required_sensitive_features": self.required_sensitive_features,
            "min_audit_decisions": self.min_audit_decisions,
            "max_audit_age_days": self.max_audit_age_days,
            "protected_aliases": self.protected_aliases,
            "reason_codes": self.reason_codes,
            "retention_min_months": self.retention_min_months,
            "retention_max_months": self.retention_max_months,
            **self.review_snapshot(),
        }

    def review_snapshot(self) -> dict:
        return {
            "review_risk_tiers": self.review_risk_tiers,
            "review_labels": self.review_labels,
            "review_score_min": self.review_score_min,
            "review_score_max": self.review_score_max,
            "review_sample_rate": self.review_sample_rate,
            "review_four_eyes": self.review_four_eyes,
            "review_min_override_rate": self.review_min_override_rate,
            "review_max_override_rate": self.review_max_override_rate,
            "review_rate_min_reviews": self.review_rate_min_reviews,
            "review_rate_window_days": self.review_rate_window_days,
        }

    @property
    def reviews_any(self) -> bool:
        """Whether any decision can enter the review queue at ingest."""
        return bool(
            self.review_labels
            or self.review_score_min is not None
            or self.review_score_max is not None
            or self.review_sample_rate > 0
        )


class FairnessAudit(Created):
    """A fairness audit of one model version's decisions with outcomes (fairlearn's MetricFrame)."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="+")
    model_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="fairness_audits")
    sensitive_features = models.JSONField()
    positive_label = models.JSONField()
    basis = models.CharField(max_length=16, choices=Basis.choices, default=Basis.PREDICTION)
    window_start = models.DateTimeField(null=True, blank=True)
    window_end = models.DateTimeField(null=True, blank=True)
    row_count = models.BigIntegerField()
    overall = models.JSONField()
    by_group = models.JSONField()
    small_groups = models.JSONField(default=list)
    disparities = models.JSONField()
    policy = models.JSONField()
    bootstrap = models.JSONField(default=dict, help_text="resamples, seed and confidence level of the intervals")
    passed = models.BooleanField()
    failed_checks = models.JSONField(default=list)
    exploratory = models.BooleanField(
        default=False,
        help_text="not by the policy's attributes: stored and shown, never alerting or gating",
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["model_version", "created_at"], name="fairness_version_time")]

    def __str__(self) -> str:
        return f"fairness audit {self.pk} of {self.model_version} ({'passed' if self.passed else 'failed'})"


class DriftReport(Created):
    """Data drift of one version's logged features in a window against its training data's profile."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="+")
    model_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="drift_reports")
    reference_data_version = models.ForeignKey(
        "registry.DataVersion", on_delete=models.PROTECT, related_name="drift_reports"
    )
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    row_count = models.BigIntegerField()
    features = models.JSONField()
    drifted = models.BooleanField()
    drifted_features = models.JSONField(default=list)
    policy = models.JSONField()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["model_version", "created_at"], name="drift_version_time")]

    def __str__(self) -> str:
        return f"drift report {self.pk} of {self.model_version} ({'drifted' if self.drifted else 'stable'})"


class PerformanceReport(Created):
    """Concept drift: live accuracy (and AUC) per time bucket, from decisions with outcomes, against the
    version's validation metric."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="+")
    model_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="performance_reports")
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    bucket = models.CharField(max_length=8)
    positive_label = models.JSONField(null=True, blank=True)
    basis = models.CharField(max_length=16, choices=Basis.choices, default=Basis.PREDICTION)
    baseline_metric = models.CharField(max_length=50)
    baseline_value = models.FloatField()
    overall = models.JSONField()
    windows = models.JSONField()
    degraded = models.BooleanField()
    policy = models.JSONField()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"performance report {self.pk} of {self.model_version} ({'degraded' if self.degraded else 'ok'})"


class ModelVersionApproval(Created):
    """A compliance officer's approval of a version for a stage (the second person of the promotion gate)."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="+")
    model_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="approvals")
    to_stage = models.CharField(max_length=16)
    comment = models.TextField()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"approval of {self.model_version} for {self.to_stage} by {self.created_by}"


class Webhook(Created):
    """Where a project's alerts go (retraining triggers): a signed JSON POST per alert."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="+")
    url = models.URLField(max_length=1000)
    events = models.JSONField(default=list, help_text='alert types to send, or ["*"] for all')
    # Kept to sign each delivery (an HMAC needs the secret itself); never shown again after creation.
    secret = models.CharField(max_length=100)
    active = models.BooleanField(default=True)

    def __str__(self) -> str:
        return f"webhook {self.pk} -> {self.url}"

    def wants(self, event_type: str) -> bool:
        return self.active and ("*" in self.events or event_type in self.events)


class WebhookDelivery(models.Model):
    """One alert sent (or being retried) to one webhook: every attempt is counted, the last one described."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    webhook = models.ForeignKey(Webhook, on_delete=models.PROTECT, related_name="deliveries")
    event_type = models.CharField(max_length=64)
    payload = models.JSONField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "webhook deliveries"
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="delivery_due")]

    def __str__(self) -> str:
        return f"delivery {self.pk} of {self.event_type} ({self.status}, {self.attempts} attempts)"


declare_tones(
    WebhookDelivery.Status,
    {
        WebhookDelivery.Status.PENDING: Tone.WARNING,
        WebhookDelivery.Status.SUCCEEDED: Tone.SUCCESS,
        WebhookDelivery.Status.FAILED: Tone.DANGER,
    },
)


class ReviewItem(models.Model):
    """A decision waiting for, or given, a person's review: one per decision (model version, request id), which
    is how it names the decision, with the decision's id and time beside (no foreign key: the decision log is
    partitioned by month, and a reference by (id, occurred_at) reaches its partition). Its state is the
    projection of its reviews (append-only, below): kept by `governance.services.reviews` only."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for review"
        SECOND = "second", "Override waiting for a second person"
        ESCALATED = "escalated", "Escalated"
        CONFIRMED = "confirmed", "Confirmed"
        OVERRIDDEN = "overridden", "Overridden"

    OPEN = (Status.PENDING, Status.SECOND, Status.ESCALATED)

    class Reason(models.TextChoices):
        LABEL = "label", "predicted label"
        SCORE = "score", "score band"
        SAMPLE = "sample", "sampled"
        CONTEST = "contest", "contested by the person"
        IMPORTED = "imported", "reviewed in another system"

    id = models.BigAutoField(primary_key=True)
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="+", db_index=False)
    model_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="+", db_index=False)
    request_id = models.CharField(max_length=200)
    decision_id = models.BigIntegerField()
    decision_occurred_at = models.DateTimeField()
    reasons = models.JSONField(default=list)
    priority = models.PositiveSmallIntegerField(default=0, help_text="higher first: a contested decision heads")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    final_decision = models.JSONField(null=True, blank=True, help_text="the reviewer's decision once overridden")
    entered_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-priority", "entered_at", "id"]
        verbose_name = "queued decision"
        verbose_name_plural = "review queue"
        constraints = [
            models.UniqueConstraint(
                fields=["project", "model_version", "request_id"], name="reviewitem_project_version_request"
            ),
        ]
        indexes = [
            models.Index(fields=["project", "status", "priority", "entered_at"], name="reviewitem_queue"),
            models.Index(fields=["decision_id"], name="reviewitem_decision"),
        ]

    def __str__(self) -> str:
        return f"review of decision {self.decision_id} ({self.get_status_display().lower()})"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN


class Review(models.Model):
    """One person's verdict on a decision, append-only and audited: confirmed, overridden (with the final
    decision) or escalated; or, on an override awaiting four eyes, the second person's agreement or refusal.
    Reviews done in another system arrive in bulk (`source` imported, `external_id` once per project)."""

    class Verdict(models.TextChoices):
        CONFIRMED = "confirmed", "Confirmed"
        OVERRIDDEN = "overridden", "Overridden"
        ESCALATED = "escalated", "Escalated"
        OVERRIDE_AGREED = "override_agreed", "Override agreed (second person)"
        OVERRIDE_REFUSED = "override_refused", "Override refused (second person)"

    class Source(models.TextChoices):
        HERE = "here", "Reviewed here"
        IMPORTED = "imported", "Imported"

    id = models.BigAutoField(primary_key=True)
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="+", db_index=False)
    item = models.ForeignKey(ReviewItem, on_delete=models.PROTECT, related_name="reviews")
    model_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="+", db_index=False)
    decision_id = models.BigIntegerField()
    decision_occurred_at = models.DateTimeField()
    verdict = models.CharField(max_length=16, choices=Verdict.choices)
    final_decision = models.JSONField(null=True, blank=True)
    reason = models.TextField()
    reviewer_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewer_key = models.ForeignKey(ApiKey, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reviewer_name = models.CharField(max_length=200, blank=True, help_text="who reviewed, in the other system")
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.HERE)
    external_id = models.CharField(max_length=200, blank=True)
    reviewed_at = models.DateTimeField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["item_id", "reviewed_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "external_id"],
                condition=~models.Q(external_id=""),
                name="review_project_external_id",
            ),
        ]
        indexes = [models.Index(fields=["model_version", "reviewed_at"], name="review_version_time")]

    def __str__(self) -> str:
        return f"{self.get_verdict_display()} (decision {self.decision_id})"

    @property
    def reviewer(self) -> str:
        if self.reviewer_name:  # an imported review: the other system's reviewer, not who imported it
            return self.reviewer_name
        if self.reviewer_user_id is not None:
            return self.reviewer_user.get_username()
        return self.reviewer_key.name if self.reviewer_key_id is not None else "?"


declare_tones(
    ReviewItem.Status,
    {
        ReviewItem.Status.PENDING: Tone.WARNING,
        ReviewItem.Status.SECOND: Tone.WARNING,
        ReviewItem.Status.ESCALATED: Tone.DANGER,
        ReviewItem.Status.CONFIRMED: Tone.SUCCESS,
        ReviewItem.Status.OVERRIDDEN: Tone.NEUTRAL,
    },
)


class Contest(Created):
    """A person contesting an automated decision and asking for human intervention (GDPR Art. 22(3)). Names the
    decision as the review queue does (model version, request id; with the decision's id and time beside), puts it
    at the head of the queue, and is answered within one month (extendable by two, with a reason: Art. 12(3)).
    Its outcome is the review's: upheld when confirmed, changed when overridden. No subject id is kept: the
    decision already names the subject (by key)."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DECIDED = "decided", "Decided"

    class Outcome(models.TextChoices):
        UPHELD = "upheld", "Decision upheld"
        CHANGED = "changed", "Decision changed"

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="+")
    model_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="+")
    request_id = models.CharField(max_length=200)
    decision_id = models.BigIntegerField()
    decision_occurred_at = models.DateTimeField()
    review_item = models.ForeignKey(ReviewItem, on_delete=models.PROTECT, related_name="contests")
    reference = models.CharField(max_length=200, help_text="the officer's ticket reference (never the subject id)")
    statement = models.TextField(blank=True, help_text="what the person says (no subject id)")
    received_at = models.DateTimeField()
    due_at = models.DateTimeField()
    extension_months = models.PositiveSmallIntegerField(default=0)
    extension_reason = models.TextField(blank=True)
    extended_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    outcome = models.CharField(max_length=8, choices=Outcome.choices, blank=True)
    final_decision = models.JSONField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [models.Index(fields=["project", "status", "due_at"], name="contest_open_due")]

    def __str__(self) -> str:
        return f"contest {self.reference} of decision {self.decision_id}"


declare_tones(
    Contest.Status,
    {Contest.Status.OPEN: Tone.INFO, Contest.Status.DECIDED: Tone.SUCCESS},
)


class Incident(Created):
    """A serious incident of an AI system (AI Act Art. 73): what happened, which model versions, deployments and
    decisions it touches (the decisions as a filter and its count, so it survives the monthly partitioning of the
    log), its category, which fixes the reporting deadline from the moment of awareness (governance.deadlines), the
    initial and complete reports sent to the authority, the root cause and corrective action. While it is open,
    the versions it names are frozen: the promotion gate refuses them and their stage does not move (Art. 73(6):
    the system is not altered in a way that affects the evaluation of the causes before the authority is told)."""

    class Category(models.TextChoices):
        WIDESPREAD_OR_CRITICAL = "widespread_or_critical", "Widespread infringement or critical infrastructure (2 days)"
        DEATH = "death", "Death of a person (10 days)"
        OTHER = "other", "Other serious incident (15 days)"

    class Status(models.TextChoices):
        OPEN = "open", "Open, not yet reported"
        REPORTED = "reported", "Reported (initial)"
        COMPLETE = "complete", "Complete report sent"
        CLOSED = "closed", "Closed"

    OPEN_STATUSES = (Status.OPEN, Status.REPORTED, Status.COMPLETE)

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="+")
    title = models.CharField(max_length=200)
    description = models.TextField()
    category = models.CharField(max_length=32, choices=Category.choices)
    aware_at = models.DateTimeField(help_text="when the provider or deployer became aware of it")
    due_at = models.DateTimeField(help_text="the report to the authority is due by then")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    model_versions = models.ManyToManyField(ModelVersion, related_name="incidents")
    deployments = models.ManyToManyField(Deployment, related_name="incidents", blank=True)
    affected_filter = models.JSONField(default=dict, help_text="the affected decisions, as a filter of the log")
    affected_count = models.BigIntegerField(default=0)
    root_cause = models.TextField(blank=True)
    corrective_action = models.TextField(blank=True)
    warned_at = models.DateTimeField(null=True, blank=True, help_text="when the near-deadline alert went out")
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [models.Index(fields=["project", "status", "due_at"], name="incident_open_due")]

    def __str__(self) -> str:
        return f"incident {self.pk}: {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class IncidentReport(Created):
    """A report sent to the market surveillance authority: the initial one (may be incomplete, Art. 73(5)) or the
    complete one; what was sent (text, and each attachment's sha256), when and to whom. Never changed."""

    class Kind(models.TextChoices):
        INITIAL = "initial", "Initial report"
        COMPLETE = "complete", "Complete report"

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="reports")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    text = models.TextField()
    sent_at = models.DateTimeField()
    recipient = models.CharField(max_length=300, help_text="the authority, and how it was sent")
    attachments = models.JSONField(default=list, blank=True, help_text='[{"name": ..., "sha256": ...}]')

    class Meta:
        ordering = ["incident", "sent_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display().lower()} of incident {self.incident_id}"


declare_tones(
    Incident.Status,
    {
        Incident.Status.OPEN: Tone.DANGER,
        Incident.Status.REPORTED: Tone.WARNING,
        Incident.Status.COMPLETE: Tone.ACCENT,
        Incident.Status.CLOSED: Tone.MUTED,
    },
)


class AccessRequest(Created):
    """A data subject's request for access (GDPR Art. 15, with Art. 15(1)(h) and AI Act Art. 86: the automated
    decisions about them and the logic involved), on the subject-request clock of governance.deadlines (one month,
    extendable by two). Holds the subject's key only; the report is built from the records when asked
    (governance.queries.access) and its sha256 is audited when the request is answered."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ANSWERED = "answered", "Answered"

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="+")
    subject_key = models.CharField(max_length=64)
    reference = models.CharField(max_length=200, help_text="the officer's ticket reference (never the subject id)")
    received_at = models.DateTimeField()
    due_at = models.DateTimeField()
    extension_months = models.PositiveSmallIntegerField(default=0)
    extension_reason = models.TextField(blank=True)
    extended_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    answered_at = models.DateTimeField(null=True, blank=True)
    report_sha256 = models.CharField(max_length=64, blank=True, help_text="of the report as answered")

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["project", "status", "due_at"], name="access_open_due"),
            models.Index(fields=["subject_key"], name="access_subject_key"),
        ]

    def __str__(self) -> str:
        return f"access request {self.reference}"


class EvidencePack(Created):
    """A generated technical documentation pack (AI Act Art. 11, Annex IV) of a model version, or of a model across
    its versions (`model` set, `model_version` empty), kept as it was generated (append-only; Art. 18 asks for ten
    years): its content, the sha256 of its canonical JSON (also in the audit event that recorded it), and what
    changed since the previous pack of the same subject."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="+")
    model_version = models.ForeignKey(
        ModelVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="evidence_packs"
    )
    model = models.ForeignKey(
        Model,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="evidence_packs",
        help_text="a model's pack",
    )
    generated_at = models.DateTimeField()
    content = models.JSONField()
    sha256 = models.CharField(max_length=64, unique=True)
    previous = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    changes = models.JSONField(default=dict, help_text="added, removed and changed statements since `previous`")

    class Meta:
        ordering = ["-generated_at", "-id"]
        indexes = [
            models.Index(fields=["model_version", "generated_at"], name="evidencepack_version_time"),
            models.Index(fields=["model", "generated_at"], name="evidencepack_model_time"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(model_version__isnull=False, model__isnull=True)
                | models.Q(model_version__isnull=True, model__isnull=False),
                name="evidencepack_one_subject",
                violation_error_message="a pack documents either a model version or a model",
            ),
        ]

    def __str__(self) -> str:
        if self.model_version_id is None:
            return f"evidence pack {self.pk} of model {self.model_id}"
        return f"evidence pack {self.pk} of model version {self.model_version_id}"


class LegalHold(Created):
    """A legal hold (litigation, an investigation, a regulator's request): while it stands, retention removes
    nothing of its project, or of its model version's decisions when it names one. Placed and released by a
    compliance officer, each in the audit trail; a released hold stays as a record."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="+")
    model_version = models.ForeignKey(
        ModelVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="legal_holds"
    )
    reason = models.TextField()
    placed_by = models.CharField(max_length=200)
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.CharField(max_length=200, blank=True)
    release_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["project", "released_at"], name="legalhold_project_open")]

    def __str__(self) -> str:
        scope = f"{self.model_version}" if self.model_version_id else "the whole project"
        return f"legal hold on {scope}"

    @property
    def is_active(self) -> bool:
        return self.released_at is None


class SealedMonth(models.Model):
    """One project's month of the decision log, sealed into the audit trail and then dropped by retention: how
    many decisions and outcome versions it held, the hash over their commitments, and per ingest and outcome batch
    what was sealed and what remains elsewhere (governance/services/retention.py), so that `decisions/verify/`
    still verifies every batch afterwards. Written once, in the transaction that drops the month."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="+")
    month = models.DateField(help_text="the month's first day (UTC)")
    decisions = models.PositiveBigIntegerField()
    outcome_versions = models.PositiveBigIntegerField()
    commitments_sha256 = models.CharField(max_length=64)
    seal = models.JSONField(help_text="per model version and batch: rows sealed, rows and hashes remaining")
    audit_seq = models.BigIntegerField()
    sealed_at = models.DateTimeField()

    class Meta:
        ordering = ["project", "month"]
        constraints = [models.UniqueConstraint(fields=["project", "month"], name="sealedmonth_project_month")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} of project {self.project_id} (sealed)"
