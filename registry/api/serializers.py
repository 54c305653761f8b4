"""Input and output shapes of the registry API."""

from __future__ import annotations

import re

from rest_framework import serializers

from registry.api.common import ProjectField, ScopedPrimaryKeyRelatedField
from registry.inputs import SaneDateTimeField
from registry.models import (
    Dataset,
    DataVersion,
    Deployment,
    Model,
    ModelVersion,
    Project,
    Run,
    RunInput,
    Stage,
    StageTransition,
)

SHA256 = re.compile(r"^[0-9a-f]{64}$")


class Sha256Field(serializers.CharField):
    """A SHA-256 in hex; stored lowercase."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data).lower()
        if not SHA256.match(value):
            raise serializers.ValidationError("must be 64 hexadecimal characters (a SHA-256)")
        return value


class CreatedFields(serializers.ModelSerializer):
    created_by = serializers.CharField(read_only=True)


class ProjectSerializer(CreatedFields):
    class Meta:
        model = Project
        fields = ["id", "slug", "name", "created_at", "created_by"]
        read_only_fields = ["id", "created_at"]


class DatasetSerializer(CreatedFields):
    project = ProjectField()

    class Meta:
        model = Dataset
        fields = [
            "id",
            "project",
            "name",
            "description",
            "contains_personal_data",
            "legal_basis",
            "created_at",
            "created_by",
        ]
        read_only_fields = ["id", "created_at"]
        extra_kwargs = {"contains_personal_data": {"required": True}}
        validators = []  # uniqueness is the service's, with a 409


class DataVersionSerializer(CreatedFields):
    dataset = ScopedPrimaryKeyRelatedField(queryset=Dataset.objects.all())
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    parents = ScopedPrimaryKeyRelatedField(queryset=DataVersion.objects.all(), many=True, required=False)
    transformation = serializers.CharField(required=False, allow_blank=True, write_only=True)
    subject_count = serializers.SerializerMethodField()
    content_sha256 = Sha256Field()
    schema = serializers.JSONField()
    profile = serializers.JSONField(required=False, allow_null=True)

    class Meta:
        model = DataVersion
        fields = [
            "id",
            "project",
            "dataset",
            "version",
            "content_sha256",
            "row_count",
            "schema",
            "profile",
            "storage_uri",
            "parents",
            "transformation",
            "status",
            "subject_count",
            "created_at",
            "created_by",
        ]
        read_only_fields = ["id", "status", "created_at"]
        extra_kwargs = {"row_count": {"required": True, "allow_null": False}}
        validators = []

    def get_subject_count(self, obj: DataVersion) -> int | None:
        return getattr(obj, "subject_count", None)

    def validate_row_count(self, value: int) -> int:
        if value < 0:
            raise serializers.ValidationError("must not be negative")
        return value

    def validate_schema(self, value):
        if not isinstance(value, (dict, list)) or not value:
            raise serializers.ValidationError("must be a non-empty object (column -> dtype) or list of columns")
        return value

    def validate_profile(self, value):
        if value is not None and not isinstance(value, dict):
            raise serializers.ValidationError("must be an object (column -> statistics)")
        return value


class RawListField(serializers.ListField):
    """A list whose items the service validates (with per-item errors), not DRF one field at a time."""

    def to_internal_value(self, data):
        if not isinstance(data, list):
            self.fail("not_a_list", input_type=type(data).__name__)
        if not data:
            self.fail("empty")
        return data


class SubjectIdsSerializer(serializers.Serializer):
    subject_ids = RawListField(
        child=serializers.CharField(), help_text="raw subject ids (strings or integers); pseudonymised on arrival"
    )


class SubjectIndexResultSerializer(serializers.Serializer):
    indexed = serializers.IntegerField(help_text="subjects newly added to the index")
    duplicates = serializers.IntegerField(help_text="subjects already indexed (or repeated in the request)")


class RunInputSerializer(serializers.ModelSerializer):
    data_version = ScopedPrimaryKeyRelatedField(queryset=DataVersion.objects.all())

    class Meta:
        model = RunInput
        fields = ["data_version", "role"]


class RunSerializer(CreatedFields):
    project = ProjectField()
    inputs = RunInputSerializer(many=True, source="input_links", required=False)
    params = serializers.JSONField(required=False)
    metrics = serializers.JSONField(required=False)
    environment = serializers.JSONField(required=False)
    experiment = serializers.CharField(source="experiment.name", read_only=True, default=None, allow_null=True)
    tags = serializers.JSONField(read_only=True)

    class Meta:
        model = Run
        fields = [
            "id",
            "project",
            "name",
            "params",
            "metrics",
            "inputs",
            "git_commit",
            "git_branch",
            "git_dirty",
            "notebook_path",
            "environment",
            "status",
            "source",
            "experiment",
            "run_uuid",
            "tags",
            "user_name",
            "started_at",
            "ended_at",
            "created_at",
            "created_by",
        ]
        read_only_fields = ["id", "run_uuid", "user_name", "started_at", "ended_at", "created_at"]

    def _object(self, value, name: str) -> dict:
        if value is not None and not isinstance(value, dict):
            raise serializers.ValidationError("must be an object")
        return value or {}

    def validate_params(self, value):
        return self._object(value, "params")

    def validate_environment(self, value):
        return self._object(value, "environment")

    def validate_metrics(self, value):
        value = self._object(value, "metrics")
        for name, metric in value.items():
            ok = isinstance(metric, (int, float)) and not isinstance(metric, bool)
            series = isinstance(metric, list) and all(
                isinstance(p, (int, float)) and not isinstance(p, bool) for p in metric
            )
            if not (ok or series):
                raise serializers.ValidationError(f"{name}: must be a number or a list of numbers (a step series)")
        return value


class ModelSerializer(CreatedFields):
    project = ProjectField()

    class Meta:
        model = Model
        fields = ["id", "project", "name", "description", "risk_tier", "created_at", "created_by"]
        read_only_fields = ["id", "created_at"]
        validators = []


class ModelVersionSerializer(CreatedFields):
    model = ScopedPrimaryKeyRelatedField(queryset=Model.objects.all())
    run = ScopedPrimaryKeyRelatedField(queryset=Run.objects.all())
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    artifact_sha256 = Sha256Field()
    metrics = serializers.JSONField(required=False)
    signature = serializers.JSONField(required=False)
    risk_tier = serializers.CharField(source="model.risk_tier", read_only=True, help_text="the model's risk tier")

    class Meta:
        model = ModelVersion
        fields = [
            "id",
            "project",
            "model",
            "version",
            "run",
            "artifact_uri",
            "artifact_sha256",
            "framework",
            "metrics",
            "signature",
            "intended_use",
            "limitations",
            "risk_tier",
            "stage",
            "created_at",
            "created_by",
        ]
        read_only_fields = ["id", "version", "stage", "created_at"]


class ModelCardInputSerializer(serializers.Serializer):
    """The model card fields of a version, each optional; any other field is refused by name."""

    intended_use = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    limitations = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    risk_tier = serializers.ChoiceField(
        choices=Model.RiskTier.choices, required=False, help_text="the model's: it changes for every version"
    )

    def validate(self, attrs):
        others = sorted(set(self.initial_data) - set(self.fields)) if isinstance(self.initial_data, dict) else []
        if others:
            raise serializers.ValidationError(
                {name: ["is not a model card field (intended_use, limitations, risk_tier)"] for name in others}
            )
        return attrs


class TransitionInputSerializer(serializers.Serializer):
    to_stage = serializers.ChoiceField(choices=Stage.choices)
    reason = serializers.CharField()


class StageTransitionSerializer(CreatedFields):
    class Meta:
        model = StageTransition
        fields = ["id", "model_version", "from_stage", "to_stage", "reason", "checks", "created_at", "created_by"]


class DeploymentSerializer(CreatedFields):
    model_version = ScopedPrimaryKeyRelatedField(queryset=ModelVersion.objects.all())
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = Deployment
        fields = [
            "id",
            "project",
            "model_version",
            "environment",
            "strategy",
            "traffic_percent",
            "started_at",
            "ended_at",
            "created_at",
            "created_by",
        ]
        read_only_fields = ["id", "created_at"]
        extra_kwargs = {"traffic_percent": {"required": False}, "started_at": {"required": False}}
        validators = []


class DeploymentEndSerializer(serializers.Serializer):
    ended_at = SaneDateTimeField(required=False)


class LiveVersionSerializer(serializers.Serializer):
    model_version = serializers.IntegerField()
    version = serializers.IntegerField()
    deployment = serializers.IntegerField()
    environment = serializers.CharField()
    strategy = serializers.CharField()
    traffic_percent = serializers.DecimalField(max_digits=5, decimal_places=2)
    started_at = SaneDateTimeField()
    ended_at = SaneDateTimeField(allow_null=True)


class LiveSerializer(serializers.Serializer):
    model = serializers.IntegerField()
    at = SaneDateTimeField()
    live = LiveVersionSerializer(many=True)


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        from registry.models import AuditEvent

        model = AuditEvent
        fields = [
            "seq",
            "occurred_at",
            "actor_name",
            "actor_user_id",
            "actor_key_id",
            "event_type",
            "project_id",
            "target_type",
            "target_id",
            "target_repr",
            "before",
            "after",
            "request_id",
            "prev_hash",
            "hash",
        ]


class ChainVerificationSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    length = serializers.IntegerField(required=False, help_text="events that verified (superusers only)")
    head = serializers.CharField(required=False, help_text="hash of the last event that verified (superusers only)")
    project_events = serializers.IntegerField(
        required=False, help_text="events of the caller's projects (project auditors)"
    )
    broken_seq = serializers.IntegerField(required=False, help_text="the first seq where the chain does not hold")
    reason = serializers.CharField(required=False)
    records_checked = serializers.DictField(
        child=serializers.IntegerField(), help_text="content-hashed records checked, by kind"
    )
    bad_records = serializers.ListField(
        child=serializers.DictField(), help_text="{record, id, reason} of each record that differs from its event"
    )
