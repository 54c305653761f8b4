"""LLMOps API shapes. Operations that are not CRUD have their own input and output serializers."""

from __future__ import annotations

from django.utils import timezone
from rest_framework import serializers

from llmops.models import (
    Budget,
    CallScore,
    EvaluationDataset,
    EvaluationItem,
    EvaluationResult,
    EvaluationRun,
    LLMCall,
    Price,
    PromptLabel,
    PromptLabelMove,
    PromptTemplate,
    PromptVersion,
    RetrievedDocument,
)
from llmops.services.budgets import budget_state
from registry.api.common import ProjectField
from registry.inputs import SaneDateTimeField


class PromptLabelSerializer(serializers.ModelSerializer):
    version = serializers.IntegerField(source="version.version", read_only=True)
    prompt_version = serializers.IntegerField(source="version_id", read_only=True)

    class Meta:
        model = PromptLabel
        fields = ["name", "version", "prompt_version", "updated_at"]


class PromptSerializer(serializers.ModelSerializer):
    project = ProjectField()
    labels = PromptLabelSerializer(many=True, read_only=True)
    latest_version = serializers.IntegerField(read_only=True, allow_null=True, help_text="the newest version number")

    class Meta:
        model = PromptTemplate
        fields = ["id", "project", "name", "description", "labels", "latest_version", "created_at", "created_by"]
        read_only_fields = ["created_at", "created_by"]
        validators = []  # uniqueness is the service's 409


class PromptVersionSerializer(serializers.ModelSerializer):
    prompt = serializers.IntegerField(source="template_id", read_only=True)
    prompt_name = serializers.CharField(source="template.name", read_only=True)
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    labels = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)

    class Meta:
        model = PromptVersion
        fields = [
            "id",
            "project",
            "prompt",
            "prompt_name",
            "version",
            "kind",
            "messages",
            "text",
            "variables",
            "model",
            "parameters",
            "content_sha256",
            "commit_message",
            "labels",
            "created_at",
            "created_by",
        ]
        read_only_fields = fields


class PromptVersionCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=PromptVersion.Kind.choices)
    messages = serializers.JSONField(required=False, help_text='chat prompts: [{"role", "content"}], {{variable}}')
    text = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    variables = serializers.ListField(child=serializers.CharField(), required=False)
    model = serializers.CharField(required=False, allow_blank=True, max_length=200)
    parameters = serializers.DictField(required=False)
    commit_message = serializers.CharField(required=False, allow_blank=True, max_length=500)
    labels = serializers.ListField(child=serializers.CharField(), required=False, help_text="labels to point here")


class LabelMoveSerializer(serializers.Serializer):
    label = serializers.CharField(max_length=64)
    version = serializers.IntegerField(help_text="the version number (1, 2, ...) of this prompt")


class LabelMoveHistorySerializer(serializers.ModelSerializer):
    from_version = serializers.IntegerField(source="from_version.version", allow_null=True, read_only=True)
    to_version = serializers.IntegerField(source="to_version.version", read_only=True)

    class Meta:
        model = PromptLabelMove
        fields = ["name", "from_version", "to_version", "moved_at", "moved_by"]


class RenderSerializer(serializers.Serializer):
    variables = serializers.DictField(help_text="every declared variable, and no other")


class RenderedSerializer(serializers.Serializer):
    prompt_version = serializers.IntegerField()
    model = serializers.CharField()
    parameters = serializers.DictField()
    messages = serializers.ListField(child=serializers.DictField(), required=False)
    text = serializers.CharField(required=False)


class DiffSerializer(serializers.Serializer):
    to = serializers.IntegerField()
    identical = serializers.BooleanField()
    changes = serializers.DictField()
    unified = serializers.CharField()

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.IntegerField()
        return fields


class RetrievedDocumentSerializer(serializers.ModelSerializer):
    class Meta:
        model = RetrievedDocument
        fields = ["id", "document_id", "source", "chunk_sha256", "score", "rank", "data_version", "erased_at"]


