"""LLMOps records: prompt templates and immutable versions, movable labels, LLM calls with their
token usage and cost, retrieved documents (RAG), the price catalog, budgets and evaluations."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models

from registry.models import ApiKey, Created, DataVersion, Project
from registry.tones import Tone, declare_tones

# The canonical usage categories: every provider's usage object maps onto these without overlap.
USAGE_CATEGORIES = ("input_uncached", "input_cache_read", "input_cache_write", "output", "output_reasoning")
PER_TOKENS = Decimal(1_000_000)  # prices are quoted per million tokens


class PromptTemplate(Created):
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="prompts")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["project_id", "name"]
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="prompt_unique_name")]

    def __str__(self) -> str:
        return self.name


class PromptVersion(Created):
    """Immutable once saved: a change is a new version (the database refuses updates on PostgreSQL)."""

    class Kind(models.TextChoices):
        CHAT = "chat", "Chat messages"
        TEXT = "text", "Text"

    template = models.ForeignKey(PromptTemplate, on_delete=models.PROTECT, related_name="versions")
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField()
    kind = models.CharField(max_length=8, choices=Kind.choices)
    messages = models.JSONField(default=list, blank=True)
    text = models.TextField(blank=True)
    variables = models.JSONField(default=list, blank=True)
    model = models.CharField(max_length=200, blank=True)
    parameters = models.JSONField(default=dict, blank=True)
    content_sha256 = models.CharField(max_length=64)
    commit_message = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["template_id", "-version"]
        constraints = [models.UniqueConstraint(fields=["template", "version"], name="prompt_version_unique")]

    def __str__(self) -> str:
        return f"{self.template.name} v{self.version}" if self.template_id else f"v{self.version}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValidationError("prompt versions are immutable: register a new version instead")
        super().save(*args, **kwargs)


class PromptLabel(models.Model):
    """A movable name (production, staging, ...) pointing at one version; every move is audited."""

    template = models.ForeignKey(PromptTemplate, on_delete=models.CASCADE, related_name="labels")
    name = models.CharField(max_length=64)
    version = models.ForeignKey(PromptVersion, on_delete=models.PROTECT, related_name="labels")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["template_id", "name"]
        constraints = [models.UniqueConstraint(fields=["template", "name"], name="prompt_label_unique")]

    def __str__(self) -> str:
        return f"{self.name} -> v{self.version.version}"


class PromptLabelMove(models.Model):
    """The history of a label: which version it pointed at from when. Calls that name a label are
    resolved against this history at their own time."""

    template = models.ForeignKey(PromptTemplate, on_delete=models.CASCADE, related_name="label_moves")
    name = models.CharField(max_length=64)
    from_version = models.ForeignKey(PromptVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    to_version = models.ForeignKey(PromptVersion, on_delete=models.PROTECT, related_name="+")
    moved_at = models.DateTimeField()
    moved_by = models.CharField(max_length=200)

    class Meta:
        ordering = ["template_id", "name", "-moved_at", "-id"]
        indexes = [models.Index(fields=["template", "name", "moved_at"], name="labelmove_lookup")]


class Price(Created):
    """What one million tokens of each usage category cost for a model, from `effective_from` on."""

    provider = models.CharField(max_length=64)
    model = models.CharField(max_length=200, blank=True, help_text="exact model name")
    model_pattern = models.CharField(
        max_length=200, blank=True, help_text="fnmatch pattern (e.g. gpt-4o-mini-*), used when no exact name matches"
    )
    effective_from = models.DateTimeField()
    currency = models.CharField(max_length=3, default="USD")
    input_uncached = models.DecimalField(max_digits=14, decimal_places=6)
    input_cache_read = models.DecimalField(max_digits=14, decimal_places=6, null=True, blank=True)
    input_cache_write = models.DecimalField(max_digits=14, decimal_places=6, null=True, blank=True)
    output = models.DecimalField(max_digits=14, decimal_places=6)
    output_reasoning = models.DecimalField(max_digits=14, decimal_places=6, null=True, blank=True)
    source = models.CharField(max_length=500)
    source_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["provider", "model", "model_pattern", "-effective_from"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(model="") & ~models.Q(model_pattern=""))
                | (~models.Q(model="") & models.Q(model_pattern="")),
                name="price_model_xor_pattern",
            ),
            models.UniqueConstraint(
                fields=["provider", "model", "model_pattern", "effective_from"], name="price_unique_from"
            ),
        ]
        indexes = [models.Index(fields=["provider", "model", "effective_from"], name="price_lookup")]

    def __str__(self) -> str:
        return f"{self.provider}/{self.model or self.model_pattern} from {self.effective_from:%Y-%m-%d}"

    def per_million(self, category: str) -> Decimal:
        """The price of a category, with the usual defaults: cache reads and writes at the input price,
        reasoning at the output price, when the catalog gives none."""
        value = getattr(self, category)
        if value is not None:
            return value
        return self.output if category == "output_reasoning" else self.input_uncached


class LLMCall(models.Model):
    """One recorded LLM call. Append-only but for repricing and an erasure's redaction."""

    class Status(models.TextChoices):
        OK = "ok", "OK"
        ERROR = "error", "Error"

    class CostStatus(models.TextChoices):
        PRICED = "priced", "Priced"
        UNPRICED = "unpriced", "Unpriced (no price for this model at this time)"

    id = models.BigAutoField(primary_key=True)
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="+", db_index=False)
    client_call_id = models.CharField(max_length=200)
    prompt_version = models.ForeignKey(
        PromptVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="calls", db_index=False
    )
    provider = models.CharField(max_length=64)
    model = models.CharField(max_length=200)
    input = models.JSONField(null=True, blank=True)
    output = models.TextField(blank=True)
    input_uncached = models.PositiveIntegerField(default=0)
    input_cache_read = models.PositiveIntegerField(default=0)
    input_cache_write = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    output_reasoning = models.PositiveIntegerField(default=0)
    token_source = models.CharField(max_length=100)
    latency_ms = models.FloatField(null=True, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OK)
    error = models.TextField(blank=True)
    subject_key = models.CharField(max_length=64, null=True, blank=True)
    subject_key_id = models.CharField(max_length=16, blank=True)
    tags = models.JSONField(default=list, blank=True)
    trace_id = models.CharField(max_length=64, blank=True)
    span_id = models.CharField(max_length=32, blank=True)
    occurred_at = models.DateTimeField()
    # tokens x (price per million, 6 places) / 10**6 has at most 12 places: stored exactly
    cost = models.DecimalField(max_digits=24, decimal_places=12, null=True, blank=True)
    cost_status = models.CharField(max_length=8, choices=CostStatus.choices)
    price = models.ForeignKey(Price, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    erased_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    created_by_key = models.ForeignKey(
        ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    # A call recorded from an OpenTelemetry LLM span (llmops.services.traces) keeps the span's place in its trace
    # here, for the trace waterfall, instead of a second row in TraceSpan: null for calls from calls/bulk/.
    span_parent_id = models.CharField(max_length=16, null=True, blank=True)
    span_name = models.CharField(max_length=200, null=True, blank=True)
    span_category = models.CharField(max_length=16, null=True, blank=True)
    span_kind = models.PositiveSmallIntegerField(null=True, blank=True)
    span_service_name = models.CharField(max_length=200, null=True, blank=True)
    span_scope_name = models.CharField(max_length=200, null=True, blank=True)
    span_start_time_unix_nano = models.BigIntegerField(null=True, blank=True)
    span_end_time_unix_nano = models.BigIntegerField(null=True, blank=True)
    span_status = models.CharField(max_length=8, null=True, blank=True)
    span_attributes = models.JSONField(null=True, blank=True, help_text="a small subset: names, model, token counts")

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = "LLM call"
        constraints = [
            models.UniqueConstraint(fields=["project", "client_call_id"], name="llmcall_unique_client_id"),
            # a span is written once per (project, trace, span), also after an erasure renamed the client id
            models.UniqueConstraint(
                fields=["project", "trace_id", "span_id"],
                condition=models.Q(span_start_time_unix_nano__isnull=False),
                name="llmcall_unique_span",
            ),
        ]
        indexes = [
            models.Index(fields=["project", "occurred_at"], name="llmcall_project_time"),
            models.Index(fields=["prompt_version", "occurred_at"], name="llmcall_prompt_time"),
            models.Index(fields=["subject_key"], name="llmcall_subject", condition=models.Q(subject_key__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"call {self.client_call_id} ({self.model})"

    @property
    def input_tokens(self) -> int:
        return self.input_uncached + self.input_cache_read + self.input_cache_write

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens + self.output_reasoning


declare_tones(LLMCall.Status, {LLMCall.Status.OK: Tone.SUCCESS, LLMCall.Status.ERROR: Tone.DANGER})


class RetrievedDocument(models.Model):
    """A chunk given to the model as RAG context for one call; the text itself is not stored."""

    id = models.BigAutoField(primary_key=True)
    call = models.ForeignKey(LLMCall, on_delete=models.CASCADE, related_name="documents")
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="+", db_index=False)
    document_id = models.CharField(max_length=300)
    source = models.CharField(max_length=500, blank=True)
    chunk_sha256 = models.CharField(max_length=64, blank=True)
    score = models.FloatField(null=True, blank=True)
    rank = models.PositiveIntegerField(null=True, blank=True)
    data_version = models.ForeignKey(
        DataVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="retrievals"
    )
    subject_key = models.CharField(max_length=64, null=True, blank=True, help_text="the person the document is about")
    erased_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["call_id", "rank", "id"]
        indexes = [
            models.Index(
                fields=["subject_key"], name="retrieveddoc_subject", condition=models.Q(subject_key__isnull=False)
            )
        ]

    def __str__(self) -> str:
        return f"{self.document_id} (rank {self.rank})"


class Budget(Created):
    class Scope(models.TextChoices):
        PROJECT = "project", "Whole project"
        TAG = "tag", "One tag"
        MODEL = "model", "One model"

    class Period(models.TextChoices):
        DAILY = "daily", "Daily"
        MONTHLY = "monthly", "Monthly"

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="llm_budgets")
    name = models.CharField(max_length=200)
    scope = models.CharField(max_length=8, choices=Scope.choices, default=Scope.PROJECT)
    scope_value = models.CharField(max_length=200, blank=True, help_text="the tag or model name")
    period = models.CharField(max_length=8, choices=Period.choices, default=Period.MONTHLY)
    limit = models.DecimalField(max_digits=14, decimal_places=2, help_text="USD per period")
    thresholds = models.JSONField(default=list, help_text="shares of the limit that raise an alert, e.g. [0.5, 0.8, 1]")

    class Meta:
        ordering = ["project_id", "name"]
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="budget_unique_name")]

    def __str__(self) -> str:
        return self.name


class BudgetAlert(models.Model):
    """A threshold crossed in one period: recorded once, so an alert fires once per period."""

    budget = models.ForeignKey(Budget, on_delete=models.CASCADE, related_name="alerts")
    period_start = models.DateField()
    threshold = models.DecimalField(max_digits=6, decimal_places=4)
    spent = models.DecimalField(max_digits=24, decimal_places=12)
    raised_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-raised_at"]
        constraints = [
            models.UniqueConstraint(fields=["budget", "period_start", "threshold"], name="budget_alert_once"),
        ]


class EvaluationDataset(Created):
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="evaluation_datasets")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["project_id", "name"]
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="evaldataset_unique_name")]

    def __str__(self) -> str:
        return self.name


