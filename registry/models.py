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
    REVIEWER = "reviewer", "Reviewer"  # a person who reviews decisions (AI Act Art. 14 oversight)
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
    # A dataset's identity when it has one: whoever reports the same URI (an MLflow dataset source, an
    # OpenLineage namespace and name, our own storage URI) reports the same dataset.
    source_uri = models.CharField(max_length=1000, blank=True)
    # What a pipeline reported about the dataset (OpenLineage dataset facets: schema, dataSource, documentation,
    # ownership, symlinks...), each facet the latest reported, with the event time it came with.
    facets = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["project", "name"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="dataset_project_name"),
            models.UniqueConstraint(
                fields=["project", "source_uri"], condition=~models.Q(source_uri=""), name="dataset_project_source_uri"
            ),
        ]

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
    row_count = models.BigIntegerField(null=True, blank=True, help_text="unknown when a tool did not report it")
    schema = models.JSONField(help_text="columns and dtypes")
    profile = models.JSONField(null=True, blank=True, help_text="per-column reference statistics")
    storage_uri = models.CharField(max_length=1000, blank=True)
    # A digest the reporting tool computed (MLflow's dataset digest), kept beside our content hash; a version
    # reported only by such a tool has no content_sha256 (we never saw its content).
    digest = models.CharField(max_length=200, blank=True)
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


class Experiment(Created):
    """A named group of runs in a project (MLflow's experiment). Number 0, "Default", exists in every project;
    the others are numbered in the project in the order they were created."""

    DEFAULT_NUMBER = 0
    DEFAULT_NAME = "Default"

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="experiments")
    number = models.PositiveIntegerField()
    name = models.CharField(max_length=500)
    tags = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["project", "number"]
        constraints = [
            models.UniqueConstraint(fields=["project", "number"], name="experiment_project_number"),
            models.UniqueConstraint(fields=["project", "name"], name="experiment_project_name"),
        ]

    def __str__(self) -> str:
        return f"{self.name} (experiment {self.number})"


class Run(Created):
    class Status(models.TextChoices):
        RUNNING = "running"
        FINISHED = "finished"
        FAILED = "failed"
        KILLED = "killed"

    class Source(models.TextChoices):
        NOTEBOOK = "notebook"
        CLI = "cli"
        API = "api"
        PROTOCOL = "protocol"
        MLFLOW = "mlflow"
        OPENLINEAGE = "openlineage"

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
    # What MLflow's tracking protocol carries beside our fields (filled for runs of every source that has them).
    experiment = models.ForeignKey(Experiment, null=True, blank=True, on_delete=models.PROTECT, related_name="runs")
    # MLflow's run id, or an OpenLineage runId (its UUID as 32 hex digits): unique within the project
    run_uuid = models.CharField(max_length=32, null=True, blank=True, help_text="MLflow-style run id")
    tags = models.JSONField(default=dict, blank=True)
    # each metric's latest point as [step, timestamp ms] (`metrics` holds its value; `metric_points` every point)
    metric_steps = models.JSONField(default=dict, blank=True)
    user_name = models.CharField(max_length=200, blank=True)
    source_name = models.CharField(max_length=1000, blank=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["experiment", "-started_at"], name="run_experiment_start")]
        constraints = [models.UniqueConstraint(fields=["project", "run_uuid"], name="run_project_uuid")]

    def __str__(self) -> str:
        return f"{self.name} (run {self.pk})"


class RunInput(models.Model):
    class Role(models.TextChoices):
        TRAIN = "train"
        VALIDATION = "validation"
        TEST = "test"
        INPUT = "input"  # read by a pipeline step (OpenLineage)

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="input_links")
    data_version = models.ForeignKey(DataVersion, on_delete=models.PROTECT, related_name="run_links")
    role = models.CharField(max_length=16, choices=Role.choices)
    facets = models.JSONField(default=dict, blank=True, help_text="what the run reported of its reading")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "data_version", "role"], name="runinput_run_version_role")
        ]


