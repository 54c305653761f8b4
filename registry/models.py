"""The foundation: projects, keys and roles, datasets, versions, subjects, runs, models, deployments."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

from registry.tones import Tone, declare_tones


class Role(models.TextChoices):
    DATA_SCIENTIST = "data_scientist", "Data scientist"
    COMPLIANCE_OFFICER = "compliance_officer", "Compliance officer"
    RISK_ANALYST = "risk_analyst", "Risk analyst"
    INGEST = "ingest", "Ingest service"


class Created(models.Model):
    """Who made a record (a user or an API key) and when."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    created_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_key = models.ForeignKey(
        "registry.ApiKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        abstract = True

    @property
    def created_by(self) -> str:
        if self.created_by_user_id:
            return f"user:{self.created_by_user}"
        if self.created_by_key_id:
            return f"key:{self.created_by_key}"
        return "system"


slug_validator = RegexValidator(r"^[a-z0-9][a-z0-9-]{0,62}$", "lowercase letters, digits and dashes")


class Project(Created):
    class ErasedSubjectIngest(models.TextChoices):
        REFUSE = "refuse", "refuse the record with an error"
        STRIP = "strip", "accept the record without the subject"

    slug = models.SlugField(max_length=63, unique=True, validators=[slug_validator])
    name = models.CharField(max_length=200)
    erased_subject_ingest = models.CharField(
        max_length=16,
        choices=ErasedSubjectIngest.choices,
        default=ErasedSubjectIngest.REFUSE,
        help_text="what happens to later data about a subject erased from this project",
    )

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug


class ApiKey(models.Model):
    """A bearer key scoped to one project and one role. Only its SHA-256 is stored."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="api_keys")
    role = models.CharField(max_length=32, choices=Role.choices)
    name = models.CharField(max_length=200)
    prefix = models.CharField(max_length=16, unique=True, help_text="public part, shown to identify the key")
    key_sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="api_keys",
        help_text="the person who holds the key (four eyes compares people); empty for a service key",
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["project", "name"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…, {self.role}@{self.project_id and self.project.slug})"


class Membership(models.Model):
    """A person's role in a project (admin users and session API access)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=32, choices=Role.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "project"], name="membership_user_project")]

    def __str__(self) -> str:
        return f"{self.user} is {self.role} in {self.project.slug}"


class Dataset(Created):
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="datasets")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    contains_personal_data = models.BooleanField()
    legal_basis = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["project", "name"]
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="dataset_project_name")]

    def __str__(self) -> str:
        return f"{self.project.slug}/{self.name}"


class DataVersion(Created):
    """An immutable version of a dataset, identified by the canonical hash of its content."""

    class Status(models.TextChoices):
        ACTIVE = "active"
        ERASURE_PENDING = "erasure_pending"

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="+")
    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="versions")
    version = models.CharField(max_length=100)
    content_sha256 = models.CharField(max_length=64)
    row_count = models.BigIntegerField()
    schema = models.JSONField(help_text="columns and dtypes")
    profile = models.JSONField(null=True, blank=True, help_text="per-column reference statistics")
    storage_uri = models.CharField(max_length=1000, blank=True)
    status = models.CharField(max_length=32, choices=Status.choices, default=Status.ACTIVE)
    parents = models.ManyToManyField(
        "self", through="DataVersionParent", symmetrical=False, related_name="children", blank=True
    )

    class Meta:
        ordering = ["dataset", "created_at"]
        constraints = [models.UniqueConstraint(fields=["dataset", "version"], name="dataversion_dataset_version")]

    def __str__(self) -> str:
        return f"{self.dataset.name}@{self.version}"


class DataVersionParent(models.Model):
    """A derived-from edge: `child` was made from `parent`."""

    child = models.ForeignKey(DataVersion, on_delete=models.CASCADE, related_name="parent_links")
    parent = models.ForeignKey(DataVersion, on_delete=models.PROTECT, related_name="child_links")
    transformation = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["child", "parent"], name="dataversionparent_edge")]