class EvaluationItem(models.Model):
    dataset = models.ForeignKey(EvaluationDataset, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveIntegerField()
    variables = models.JSONField(default=dict)
    expected = models.TextField(blank=True)
    context = models.JSONField(default=list, blank=True, help_text="retrieved passages the output should rest on")

    class Meta:
        ordering = ["dataset_id", "position"]
        constraints = [models.UniqueConstraint(fields=["dataset", "position"], name="evalitem_unique_position")]


class EvaluationRun(Created):
    class Status(models.TextChoices):
        FINISHED = "finished", "Finished"
        FAILED = "failed", "Failed"

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="evaluation_runs")
    prompt_version = models.ForeignKey(PromptVersion, on_delete=models.PROTECT, related_name="evaluation_runs")
    dataset = models.ForeignKey(EvaluationDataset, on_delete=models.PROTECT, related_name="runs")
    provider = models.CharField(max_length=64)
    model = models.CharField(max_length=200)
    evaluators = models.JSONField(help_text='[{"name", "kind", "config"}]')
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.FINISHED)
    aggregates = models.JSONField(default=dict, help_text="per evaluator: mean value, pass rate, count")
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"eval #{self.pk} of {self.prompt_version}"


declare_tones(
    EvaluationRun.Status, {EvaluationRun.Status.FINISHED: Tone.SUCCESS, EvaluationRun.Status.FAILED: Tone.DANGER}
)


