from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from governance import deadlines
from governance.models import Basis, Decision
from registry.inputs import SaneDateTimeField


class DecisionSerializer(serializers.ModelSerializer):
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    has_subject = serializers.SerializerMethodField()

    class Meta:
        model = Decision
        fields = [
            "id",
            "project",
            "model_version",
            "deployment",
            "request_id",
            "has_subject",
            "features",
            "sensitive",
            "prediction",
            "score",
            "occurred_at",
            "explanation",
            "outcome",
            "outcome_at",
            "erased_at",
            "created_at",
        ]

    def get_has_subject(self, obj: Decision) -> bool:
        return obj.subject_key is not None


class ExplanationInSerializer(serializers.Serializer):
    """A decision's explanation (documentation; validated by the ingest service)."""

    attributions = serializers.DictField(
        child=serializers.FloatField(), help_text="feature -> its contribution to the score (e.g. SHAP values)"
    )
    base_value = serializers.FloatField(required=False, help_text="the explainer's expected value")
    library = serializers.CharField(required=False, max_length=100, help_text='e.g. "shap"')
    library_version = serializers.CharField(required=False, max_length=50)
    method = serializers.CharField(required=False, max_length=100, help_text='e.g. "permutation", "tree"')
    reason_codes = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="codes of the project's reason-code catalogue"
    )


class DecisionInSerializer(serializers.Serializer):
    """One decision of a bulk request (documentation; validation is done by the ingest service)."""

    model_version = serializers.IntegerField()
    deployment = serializers.IntegerField(required=False, allow_null=True)
    request_id = serializers.CharField(max_length=200, help_text="idempotency key, unique per model version")
    subject_id = serializers.CharField(required=False, allow_null=True, help_text="pseudonymised on arrival")
    features = serializers.DictField()
    sensitive = serializers.DictField(required=False)
    prediction = serializers.JSONField(help_text="a label or a number")
    score = serializers.FloatField(required=False, allow_null=True)
    occurred_at = SaneDateTimeField()
    explanation = ExplanationInSerializer(required=False, help_text="why the model decided so (personal data)")


class DecisionBulkSerializer(serializers.Serializer):
    decisions = DecisionInSerializer(many=True, help_text="at most 10,000")


class DecisionBulkResultSerializer(serializers.Serializer):
    accepted = serializers.IntegerField()
    duplicates = serializers.IntegerField(
        help_text="already logged: (model_version, request_id, occurred_at) seen before"
    )


class OutcomeInSerializer(serializers.Serializer):
    model_version = serializers.IntegerField()
    request_id = serializers.CharField()
    occurred_at = SaneDateTimeField(
        required=False, help_text="the decision's time: needed when its request id names decisions at several times"
    )
    outcome = serializers.JSONField()
    outcome_at = SaneDateTimeField(required=False)
    correction = serializers.BooleanField(
        required=False, help_text="an outcome is written once: true replaces it, as its next version, with a reason"
    )
    reason = serializers.CharField(required=False, max_length=2000, help_text="why the outcome is corrected")


class OutcomeBulkSerializer(serializers.Serializer):
    outcomes = OutcomeInSerializer(many=True, help_text="at most 10,000")


class UnknownOutcomeSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    model_version = serializers.IntegerField()
    request_id = serializers.CharField()


class OutcomeResultSerializer(serializers.Serializer):
    updated = serializers.IntegerField()
    unknown = UnknownOutcomeSerializer(many=True)


class LineageNodeSerializer(serializers.Serializer):
    id = serializers.CharField()
    kind = serializers.CharField()
    pk = serializers.IntegerField()
    label = serializers.CharField()
    attrs = serializers.DictField()


class LineageEdgeSerializer(serializers.Serializer):
    source = serializers.CharField()
    target = serializers.CharField()
    relation = serializers.CharField()
    attrs = serializers.DictField()


class LineageSerializer(serializers.Serializer):
    root = serializers.CharField()
    nodes = LineageNodeSerializer(many=True)
    edges = LineageEdgeSerializer(many=True)


class DecisionVerificationSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    model_version = serializers.IntegerField()
    rows_checked = serializers.IntegerField()
    erased_rows = serializers.IntegerField(help_text="redacted rows: their commitment still counts in its batch")
    batches_checked = serializers.IntegerField()
    bad_rows = serializers.ListField(child=serializers.DictField())
    bad_batches = serializers.ListField(child=serializers.DictField())
    batches_sealed = serializers.IntegerField(help_text="batches wholly in months retention sealed and dropped")
    sealed_months = serializers.ListField(
        child=serializers.DictField(), help_text="the months sealed and dropped: month, decisions, audit seq and hash"
    )