class LLMCallSerializer(serializers.ModelSerializer):
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    usage = serializers.SerializerMethodField()
    documents = RetrievedDocumentSerializer(many=True, read_only=True)
    subject_linked = serializers.SerializerMethodField()

    class Meta:
        model = LLMCall
        fields = [
            "id",
            "project",
            "client_call_id",
            "prompt_version",
            "provider",
            "model",
            "input",
            "output",
            "usage",
            "token_source",
            "latency_ms",
            "status",
            "error",
            "subject_linked",
            "tags",
            "trace_id",
            "span_id",
            "occurred_at",
            "cost",
            "cost_status",
            "price",
            "erased_at",
            "documents",
            "created_at",
        ]
        read_only_fields = fields

    def get_usage(self, obj) -> dict:
        return {
            "input_uncached": obj.input_uncached,
            "input_cache_read": obj.input_cache_read,
            "input_cache_write": obj.input_cache_write,
            "output": obj.output_tokens,
            "output_reasoning": obj.output_reasoning,
            "total": obj.total_tokens,
        }

    def get_subject_linked(self, obj) -> bool:
        return obj.subject_key is not None


class CallInSerializer(serializers.Serializer):
    """One call of a bulk request (documentation: the service validates the batch itself)."""

    client_call_id = serializers.CharField(help_text="idempotency key, unique per project")
    prompt_version = serializers.IntegerField(required=False)
    prompt = serializers.DictField(required=False, help_text='{"name", "label"}: resolved at the call\'s time')
    provider = serializers.CharField()
    model = serializers.CharField()
    input = serializers.JSONField(required=False, help_text="a text, or chat messages")
    output = serializers.CharField(required=False, allow_blank=True)
    usage = serializers.DictField(
        required=False, help_text="OpenAI, Anthropic, gen_ai.usage.* or canonical; counted with tiktoken when absent"
    )
    usage_format = serializers.ChoiceField(
        choices=["canonical", "openai", "openai_responses", "anthropic", "otel"], required=False
    )
    latency_ms = serializers.FloatField(required=False)
    status = serializers.ChoiceField(choices=LLMCall.Status.choices, required=False)
    error = serializers.CharField(required=False, allow_blank=True)
    subject_id = serializers.CharField(required=False, help_text="pseudonymised on arrival, never stored")
    tags = serializers.ListField(child=serializers.CharField(), required=False)
    trace_id = serializers.CharField(required=False)
    span_id = serializers.CharField(required=False)
    occurred_at = SaneDateTimeField()
    retrieved_documents = serializers.ListField(child=serializers.DictField(), required=False)


class CallBulkSerializer(serializers.Serializer):
    project = serializers.CharField(required=False, help_text="project slug; defaults to the key's project")
    calls = CallInSerializer(many=True, help_text="at most 5,000")


class CallBulkResultSerializer(serializers.Serializer):
    accepted = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    unpriced = serializers.IntegerField(help_text="accepted calls whose model has no price at their time")
    counted = serializers.IntegerField(help_text="accepted calls whose tokens the service counted")
    cost = serializers.DecimalField(max_digits=24, decimal_places=12)
    subjects_stripped = serializers.IntegerField(required=False)


class PriceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Price
        fields = [
            "id",
            "provider",
            "model",
            "model_pattern",
            "effective_from",
            "currency",
            "input_uncached",
            "input_cache_read",
            "input_cache_write",
            "output",
            "output_reasoning",
            "source",
            "source_date",
            "created_at",
        ]
        read_only_fields = ["id", "currency", "created_at"]
        validators = []