class SubjectIndex(models.Model):
    """Which pseudonymous data subjects appear in which data version."""

    data_version = models.ForeignKey(DataVersion, on_delete=models.CASCADE, related_name="subjects")
    subject_key = models.CharField(max_length=64)
    key_id = models.CharField(max_length=16)

    class Meta:
        verbose_name_plural = "subject index"
        constraints = [models.UniqueConstraint(fields=["data_version", "subject_key"], name="subjectindex_version_key")]
        indexes = [models.Index(fields=["subject_key"], name="subjectindex_key")]


class Run(Created):
    class Status(models.TextChoices):
        RUNNING = "running"
        FINISHED = "finished"
        FAILED = "failed"

    class Source(models.TextChoices):
        NOTEBOOK = "notebook"
        CLI = "cli"
        API = "api"
        PROTOCOL = "protocol"

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="runs")
    name = models.CharField(max_length=200)
    params = models.JSONField(default=dict, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    git_commit = models.CharField(max_length=64, blank=True)
    git_branch = models.CharField(max_length=200, blank=True)
    git_dirty = models.BooleanField(null=True, blank=True)
    notebook_path = models.CharField(max_length=1000, blank=True)
    environment = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.FINISHED)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.API)
    inputs = models.ManyToManyField(DataVersion, through="RunInput", related_name="runs")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} (run {self.pk})"


class RunInput(models.Model):
    class Role(models.TextChoices):
        TRAIN = "train"
        VALIDATION = "validation"
        TEST = "test"

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="input_links")
    data_version = models.ForeignKey(DataVersion, on_delete=models.PROTECT, related_name="run_links")
    role = models.CharField(max_length=16, choices=Role.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "data_version", "role"], name="runinput_run_version_role")
        ]


class Model(Created):
    class RiskTier(models.TextChoices):
        MINIMAL = "minimal"
        LIMITED = "limited"
        HIGH = "high"

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="models")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    risk_tier = models.CharField(max_length=16, choices=RiskTier.choices, default=RiskTier.LIMITED)

    class Meta:
        ordering = ["project", "name"]
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="model_project_name")]

    def __str__(self) -> str:
        return f"{self.project.slug}/{self.name}"


class Stage(models.TextChoices):
    NONE = "none"
    STAGING = "staging"
    PRODUCTION = "production"
    ARCHIVED = "archived"


declare_tones(
    Stage,
    {Stage.NONE: Tone.NEUTRAL, Stage.STAGING: Tone.WARNING, Stage.PRODUCTION: Tone.SUCCESS, Stage.ARCHIVED: Tone.MUTED},
)


class ModelVersion(Created):
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="+")
    model = models.ForeignKey(Model, on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveIntegerField()
    run = models.ForeignKey(Run, on_delete=models.PROTECT, related_name="model_versions")
    artifact_uri = models.CharField(max_length=1000)
    artifact_sha256 = models.CharField(max_length=64)
    framework = models.CharField(max_length=100, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    signature = models.JSONField(default=dict, blank=True, help_text="input signature")
    intended_use = models.TextField(blank=True)
    limitations = models.TextField(blank=True)
    stage = models.CharField(max_length=16, choices=Stage.choices, default=Stage.NONE)

    class Meta:
        ordering = ["model", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["model", "version"], name="modelversion_model_version"),
            # the target of the deployments' (model_version, model) foreign key (registry 0009)
            models.UniqueConstraint(fields=["id", "model"], name="modelversion_id_model"),
        ]

    def __str__(self) -> str:
        return f"{self.model.name} v{self.version}"


class StageTransition(Created):
    model_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="transitions")
    from_stage = models.CharField(max_length=16, choices=Stage.choices)
    to_stage = models.CharField(max_length=16, choices=Stage.choices)
    reason = models.TextField()
    approved_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    checks = models.JSONField(default=list, blank=True, help_text="gate checks evaluated")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.model_version}: {self.from_stage} -> {self.to_stage}"