class ErasureRequestSerializer(serializers.ModelSerializer):
    """A request as the officer sees it; the subject key itself is never shown."""

    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    days_left = serializers.SerializerMethodField()
    open_obligations = serializers.SerializerMethodField()

    class Meta:
        from governance.models import ErasureRequest

        model = ErasureRequest
        fields = [
            "id",
            "project",
            "reference",
            "status",
            "received_at",
            "due_at",
            "days_left",
            "traced_at",
            "executed_at",
            "completed_at",
            "rejection_reason",
            "extension_months",
            "extension_reason",
            "extended_at",
            "open_obligations",
            "trace",
            "created_at",
        ]

    def get_days_left(self, obj) -> int:
        from django.utils import timezone

        return deadlines.days_left(obj.due_at, timezone.now())  # the days admin and the webhooks show

    def get_open_obligations(self, obj) -> int:
        return getattr(obj, "open_obligation_count", 0)


class ErasureRequestCreateSerializer(serializers.Serializer):
    from registry.api.common import ProjectField

    project = ProjectField()
    subject_id = serializers.JSONField(help_text="the raw subject id; pseudonymised on arrival, never stored")
    reference = serializers.CharField(max_length=200, help_text="your ticket reference (no personal identifiers)")
    received_at = SaneDateTimeField(required=False, help_text="default: now; due 30 days later")


class ErasureRejectSerializer(serializers.Serializer):
    reason = serializers.CharField()


class ErasureExtendSerializer(serializers.Serializer):
    months = serializers.IntegerField(min_value=1, max_value=2, help_text="further months, in all (1 or 2)")
    reason = serializers.CharField(max_length=2000, help_text="why the answer takes longer: the person is told")


class ErasureReportSerializer(serializers.Serializer):
    request = serializers.DictField()
    trace = serializers.DictField(allow_null=True)
    execution = serializers.DictField(allow_null=True)
    obligations = serializers.ListField(child=serializers.DictField())
    steps = serializers.ListField(child=serializers.DictField(), help_text="audit events, with their chain hashes")


class FairnessAuditInputSerializer(serializers.Serializer):
    from registry.api.common import ScopedPrimaryKeyRelatedField
    from registry.models import ModelVersion

    model_version = ScopedPrimaryKeyRelatedField(queryset=ModelVersion.objects.all())
    sensitive_features = serializers.ListField(
        child=serializers.CharField(max_length=100),
        allow_empty=False,
        help_text="attributes of `sensitive`; several make intersectional groups",
    )
    positive_label = serializers.JSONField(help_text="predictions and outcomes equal to this are positive")
    window_start = SaneDateTimeField(required=False)
    window_end = SaneDateTimeField(required=False)
    basis = serializers.ChoiceField(
        choices=Basis.choices,
        default="prediction",
        help_text="judge the model's predictions, or the final decisions (a reviewer's where a review overrode it)",
    )

    def validate_positive_label(self, value):
        if value is None or isinstance(value, (dict, list)):
            raise serializers.ValidationError("must be a string, number or boolean, as the predictions are")
        return value


class FairnessAuditSerializer(serializers.ModelSerializer):
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        from governance.models import FairnessAudit

        model = FairnessAudit
        fields = [
            "id",
            "project",
            "model_version",
            "sensitive_features",
            "positive_label",
            "basis",
            "window_start",
            "window_end",
            "row_count",
            "overall",
            "by_group",
            "small_groups",
            "disparities",
            "policy",
            "bootstrap",
            "passed",
            "failed_checks",
            "exploratory",
            "created_at",
        ]


class PolicySerializer(serializers.ModelSerializer):
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        from governance.models import Policy

        model = Policy
        fields = [
            "project",
            "min_demographic_parity_ratio",
            "max_equalized_odds_difference",
            "min_group_size",
            "max_psi",
            "max_performance_drop",
            "high_risk_needs_second_approver",
            "metric_floors",
            "required_sensitive_features",
            "min_audit_decisions",
            "max_audit_age_days",
            "protected_aliases",
            "reason_codes",
            "review_risk_tiers",
            "review_labels",
            "review_score_min",
            "review_score_max",
            "review_sample_rate",
            "review_four_eyes",
            "review_min_override_rate",
            "review_max_override_rate",
            "review_rate_min_reviews",
            "review_rate_window_days",
            "retention_min_months",
            "retention_max_months",
            "updated_at",
        ]
        read_only_fields = ["project", "updated_at"]