class RunOutput(models.Model):
    """A data version a run wrote (a pipeline step's output table or file)."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="output_links")
    data_version = models.ForeignKey(DataVersion, on_delete=models.PROTECT, related_name="producer_links")
    facets = models.JSONField(default=dict, blank=True, help_text="what the run reported of its writing")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "data_version"], name="runoutput_run_version")]


class Job(Created):
    """A pipeline job as OpenLineage names it (an Airflow task, a Spark or dbt job): its runs are `Run`s."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="jobs")
    namespace = models.CharField(max_length=500)
    name = models.CharField(max_length=1000)
    facets = models.JSONField(default=dict, blank=True, help_text="job facets, each the latest reported")

    class Meta:
        ordering = ["project", "namespace", "name"]
        constraints = [models.UniqueConstraint(fields=["project", "namespace", "name"], name="job_project_name")]

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}"


class PipelineRun(models.Model):
    """What OpenLineage adds to a run: its job, the run facets (each the latest by event time) and the error
    a failed run reported. The run's status and times are on the `Run`."""

    run = models.OneToOneField(Run, on_delete=models.CASCADE, related_name="pipeline")
    job = models.ForeignKey(Job, on_delete=models.PROTECT, related_name="runs")
    facets = models.JSONField(default=dict, blank=True)
    error_message = models.TextField(blank=True)
    last_event_at = models.DateTimeField(null=True, blank=True, help_text="the latest event time seen")
    terminal_at = models.DateTimeField(null=True, blank=True, help_text="event time of the status now shown")

    def __str__(self) -> str:
        return f"{self.job} run {self.run.run_uuid}"


class LineageEvent(models.Model):
    """One OpenLineage event accepted, by the hash of its canonical JSON: the same event sent again is known
    and changes nothing."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="+")
    sha256 = models.CharField(max_length=64)
    kind = models.CharField(max_length=16)  # RunEvent, DatasetEvent, JobEvent
    event_type = models.CharField(max_length=16, blank=True)
    event_time = models.DateTimeField()
    run = models.ForeignKey(Run, null=True, blank=True, on_delete=models.CASCADE, related_name="lineage_events")
    job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "sha256"], name="lineageevent_project_sha")]


class MetricPoint(models.Model):
    """Every value a run logged for a metric, at its step and time (the run's `metrics` keeps the latest)."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="metric_points")
    key = models.CharField(max_length=250)
    value = models.FloatField(null=True, help_text="null for NaN")
    step = models.BigIntegerField(default=0)
    timestamp = models.BigIntegerField(help_text="milliseconds since the epoch")
    model_ref = models.CharField(max_length=64, blank=True, help_text="the logged model the value describes")
    dataset_name = models.CharField(max_length=500, blank=True)
    dataset_digest = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["run", "key", "step", "timestamp", "id"]
        indexes = [models.Index(fields=["run", "key", "step", "timestamp"], name="metricpoint_history")]


class LoggedModel(Created):
    """A model's files as a run logged them (MLflow's logged model), before and apart from registration: the
    files are artifacts under its prefix, and `artifact_sha256` digests them when it is finalized."""

    class Status(models.TextChoices):
        PENDING = "pending"
        READY = "ready"
        FAILED = "failed"

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="+")
    model_id = models.CharField(max_length=64, unique=True)
    experiment = models.ForeignKey(Experiment, on_delete=models.PROTECT, related_name="logged_models")
    run = models.ForeignKey(Run, null=True, blank=True, on_delete=models.PROTECT, related_name="logged_models")
    name = models.CharField(max_length=500)
    model_type = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    params = models.JSONField(default=dict, blank=True)
    tags = models.JSONField(default=dict, blank=True)
    artifact_sha256 = models.CharField(max_length=64, blank=True)
    finalized_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.model_id})"