class CostRowSerializer(serializers.Serializer):
    key = serializers.CharField(allow_null=True, help_text="the group: model, prompt version, tag, day or subject key")
    label = serializers.CharField(allow_null=True)
    calls = serializers.IntegerField()
    unpriced = serializers.IntegerField()
    input_uncached = serializers.IntegerField()
    input_cache_read = serializers.IntegerField()
    input_cache_write = serializers.IntegerField()
    output = serializers.IntegerField()
    output_reasoning = serializers.IntegerField()
    total_tokens = serializers.IntegerField()
    cost = serializers.DecimalField(max_digits=24, decimal_places=12)


class CostReportSerializer(serializers.Serializer):
    group_by = serializers.CharField()
    start = SaneDateTimeField(allow_null=True)
    end = SaneDateTimeField(allow_null=True)
    rows = CostRowSerializer(many=True)
    totals = CostRowSerializer()
    unpriced_models = serializers.ListField(child=serializers.DictField())


class BudgetSerializer(serializers.ModelSerializer):
    project = ProjectField()
    state = serializers.SerializerMethodField()

    class Meta:
        model = Budget
        fields = [
            "id",
            "project",
            "name",
            "scope",
            "scope_value",
            "period",
            "limit",
            "thresholds",
            "state",
            "created_at",
            "created_by",
        ]
        read_only_fields = ["created_at", "created_by"]
        validators = []

    def get_state(self, obj) -> dict:
        states = self.context.get("budget_states") or {}
        state = states.get(obj.pk) or budget_state(obj, timezone.now())
        return {
            "period_start": state.period_start.isoformat(),
            "spent": str(state.spent),
            "share": str(state.share),
            "state": state.state,
            "unpriced_calls": state.unpriced_calls,
        }


class EvaluationItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = EvaluationItem
        fields = ["id", "position", "variables", "expected", "context"]
        read_only_fields = ["id", "position"]


class EvaluationDatasetSerializer(serializers.ModelSerializer):
    project = ProjectField()
    items = EvaluationItemSerializer(many=True)

    class Meta:
        model = EvaluationDataset
        fields = ["id", "project", "name", "description", "items", "created_at", "created_by"]
        read_only_fields = ["created_at", "created_by"]
        validators = []


class EvaluatorSpecSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    kind = serializers.CharField()
    config = serializers.DictField(required=False)


class EvaluationRunCreateSerializer(serializers.Serializer):
    prompt_version = serializers.IntegerField()
    dataset = serializers.IntegerField()
    evaluators = EvaluatorSpecSerializer(many=True)
    model = serializers.CharField(required=False, help_text="defaults to the prompt version's model")


class EvaluationResultSerializer(serializers.ModelSerializer):
    position = serializers.IntegerField(source="item.position", read_only=True)

    class Meta:
        model = EvaluationResult
        fields = ["item", "position", "output", "scores", "latency_ms", "input_tokens", "output_tokens", "error"]


class EvaluationRunSerializer(serializers.ModelSerializer):
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    results = EvaluationResultSerializer(many=True, read_only=True)

    class Meta:
        model = EvaluationRun
        fields = [
            "id",
            "project",
            "prompt_version",
            "dataset",
            "provider",
            "model",
            "evaluators",
            "status",
            "aggregates",
            "error",
            "results",
            "created_at",
            "created_by",
        ]
        read_only_fields = fields


class ComparisonSerializer(serializers.Serializer):
    a = serializers.IntegerField()
    b = serializers.IntegerField()
    evaluators = serializers.DictField(help_text="per evaluator: wins, losses, ties, mean_a, mean_b, mean_delta")
    items = serializers.ListField(child=serializers.DictField())


class CallScoreInSerializer(serializers.Serializer):
    calls = serializers.ListField(child=serializers.IntegerField(), max_length=1000)
    evaluators = EvaluatorSpecSerializer(many=True)


class CallScoreSerializer(serializers.ModelSerializer):
    class Meta:
        model = CallScore
        fields = ["call", "evaluator", "kind", "value", "passed", "detail", "scored_at"]