class DriftReportInputSerializer(serializers.Serializer):
    from registry.api.common import ScopedPrimaryKeyRelatedField
    from registry.models import ModelVersion

    model_version = ScopedPrimaryKeyRelatedField(queryset=ModelVersion.objects.all())
    window_start = SaneDateTimeField()
    window_end = SaneDateTimeField()


class DriftReportSerializer(serializers.ModelSerializer):
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        from governance.models import DriftReport

        model = DriftReport
        fields = [
            "id",
            "project",
            "model_version",
            "reference_data_version",
            "window_start",
            "window_end",
            "row_count",
            "features",
            "drifted",
            "drifted_features",
            "policy",
            "created_at",
        ]


class PerformanceReportInputSerializer(serializers.Serializer):
    from registry.api.common import ScopedPrimaryKeyRelatedField
    from registry.models import ModelVersion

    model_version = ScopedPrimaryKeyRelatedField(queryset=ModelVersion.objects.all())
    window_start = SaneDateTimeField()
    window_end = SaneDateTimeField()
    bucket = serializers.ChoiceField(choices=["day", "week", "month"], default="week")
    positive_label = serializers.JSONField(required=False, help_text="given, ROC AUC is computed from the scores")
    basis = serializers.ChoiceField(
        choices=Basis.choices,
        default="prediction",
        help_text="judge the model's predictions, or the final decisions (a reviewer's where a review overrode it)",
    )


class PerformanceReportSerializer(serializers.ModelSerializer):
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        from governance.models import PerformanceReport

        model = PerformanceReport
        fields = [
            "id",
            "project",
            "model_version",
            "window_start",
            "window_end",
            "bucket",
            "positive_label",
            "basis",
            "baseline_metric",
            "baseline_value",
            "overall",
            "windows",
            "degraded",
            "policy",
            "created_at",
        ]


class GateCheckSerializer(serializers.Serializer):
    check = serializers.CharField()
    passed = serializers.BooleanField()
    message = serializers.CharField()


class GateSerializer(serializers.Serializer):
    model_version = serializers.IntegerField()
    to_stage = serializers.CharField()
    allowed = serializers.BooleanField()
    checks = GateCheckSerializer(many=True)


class ApprovalInputSerializer(serializers.Serializer):
    to_stage = serializers.ChoiceField(choices=["production"], default="production")
    comment = serializers.CharField(help_text="what was reviewed")


class ApprovalSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(read_only=True)

    class Meta:
        from governance.models import ModelVersionApproval

        model = ModelVersionApproval
        fields = ["id", "model_version", "to_stage", "comment", "created_by", "created_at"]


class WebhookSerializer(serializers.ModelSerializer):
    from registry.api.common import ProjectField

    project = ProjectField()
    secret = serializers.CharField(
        write_only=True, required=False, help_text="signing secret; generated when left out, shown once"
    )
    events = serializers.ListField(
        child=serializers.CharField(max_length=100),
        allow_empty=False,
        help_text='alert types to send, or ["*"] for all',
    )

    class Meta:
        from governance.models import Webhook

        model = Webhook
        fields = ["id", "project", "url", "events", "secret", "active", "created_at"]
        read_only_fields = ["id", "active", "created_at"]


class WebhookDeliverySerializer(serializers.ModelSerializer):
    class Meta:
        from governance.models import WebhookDelivery

        model = WebhookDelivery
        fields = [
            "id",
            "webhook",
            "event_type",
            "payload",
            "status",
            "attempts",
            "last_status_code",
            "last_error",
            "next_attempt_at",
            "delivered_at",
            "created_at",
        ]


class ReviewSerializer(serializers.ModelSerializer):
    reviewer = serializers.CharField(read_only=True, help_text="the user, the key, or the other system's reviewer")

    class Meta:
        from governance.models import Review

        model = Review
        fields = ["id", "verdict", "final_decision", "reason", "reviewer", "source", "external_id", "reviewed_at"]