class EvaluationResult(models.Model):
    run = models.ForeignKey(EvaluationRun, on_delete=models.CASCADE, related_name="results")
    item = models.ForeignKey(EvaluationItem, on_delete=models.PROTECT, related_name="+")
    output = models.TextField(blank=True)
    scores = models.JSONField(default=dict, help_text="evaluator name -> {value, passed, detail}")
    latency_ms = models.FloatField(null=True, blank=True)
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["run_id", "item__position"]
        constraints = [models.UniqueConstraint(fields=["run", "item"], name="evalresult_unique_item")]


class CallScore(models.Model):
    """An evaluator's score of a recorded call."""

    call = models.ForeignKey(LLMCall, on_delete=models.CASCADE, related_name="scores")
    evaluator = models.CharField(max_length=100)
    kind = models.CharField(max_length=32)
    value = models.FloatField()
    passed = models.BooleanField()
    detail = models.JSONField(default=dict, blank=True)
    scored_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["call_id", "evaluator"]


class TraceSpan(models.Model):
    """One span of an OpenTelemetry trace that is not an LLM call, kept compactly so a call's trace can be drawn:
    its place in the tree, its times, its status and a few attributes (names, model, token counts: never message
    content or the end user's id). An LLM span is its LLMCall row (the span_* fields), not a row here; a trace is
    both (llmops.selectors.trace_of_call). Written once per (project, trace, span): a re-sent export adds
    nothing."""

    class Category(models.TextChoices):
        LLM = "llm", "LLM call"
        EMBEDDING = "embedding", "Embedding"
        RETRIEVAL = "retrieval", "Retrieval"
        PROMPT = "prompt", "Prompt template"
        TOOL = "tool", "Tool"
        AGENT = "agent", "Agent"
        WORKFLOW = "workflow", "Workflow"
        TASK = "task", "Task"
        CHAIN = "chain", "Chain"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        UNSET = "unset", "Unset"
        OK = "ok", "OK"
        ERROR = "error", "Error"

    id = models.BigAutoField(primary_key=True)
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="+", db_index=False)
    trace_id = models.CharField(max_length=32)
    span_id = models.CharField(max_length=16)
    parent_span_id = models.CharField(max_length=16, blank=True)
    name = models.CharField(max_length=200)
    category = models.CharField(max_length=16, choices=Category.choices, default=Category.OTHER)
    kind = models.PositiveSmallIntegerField(default=0, help_text="OTLP span kind: 1 internal, 2 server, 3 client")
    service_name = models.CharField(max_length=200, blank=True)
    scope_name = models.CharField(max_length=200, blank=True)
    start_time_unix_nano = models.BigIntegerField()
    end_time_unix_nano = models.BigIntegerField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.UNSET)
    status_message = models.CharField(max_length=500, blank=True)
    attributes = models.JSONField(default=dict, blank=True, help_text="a small subset: names, model, token counts")
    created_at = models.DateTimeField()
    created_by_key = models.ForeignKey(
        ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )

    class Meta:
        ordering = ["project_id", "trace_id", "start_time_unix_nano", "id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "trace_id", "span_id"], name="tracespan_unique_span"),
        ]
        indexes = [models.Index(fields=["project", "created_at"], name="tracespan_project_time")]

    def __str__(self) -> str:
        return f"{self.name} ({self.span_id})"

    @property
    def duration_ms(self) -> float:
        return max(0, self.end_time_unix_nano - self.start_time_unix_nano) / 1e6