class Artifact(models.Model):
    """One stored file under `ARTIFACT_ROOT`, written once: its path, size and sha256."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="+")
    path = models.CharField(max_length=1500, help_text="relative to the project's artifact root")
    run = models.ForeignKey(Run, null=True, blank=True, on_delete=models.PROTECT, related_name="artifacts")
    logged_model = models.ForeignKey(
        LoggedModel, null=True, blank=True, on_delete=models.PROTECT, related_name="artifacts"
    )
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    content_type = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "path"]
        constraints = [models.UniqueConstraint(fields=["project", "path"], name="artifact_project_path")]

    def __str__(self) -> str:
        return self.path


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
    logged_model = models.ForeignKey(
        LoggedModel, null=True, blank=True, on_delete=models.PROTECT, related_name="model_versions"
    )

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


class ModelAlias(models.Model):
    """A movable name (champion, challenger, ...) pointing at one version of a model; every move is recorded in
    `ModelAliasMove` and the audit trail, and moving a protected one is a promotion through the gate."""

    model = models.ForeignKey(Model, on_delete=models.PROTECT, related_name="aliases")
    name = models.CharField(max_length=255)
    model_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="aliases")
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["model", "name"]
        constraints = [models.UniqueConstraint(fields=["model", "name"], name="modelalias_model_name")]

    def __str__(self) -> str:
        return f"{self.model.name}@{self.name}"


class ModelAliasMove(Created):
    """The history of an alias: from which version to which, when, by whom, and whether it was a promotion."""

    model = models.ForeignKey(Model, on_delete=models.PROTECT, related_name="alias_moves")
    name = models.CharField(max_length=255)
    from_version = models.ForeignKey(ModelVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    to_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="alias_moves")
    protected = models.BooleanField(default=False)
    transition = models.ForeignKey(
        StageTransition, null=True, blank=True, on_delete=models.PROTECT, related_name="alias_moves"
    )

    class Meta:
        ordering = ["model", "name", "-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.model.name}@{self.name} -> v{self.to_version.version}"


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


class ChainVerificationRun(models.Model):
    """That the trail was verified (the chain walked and every content-hashed record checked): when, by whom,
    with what result, and the head it reached. The home shows the last one; written by registry.records only."""

    verified_at = models.DateTimeField()
    actor_name = models.CharField(max_length=200)
    ok = models.BooleanField()
    length = models.BigIntegerField()
    head_hash = models.CharField(max_length=64)
    reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-verified_at", "-id"]

    def __str__(self) -> str:
        return f"verification of {self.verified_at:%Y-%m-%d %H:%M} by {self.actor_name}"


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


class BackgroundJob(Created):
    """Long work (an erasure's execution, a fairness audit, a drift or performance report, the monitoring run)
    done outside the HTTP request that asked for it, on a Celery worker (or in process when no broker is set).

    The row is the job's whole state: a worker reads its input from here and writes its progress, result and
    error back here, so the broker carries nothing but the id. `kind` names a handler registered with
    `registry.jobs.register_job_kind` by the app that owns the work (the registry names none of them). The
    work and the job's success are written in one transaction (registry/services/jobs.py), so a worker that
    dies leaves either both or neither; a job left `running` by a dead worker (its heartbeat stopped) is taken
    over by the next delivery of its message, by the periodic recovery, or by an explicit retry.
    """

    class State(models.TextChoices):
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        SUCCEEDED = "succeeded", "succeeded"
        FAILED = "failed", "failed"

    kind = models.CharField(max_length=100, db_index=True)
    project = models.ForeignKey(Project, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED, db_index=True)
    input = models.JSONField(default=dict, blank=True, help_text="the validated request: ids and plain values")
    input_sha256 = models.CharField(max_length=64, help_text="canonical hash of the input (idempotency checks)")
    idempotency_key = models.CharField(
        max_length=200, blank=True, help_text="the same key (per kind) answers the same job; empty: none"
    )
    requested_by = models.CharField(max_length=200, help_text="the actor's label when queued (kept if it goes)")
    request_id = models.CharField(max_length=100, blank=True, help_text="the HTTP request that queued the job")
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    progress_message = models.CharField(max_length=300, blank=True)
    result_type = models.CharField(max_length=100, blank=True, help_text="app_label.model of the record made")
    result_id = models.CharField(max_length=64, blank=True)
    result_url = models.CharField(max_length=300, blank=True, help_text="the record's API path")
    error_code = models.CharField(max_length=64, blank=True)
    error = models.CharField(max_length=1000, blank=True, help_text="why it failed, in words (no subject id)")
    error_fields = models.JSONField(default=dict, blank=True, help_text="the input fields the failure names")
    attempts = models.PositiveIntegerField(default=0)
    worker = models.CharField(max_length=200, blank=True, help_text="host:pid of the attempt's worker")
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "background job"
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="backgroundjob_idempotency",
            )
        ]
        indexes = [models.Index(fields=["project", "-created_at"], name="backgroundjob_project_recent")]

    def __str__(self) -> str:
        return f"job {self.pk} ({self.kind}, {self.state})"


declare_tones(
    BackgroundJob.State,
    {
        BackgroundJob.State.QUEUED: Tone.INFO,
        BackgroundJob.State.RUNNING: Tone.ACCENT,
        BackgroundJob.State.SUCCEEDED: Tone.SUCCESS,
        BackgroundJob.State.FAILED: Tone.DANGER,
    },
)