class ReviewDecisionSerializer(serializers.Serializer):
    """What the reviewer sees of the decision: what the model decided and on what."""

    id = serializers.IntegerField()
    model_version = serializers.IntegerField(source="model_version_id")
    deployment = serializers.IntegerField(source="deployment_id", allow_null=True)
    occurred_at = serializers.DateTimeField()
    prediction = serializers.JSONField()
    score = serializers.FloatField(allow_null=True)
    features = serializers.JSONField()
    outcome = serializers.JSONField(allow_null=True)
    erased = serializers.BooleanField(source="erased_at", help_text="an erased decision keeps no features")

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["erased"] = instance.erased_at is not None
        return data


class ReviewItemSerializer(serializers.ModelSerializer):
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    reviews = ReviewSerializer(many=True, read_only=True)
    decision = serializers.SerializerMethodField()

    class Meta:
        from governance.models import ReviewItem

        model = ReviewItem
        fields = [
            "id",
            "project",
            "model_version",
            "request_id",
            "decision_id",
            "decision_occurred_at",
            "reasons",
            "priority",
            "status",
            "final_decision",
            "entered_at",
            "closed_at",
            "decision",
            "reviews",
        ]

    @extend_schema_field(ReviewDecisionSerializer(allow_null=True))
    def get_decision(self, item):
        decisions = self.context.get("decisions")
        decision = decisions.get(item.decision_id) if decisions is not None else None
        return None if decision is None else ReviewDecisionSerializer(decision).data


class ReviewInputSerializer(serializers.Serializer):
    verdict = serializers.ChoiceField(
        choices=["confirmed", "overridden", "escalated", "override_agreed", "override_refused"],
        help_text="on an override waiting for four eyes: override_agreed or override_refused",
    )
    reason = serializers.CharField(max_length=2000, help_text="why: kept with the review")
    final_decision = serializers.JSONField(required=False, help_text="an override's final decision")


class ReviewImportItemSerializer(serializers.Serializer):
    model_version = serializers.IntegerField()
    request_id = serializers.CharField(max_length=200)
    verdict = serializers.ChoiceField(choices=["confirmed", "overridden", "escalated"])
    final_decision = serializers.JSONField(required=False)
    reason = serializers.CharField(max_length=2000)
    reviewer = serializers.CharField(max_length=200, help_text="who reviewed, in the other system")
    reviewed_at = serializers.DateTimeField()
    external_id = serializers.CharField(max_length=200, help_text="the review's id there: once per project")


class ReviewImportSerializer(serializers.Serializer):
    reviews = ReviewImportItemSerializer(many=True)


class ReviewImportResultSerializer(serializers.Serializer):
    accepted = serializers.IntegerField()
    duplicates = serializers.IntegerField()


class OverrideRateSerializer(serializers.Serializer):
    model_version = serializers.IntegerField()
    reviewed = serializers.IntegerField()
    overridden = serializers.IntegerField()
    override_rate = serializers.FloatField(allow_null=True)
    judgement = serializers.CharField(allow_null=True, help_text="low (automation bias?), high, or null")


class ReviewQueueSummarySerializer(serializers.Serializer):
    open = serializers.IntegerField()
    pending = serializers.IntegerField()
    waiting_second = serializers.IntegerField()
    escalated = serializers.IntegerField()
    oldest_entered_at = serializers.DateTimeField(allow_null=True)
    window_days = serializers.IntegerField()
    override_rates = OverrideRateSerializer(many=True)


class ContestSerializer(serializers.ModelSerializer):
    """A contest as the officer sees it: the decision it names, its clock and its outcome."""

    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    days_left = serializers.SerializerMethodField()
    review_status = serializers.CharField(source="review_item.status", read_only=True)

    class Meta:
        from governance.models import Contest

        model = Contest
        fields = [
            "id",
            "project",
            "reference",
            "statement",
            "model_version",
            "request_id",
            "decision_id",
            "decision_occurred_at",
            "review_item",
            "review_status",
            "status",
            "outcome",
            "final_decision",
            "received_at",
            "due_at",
            "days_left",
            "extension_months",
            "extension_reason",
            "extended_at",
            "decided_at",
            "created_at",
        ]

    def get_days_left(self, contest) -> int | None:
        if contest.status != "open":
            return None
        from django.utils import timezone

        return deadlines.days_left(contest.due_at, timezone.now())