declare_tones(
    TraceSpan.Status,
    {TraceSpan.Status.UNSET: Tone.NEUTRAL, TraceSpan.Status.OK: Tone.SUCCESS, TraceSpan.Status.ERROR: Tone.DANGER},
)


class SpanMessages(models.Model):
    """The messages of an LLM span that arrived as log-record events (OTLP /v1/logs) before the span itself:
    held here, keyed by (project, trace, span), until the span arrives and they become the call's input and
    output. Each row is one log record, named by `key` (a keyed hash of its time, messages and place among equal
    records of its request), so a re-sent record is recognised; a row whose input messages went into a call is
    kept emptied (`attached_at` set, no content) for that, and as the sign that the call's input came from events.
    Every row, waiting or attached, is deleted OTLP_PENDING_MESSAGES_HOURS after it arrived."""

    id = models.BigAutoField(primary_key=True)
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="+", db_index=False)
    trace_id = models.CharField(max_length=32)
    span_id = models.CharField(max_length=16)
    key = models.CharField(max_length=64, blank=True, help_text="the log record's identity (empty before 0006)")
    time_unix_nano = models.BigIntegerField(default=0)
    input = models.JSONField(default=list, blank=True, help_text="chat messages in order")
    output = models.TextField(blank=True)
    received_at = models.DateTimeField()
    attached_at = models.DateTimeField(null=True, blank=True, help_text="when its messages became the call's")

    class Meta:
        ordering = ["project_id", "trace_id", "span_id", "time_unix_nano", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "trace_id", "span_id", "key"],
                condition=~models.Q(key=""),
                name="spanmessages_unique_record",
            )
        ]
        indexes = [
            models.Index(
                fields=["project", "trace_id", "span_id"],
                condition=models.Q(attached_at__isnull=True),
                name="spanmessages_waiting",
            ),
            models.Index(fields=["received_at"], name="spanmessages_received"),
        ]
        verbose_name_plural = "span messages"


class TraceSettings(models.Model):
    """How a project's OpenTelemetry traces are read: which span attribute names the call's end user (the
    subject), besides the conventional ones (enduser.id, user.id, ...)."""

    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="trace_settings")
    subject_attribute = models.CharField(
        max_length=200,
        blank=True,
        help_text="a span attribute holding the end user's id, e.g. app.customer_id (HMAC'd on arrival)",
    )

    class Meta:
        verbose_name = "trace settings"
        verbose_name_plural = "trace settings"

    def __str__(self) -> str:
        return f"trace settings of {self.project.slug}" if self.project_id else "trace settings"