REPLACING_STRATEGIES = ["direct", "blue_green"]  # a live one of these is the model's version in its environment


class Deployment(Created):
    class Strategy(models.TextChoices):
        DIRECT = "direct"
        CANARY = "canary"
        BLUE_GREEN = "blue_green"
        SHADOW = "shadow"

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="+")
    # Denormalised from model_version (filled on save) so the database can hold "one live replacing deployment
    # per model and environment" as a partial unique index, which cannot reach across a join.
    model = models.ForeignKey(Model, on_delete=models.PROTECT, related_name="deployments", editable=False)
    model_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="deployments")
    environment = models.CharField(max_length=100)
    strategy = models.CharField(max_length=16, choices=Strategy.choices, default=Strategy.DIRECT)
    traffic_percent = models.DecimalField(max_digits=5, decimal_places=2, default=100)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["model_version", "started_at"], name="deployment_version_start")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ended_at__isnull=True) | models.Q(ended_at__gt=models.F("started_at")),
                name="deployment_ends_after_start",
            ),
            models.CheckConstraint(
                condition=models.Q(traffic_percent__gt=0, traffic_percent__lte=100),
                name="deployment_traffic_percent_range",
            ),
            models.UniqueConstraint(
                fields=["model", "environment"],
                condition=models.Q(ended_at__isnull=True, strategy__in=REPLACING_STRATEGIES),
                name="deployment_one_live_replacing",
                violation_error_message="another direct or blue-green deployment of this model is live there",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.model_version} in {self.environment} ({self.strategy})"

    def save(self, *args, **kwargs):
        if self.model_id is None and self.model_version_id is not None:
            self.model_id = ModelVersion.objects.values_list("model_id", flat=True).get(pk=self.model_version_id)
        super().save(*args, **kwargs)


class AuditEvent(models.Model):
    """One link of the append-only, hash-chained audit trail that every app writes to.

    `hash = sha256(prev_hash || canonical JSON of the event)`; see registry/audit.py. No foreign
    keys: the record survives the deletion of what it names (frozen `actor_name`, `target_repr`),
    and a cascade could never need to UPDATE it. On PostgreSQL a trigger refuses UPDATE and DELETE.
    Holds no personal data: subject ids, features and keys never go into before/after.
    """

    seq = models.BigIntegerField(primary_key=True)
    occurred_at = models.DateTimeField()
    actor_name = models.CharField(max_length=200)
    actor_user_id = models.BigIntegerField(null=True, blank=True)
    actor_key_id = models.BigIntegerField(null=True, blank=True)
    event_type = models.CharField(max_length=64)
    project_id = models.BigIntegerField(null=True, blank=True)
    target_type = models.CharField(max_length=100)
    target_id = models.CharField(max_length=100)
    target_repr = models.CharField(max_length=300)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    request_id = models.CharField(max_length=100, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["seq"]
        indexes = [
            models.Index(fields=["target_type", "target_id"], name="auditevent_target"),
            models.Index(fields=["event_type", "occurred_at"], name="auditevent_type_time"),
            models.Index(fields=["project_id", "occurred_at"], name="auditevent_project_time"),
            models.Index(fields=["actor_name", "occurred_at"], name="auditevent_actor_time"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.event_type} {self.target_repr}"


class AuditChainHead(models.Model):
    """The single row that serialises appends (its row lock) and remembers the chain's head."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64)


class SuppressedSubject(models.Model):
    """A subject erased from a project: later data about them is refused or stripped of the subject."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="+")
    subject_key = models.CharField(max_length=64)
    reason = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "subject_key"], name="suppressedsubject_project_key")]

    def __str__(self) -> str:
        return f"suppressed {self.subject_key[:12]}… in {self.project_id}"