class ContestCreateSerializer(serializers.Serializer):
    from registry.api.common import ProjectField, ScopedPrimaryKeyRelatedField
    from registry.models import ModelVersion

    project = ProjectField()
    reference = serializers.CharField(max_length=200, help_text="your ticket reference (no personal identifiers)")
    statement = serializers.CharField(required=False, default="", allow_blank=True, max_length=5000)
    model_version = ScopedPrimaryKeyRelatedField(queryset=ModelVersion.objects.all(), required=False)
    request_id = serializers.CharField(required=False, max_length=200)
    subject_id = serializers.JSONField(
        required=False, help_text="instead of the model version and request id: the raw subject id (never stored)"
    )
    occurred_at = SaneDateTimeField(required=False, help_text="with subject_id: when the decision was made")
    received_at = SaneDateTimeField(required=False, help_text="default: now; answered within a month")


class IncidentReportSerializer(serializers.ModelSerializer):
    class Meta:
        from governance.models import IncidentReport

        model = IncidentReport
        fields = ["id", "kind", "text", "sent_at", "recipient", "attachments", "created_at"]


class IncidentSerializer(serializers.ModelSerializer):
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    reports = IncidentReportSerializer(many=True, read_only=True)
    days_left = serializers.SerializerMethodField(help_text="to the report's deadline; null once reported")

    class Meta:
        from governance.models import Incident

        model = Incident
        fields = [
            "id",
            "project",
            "title",
            "description",
            "category",
            "aware_at",
            "due_at",
            "days_left",
            "status",
            "model_versions",
            "deployments",
            "affected_filter",
            "affected_count",
            "root_cause",
            "corrective_action",
            "reports",
            "warned_at",
            "closed_at",
            "created_at",
        ]

    def get_days_left(self, incident) -> int | None:
        if incident.status != "open":
            return None
        from django.utils import timezone

        return deadlines.days_left(incident.due_at, timezone.now())


class IncidentCreateSerializer(serializers.Serializer):
    from governance.models import Incident
    from registry.api.common import ProjectField, ScopedPrimaryKeyRelatedField
    from registry.models import Deployment, ModelVersion

    project = ProjectField()
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=20000)
    category = serializers.ChoiceField(choices=Incident.Category.choices)
    aware_at = SaneDateTimeField(help_text="when you became aware of it: the clock runs from then")
    model_versions = ScopedPrimaryKeyRelatedField(queryset=ModelVersion.objects.all(), many=True)
    deployments = ScopedPrimaryKeyRelatedField(queryset=Deployment.objects.all(), many=True, required=False)
    affected_after = SaneDateTimeField(required=False, help_text="the affected decisions: from")
    affected_before = SaneDateTimeField(required=False, help_text="the affected decisions: until")


class IncidentReportInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["initial", "complete"])
    text = serializers.CharField(max_length=100000)
    sent_at = SaneDateTimeField()
    recipient = serializers.CharField(max_length=300)
    attachments = serializers.JSONField(required=False, help_text='[{"name": "report.pdf", "sha256": "<64 hex>"}]')


class IncidentCloseSerializer(serializers.Serializer):
    root_cause = serializers.CharField(max_length=20000)
    corrective_action = serializers.CharField(max_length=20000)


class IncidentRollbackSerializer(serializers.Serializer):
    from registry.api.common import ScopedPrimaryKeyRelatedField
    from registry.models import ModelVersion

    model_version = ScopedPrimaryKeyRelatedField(
        queryset=ModelVersion.objects.all(), help_text="the version to go back to"
    )
    environment = serializers.CharField(max_length=100, default="production")
    reason = serializers.CharField(max_length=2000)


class AccessRequestSerializer(serializers.ModelSerializer):
    """A subject access request as the officer sees it: its clock and whether it was answered (never the key)."""

    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    days_left = serializers.SerializerMethodField(help_text="to the deadline; null once answered")

    class Meta:
        from governance.models import AccessRequest

        model = AccessRequest
        fields = [
            "id",
            "project",
            "reference",
            "received_at",
            "due_at",
            "days_left",
            "extension_months",
            "extension_reason",
            "status",
            "answered_at",
            "report_sha256",
            "created_at",
        ]

    def get_days_left(self, request) -> int | None:
        if request.status != "open":
            return None
        from django.utils import timezone

        return deadlines.days_left(request.due_at, timezone.now())


class AccessRequestCreateSerializer(serializers.Serializer):
    from registry.api.common import ProjectField

    project = ProjectField()
    subject_id = serializers.JSONField(help_text="the person's id as your systems know it: hashed, never stored")
    reference = serializers.CharField(max_length=200, help_text="your ticket reference (no personal identifiers)")
    received_at = SaneDateTimeField(required=False, help_text="default: now; answered within a month")


class AccessDecisionSerializer(serializers.Serializer):
    reference = serializers.CharField(help_text="model, version and request id: what the person quotes to contest")
    model = serializers.CharField()
    model_version = serializers.IntegerField()
    occurred_at = serializers.DateTimeField()
    prediction = serializers.JSONField()
    score = serializers.FloatField(allow_null=True)
    final_decision = serializers.JSONField(help_text="the reviewer's where a review overrode the model")
    review = serializers.CharField(allow_null=True)
    outcome = serializers.JSONField(allow_null=True)
    reasons = serializers.ListField(child=serializers.CharField(), help_text="the reason codes' sentences")
    main_factors = serializers.ListField(child=serializers.CharField(), help_text="the largest attributions, in words")
    explained_by = serializers.CharField(allow_null=True)


class AccessDecisionsSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    listed = serializers.IntegerField()
    items = AccessDecisionSerializer(many=True)


class AccessDataSerializer(serializers.Serializer):
    dataset = serializers.CharField()
    version = serializers.CharField()
    purpose = serializers.CharField()
    legal_basis = serializers.CharField()
    registered_at = serializers.DateTimeField()


class AccessOtherSerializer(serializers.Serializer):
    record = serializers.CharField()
    count = serializers.IntegerField(allow_null=True)


class AccessErasureSerializer(serializers.Serializer):
    reference = serializers.CharField()
    status = serializers.CharField()
    received_at = serializers.DateTimeField()
    executed_at = serializers.DateTimeField(allow_null=True)
    decisions_erased = serializers.IntegerField(allow_null=True)


class AccessReportSerializer(serializers.Serializer):
    generated_at = serializers.DateTimeField()
    project = serializers.CharField()
    decisions = AccessDecisionsSerializer()
    data = AccessDataSerializer(many=True)
    other = AccessOtherSerializer(many=True)
    erasures = AccessErasureSerializer(many=True)
    how_to_contest = serializers.CharField()
    retention = serializers.CharField()


class AccessAnswerSerializer(serializers.Serializer):
    request = AccessRequestSerializer()
    report = AccessReportSerializer()


class EvidencePackSerializer(serializers.ModelSerializer):
    """A generated technical documentation pack of a model version (`model_version`) or of a model across its
    versions (`model`): its sections with their cited statements, its sha256 (also in the audit trail), and what
    changed since the previous pack of the same subject."""

    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        from governance.models import EvidencePack

        model = EvidencePack
        fields = ["id", "project", "model_version", "model", "generated_at", "sha256", "previous", "changes", "content"]


class LegalHoldSerializer(serializers.ModelSerializer):
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    is_active = serializers.BooleanField(read_only=True)

    class Meta:
        from governance.models import LegalHold

        model = LegalHold
        fields = [
            "id",
            "project",
            "model_version",
            "reason",
            "placed_by",
            "created_at",
            "is_active",
            "released_at",
            "released_by",
            "release_reason",
        ]
        read_only_fields = fields


class LegalHoldCreateSerializer(serializers.Serializer):
    from registry.api.common import ProjectField, ScopedPrimaryKeyRelatedField
    from registry.models import ModelVersion

    project = ProjectField()
    model_version = ScopedPrimaryKeyRelatedField(
        queryset=ModelVersion.objects.all(), required=False, allow_null=True, help_text="none: the whole project"
    )
    reason = serializers.CharField(max_length=2000, help_text="the matter the hold is for")


class LegalHoldReleaseSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, help_text="why the hold no longer applies")


class SealedMonthSerializer(serializers.ModelSerializer):
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    month = serializers.DateField(format="%Y-%m")

    class Meta:
        from governance.models import SealedMonth

        model = SealedMonth
        fields = [
            "id",
            "project",
            "month",
            "decisions",
            "outcome_versions",
            "commitments_sha256",
            "audit_seq",
            "sealed_at",
        ]
        read_only_fields = fields
