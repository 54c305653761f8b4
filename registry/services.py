"""Write operations of the registry. Views, admin and commands call these; nothing else writes."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TypedDict

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from registry import bulk, hooks
from registry.actors import Actor
from registry.audit import AuditEventType as Event
from registry.audit import audit_append
from registry.auth import generate_key, hash_key
from registry.errors import Conflict, ServiceError, field_error
from registry.models import (
    ApiKey,
    Dataset,
    DataVersion,
    DataVersionParent,
    Deployment,
    Membership,
    Model,
    ModelVersion,
    Project,
    Role,
    Run,
    RunInput,
    Stage,
    StageTransition,
    SubjectIndex,
    SuppressedSubject,
)
from registry.subjects import InvalidSubjectId, current_key_id, subject_key, suppression_lock

MAX_SUBJECTS_PER_REQUEST = 100_000


def _created(actor: Actor) -> dict:
    user = actor.user if actor.user is not None and actor.user.pk else None
    return {"created_by_user": user, "created_by_key": actor.api_key}


@contextmanager
def _unique(message: str, field: str, note: str = "already exists") -> Iterator[None]:
    """A transaction whose unique-constraint violation becomes a 409 naming the field."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError:
        raise Conflict(message, fields={field: [note]}) from None


def project_create(*, actor: Actor, slug: str, name: str) -> Project:
    with _unique(f"project {slug!r} already exists", "slug"):
        project = Project.objects.create(slug=slug, name=name, **_created(actor))
        audit_append(
            actor=actor,
            event_type=Event.PROJECT_CREATED,
            target=project,
            project_id=project.pk,
            after={"slug": slug, "name": name, "erased_subject_ingest": project.erased_subject_ingest},
        )
    return project


def api_key_create(
    *, actor: Actor, project: Project, role: str, name: str, owner: AbstractBaseUser | None = None
) -> tuple[ApiKey, str]:
    """A new key; the raw key is returned once and never stored (nor audited: only its prefix).

    `owner` is the person who holds it (four eyes compares people, not keys); None for a service key."""
    if role not in Role.values:
        raise field_error("role", f"must be one of {', '.join(Role.values)}")
    if owner is not None and not owner.is_active:
        raise field_error("owner", "is not an active user")
    prefix, raw = generate_key()
    with transaction.atomic():
        key = ApiKey.objects.create(
            project=project,
            role=role,
            name=name,
            prefix=prefix,
            key_sha256=hash_key(raw),
            created_by_user=_created(actor)["created_by_user"],
            owner=owner,
        )
        audit_append(
            actor=actor,
            event_type=Event.API_KEY_CREATED,
            target=key,
            after={"prefix": prefix, "role": role, "name": name, "owner": owner.pk if owner is not None else None},
        )
    return key, raw


def api_key_revoke(*, actor: Actor, key: ApiKey) -> ApiKey:
    with transaction.atomic():
        now = timezone.now()
        if ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=now):
            audit_append(
                actor=actor,
                event_type=Event.API_KEY_REVOKED,
                target=key,
                before={"revoked_at": None},
                after={"revoked_at": now},
            )
    key.refresh_from_db()
    return key


def membership_set(*, actor: Actor, user, project: Project, role: str) -> Membership:
    if role not in Role.values:
        raise field_error("role", f"must be one of {', '.join(Role.values)}")
    with transaction.atomic():
        previous = Membership.objects.filter(user=user, project=project).values_list("role", flat=True).first()
        membership, _ = Membership.objects.update_or_create(user=user, project=project, defaults={"role": role})
        _sync_role_groups(user)
        if previous != role:
            audit_append(
                actor=actor,
                event_type=Event.MEMBERSHIP_SET,
                target=membership,
                project_id=project.pk,
                target_repr=f"{user.get_username()} in {project.slug}",
                before={"role": previous},
                after={"role": role},
            )
    return membership


def _sync_role_groups(user) -> None:
    """Admin permissions come from the role groups: a user is in the group of each role they hold."""
    from django.contrib.auth.models import Group

    held = set(Membership.objects.filter(user=user).values_list("role", flat=True))
    user.groups.remove(*Group.objects.filter(name__in=set(Role.values) - held))
    user.groups.add(*Group.objects.filter(name__in=held))


def dataset_create(
    *,
    actor: Actor,
    project: Project,
    name: str,
    contains_personal_data: bool,
    legal_basis: str = "",
    description: str = "",
) -> Dataset:
    if contains_personal_data and not legal_basis:
        raise field_error("legal_basis", "is required when the dataset contains personal data")
    with _unique(f"dataset {name!r} already exists in {project.slug}", "name"):
        dataset = Dataset.objects.create(
            project=project,
            name=name,
            description=description,
            contains_personal_data=contains_personal_data,
            legal_basis=legal_basis,
            **_created(actor),
        )
        audit_append(
            actor=actor,
            event_type=Event.DATASET_CREATED,
            target=dataset,
            after={"name": name, "contains_personal_data": contains_personal_data, "legal_basis": legal_basis},
        )
    return dataset


def data_version_register(
    *,
    actor: Actor,
    dataset: Dataset,
    version: str,
    content_sha256: str,
    row_count: int,
    schema: dict | list,
    profile: dict | None = None,
    storage_uri: str = "",
    parents: Sequence[DataVersion] = (),
    transformation: str = "",
) -> DataVersion:
    for index, parent in enumerate(parents):
        if parent.project_id != dataset.project_id:
            raise field_error(f"parents[{index}]", "belongs to another project")
    with _unique(
        f"version {version!r} of dataset {dataset.name!r} is already registered (versions are immutable)",
        "version",
        "already registered",
    ):
        data_version = DataVersion.objects.create(
            project_id=dataset.project_id,
            dataset=dataset,
            version=version,
            content_sha256=content_sha256,
            row_count=row_count,
            schema=schema,
            profile=profile,
            storage_uri=storage_uri,
            **_created(actor),
        )
        DataVersionParent.objects.bulk_create(
            DataVersionParent(child=data_version, parent=parent, transformation=transformation)
            for parent in dict.fromkeys(parents)
        )
        audit_append(
            actor=actor,
            event_type=Event.DATA_VERSION_REGISTERED,
            target=data_version,
            after={
                "dataset": dataset.pk,
                "version": version,
                "content_sha256": content_sha256,
                "row_count": row_count,
                "parents": [p.pk for p in dict.fromkeys(parents)],
                "transformation": transformation,
            },
        )
    return data_version


@dataclass(frozen=True)
class IndexResult:
    indexed: int
    duplicates: int


def subjects_index(*, actor: Actor, data_version: DataVersion, subject_ids: Sequence[object]) -> IndexResult:
    """Add subjects to a data version's index (pseudonymised here; raw ids are dropped).

    Subjects erased from the project (the suppression list) are refused, naming their position.
    """
    if len(subject_ids) > MAX_SUBJECTS_PER_REQUEST:
        raise field_error("subject_ids", f"at most {MAX_SUBJECTS_PER_REQUEST} per request, got {len(subject_ids)}")
    keys: list[str] = []
    errors: dict[str, list[str]] = {}
    for index, raw in enumerate(subject_ids):
        try:
            keys.append(subject_key(raw))
        except InvalidSubjectId as exc:
            errors[f"subject_ids[{index}]"] = [str(exc)]
    if errors:
        raise ServiceError(f"{len(errors)} subject ids are invalid", fields=errors)
    unique = list(dict.fromkeys(keys))
    key_id = current_key_id()
    with transaction.atomic():
        # the suppression check and the insert under the lock erasure execution takes exclusively
        suppression_lock([data_version.project_id])
        suppressed = suppressed_keys(project_id=data_version.project_id, keys=unique)
        if suppressed:
            raise ServiceError(
                f"{len(suppressed)} subjects were erased from this project and may not be indexed again",
                fields={
                    f"subject_ids[{index}]": ["this subject was erased from the project"]
                    for index, key in enumerate(keys)
                    if key in suppressed
                },
                code="subject_erased",
            )
        if bulk.is_postgresql():
            inserted = bulk.copy_insert_ignore(
                table=SubjectIndex._meta.db_table,
                columns=["data_version_id", "subject_key", "key_id"],
                rows=((data_version.pk, key, key_id) for key in unique),
                conflict=["data_version_id", "subject_key"],
            )
        else:
            before = SubjectIndex.objects.filter(data_version=data_version).count()
            SubjectIndex.objects.bulk_create(
                (SubjectIndex(data_version=data_version, subject_key=key, key_id=key_id) for key in unique),
                ignore_conflicts=True,
                batch_size=5000,
            )
            inserted = SubjectIndex.objects.filter(data_version=data_version).count() - before
        audit_append(
            actor=actor,
            event_type=Event.SUBJECTS_INDEXED,
            target=data_version,
            after={"received": len(keys), "indexed": inserted, "duplicates": len(keys) - inserted},
        )
    return IndexResult(indexed=inserted, duplicates=len(keys) - inserted)


def suppressed_keys(*, project_id: int, keys: Sequence[str]) -> set[str]:
    """Those of `keys` that were erased from the project."""
    found: set[str] = set()
    for start in range(0, len(keys), 5000):
        found.update(
            SuppressedSubject.objects.filter(
                project_id=project_id, subject_key__in=keys[start : start + 5000]
            ).values_list("subject_key", flat=True)
        )
    return found


class RunInputSpec(TypedDict):
    data_version: DataVersion
    role: str


def run_register(
    *,
    actor: Actor,
    project: Project,
    name: str,
    params: dict | None = None,
    metrics: dict | None = None,
    inputs: Sequence[RunInputSpec] = (),
    git_commit: str = "",
    git_branch: str = "",
    git_dirty: bool | None = None,
    notebook_path: str = "",
    environment: dict | None = None,
    status: str = Run.Status.FINISHED,
    source: str = Run.Source.API,
) -> Run:
    for index, spec in enumerate(inputs):
        if spec["data_version"].project_id != project.pk:
            raise field_error(f"inputs[{index}].data_version", "belongs to another project")
    with transaction.atomic():
        run = Run.objects.create(
            project=project,
            name=name,
            params=params or {},
            metrics=metrics or {},
            git_commit=git_commit,
            git_branch=git_branch,
            git_dirty=git_dirty,
            notebook_path=notebook_path,
            environment=environment or {},
            status=status,
            source=source,
            **_created(actor),
        )
        RunInput.objects.bulk_create(
            RunInput(run=run, data_version=spec["data_version"], role=spec["role"])
            for spec in {(s["data_version"].pk, s["role"]): s for s in inputs}.values()
        )
        audit_append(
            actor=actor,
            event_type=Event.RUN_REGISTERED,
            target=run,
            after={
                "name": name,
                "inputs": [{"data_version": s["data_version"].pk, "role": s["role"]} for s in inputs],
                "git_commit": git_commit,
                "notebook_path": notebook_path,
                "source": source,
                "status": status,
            },
        )
    return run


def model_create(
    *, actor: Actor, project: Project, name: str, risk_tier: str = Model.RiskTier.LIMITED, description: str = ""
) -> Model:
    with _unique(f"model {name!r} already exists in {project.slug}", "name"):
        model = Model.objects.create(
            project=project, name=name, risk_tier=risk_tier, description=description, **_created(actor)
        )
        audit_append(
            actor=actor, event_type=Event.MODEL_CREATED, target=model, after={"name": name, "risk_tier": risk_tier}
        )
    return model


def model_version_register(
    *,
    actor: Actor,
    model: Model,
    run: Run,
    artifact_uri: str,
    artifact_sha256: str,
    framework: str = "",
    metrics: dict | None = None,
    signature: dict | None = None,
    intended_use: str = "",
    limitations: str = "",
) -> ModelVersion:
    if run.project_id != model.project_id:
        raise field_error("run", "belongs to another project than the model")
    with transaction.atomic():
        # Lock the model row so that two registrations get consecutive version numbers.
        Model.objects.select_for_update().get(pk=model.pk)
        latest = ModelVersion.objects.filter(model=model).aggregate(latest=Max("version"))["latest"] or 0
        model_version = ModelVersion.objects.create(
            project_id=model.project_id,
            model=model,
            version=latest + 1,
            run=run,
            artifact_uri=artifact_uri,
            artifact_sha256=artifact_sha256,
            framework=framework,
            metrics=metrics if metrics is not None else dict(run.metrics),
            signature=signature or {},
            intended_use=intended_use,
            limitations=limitations,
            **_created(actor),
        )
        audit_append(
            actor=actor,
            event_type=Event.MODEL_VERSION_REGISTERED,
            target=model_version,
            after={
                "model": model.pk,
                "version": model_version.version,
                "run": run.pk,
                "artifact_uri": artifact_uri,
                "artifact_sha256": artifact_sha256,
            },
        )
        hooks.model_version_registered(actor, model_version)
    return model_version


ALLOWED_TRANSITIONS: dict[str, set[str]] = {
    Stage.NONE: {Stage.STAGING, Stage.PRODUCTION, Stage.ARCHIVED},
    Stage.STAGING: {Stage.PRODUCTION, Stage.ARCHIVED, Stage.NONE},
    Stage.PRODUCTION: {Stage.ARCHIVED, Stage.STAGING},
    Stage.ARCHIVED: {Stage.STAGING},
}


def model_version_transition(
    *, actor: Actor, model_version: ModelVersion, to_stage: str, reason: str
) -> StageTransition:
    """Move a version to another stage. Promoting one to production archives the version it replaces."""
    if to_stage not in Stage.values:
        raise field_error("to_stage", f"must be one of {', '.join(Stage.values)}")
    if not reason.strip():
        raise field_error("reason", "must not be empty")
    with transaction.atomic():
        current = ModelVersion.objects.select_for_update().get(pk=model_version.pk)
        if to_stage not in ALLOWED_TRANSITIONS[current.stage]:
            raise field_error("to_stage", f"cannot move from {current.stage} to {to_stage}", code="invalid_transition")
        checks = gate_enforce(
            actor=actor, model_version=current, to_stage=to_stage, field="to_stage", doing=f"for {to_stage}"
        )
        if to_stage == Stage.PRODUCTION:
            replaced = ModelVersion.objects.select_for_update().filter(
                model_id=current.model_id, stage=Stage.PRODUCTION
            )
            for previous in replaced.exclude(pk=current.pk):
                _transition(actor, previous, Stage.ARCHIVED, f"replaced in production by v{current.version}")
        transition = _transition(actor, current, to_stage, reason, checks=checks)
    model_version.refresh_from_db(fields=["stage"])
    return transition


def _transition(
    actor: Actor, version: ModelVersion, to_stage: str, reason: str, *, checks: list[dict] | None = None
) -> StageTransition:
    transition = StageTransition.objects.create(
        model_version=version,
        from_stage=version.stage,
        to_stage=to_stage,
        reason=reason,
        checks=checks or [],
        **_created(actor),
    )
    ModelVersion.objects.filter(pk=version.pk).update(stage=to_stage)
    audit_append(
        actor=actor,
        event_type=Event.MODEL_VERSION_TRANSITIONED,
        target=version,
        before={"stage": version.stage},
        after={"stage": to_stage, "reason": reason, "transition": transition.pk},
    )
    return transition


REPLACING_STRATEGIES = {Deployment.Strategy.DIRECT, Deployment.Strategy.BLUE_GREEN}


def gate_enforce(*, actor: Actor, model_version: ModelVersion, to_stage: str, field: str, doing: str) -> list[dict]:
    """The one gate on every way into production: stage transitions, deployments and (later) alias moves.

    Runs the checks upper apps contribute through `hooks.gate_checks` (policy, fairness audit, model card, four
    eyes) and refuses with the failed ones under `field`; answers the checks when all passed."""
    checks = hooks.gate_checks(actor, model_version, to_stage)
    failed = [check["message"] for check in checks if not check["passed"]]
    if failed:
        raise ServiceError(
            f"the promotion gate refuses {model_version} {doing}: {len(failed)} checks failed",
            fields={field: failed},
            code="gate_refused",
        )
    return checks


def serves_production(environment: str, strategy: str) -> bool:
    """Whether a deployment puts a version's decisions in front of people: every strategy but shadow, in every
    environment but the named pre-production ones (fail closed: an unknown name counts as production)."""
    return strategy != Deployment.Strategy.SHADOW and environment not in settings.PREPRODUCTION_ENVIRONMENTS


def _not_backdated(field: str, at: datetime, now: datetime) -> None:
    skew = timedelta(seconds=settings.DEPLOYMENT_CLOCK_SKEW_SECONDS)
    if at < now - skew:
        raise field_error(field, f"may not lie more than {skew.total_seconds():.0f} seconds in the past")
    if at > now + skew:
        raise field_error(field, f"may not lie more than {skew.total_seconds():.0f} seconds in the future")


def deployment_create(
    *,
    actor: Actor,
    model_version: ModelVersion,
    environment: str,
    strategy: str = Deployment.Strategy.DIRECT,
    traffic_percent: Decimal | None = None,
    started_at: datetime | None = None,
    ended_at: datetime | None = None,
    backfill: bool = False,
) -> Deployment:
    """Record that a version goes live. A direct or blue-green deployment (a rollback too) ends, at its own start,
    every deployment of the same model still open in that environment; ends already set never move.

    Unless it is a shadow or in a pre-production environment, the version must be in stage production and pass
    the gate again now (an audit may have failed since its promotion). The start is now, give or take the clock
    skew setting. `backfill` (code only, never the API: demo and benchmarks loading history) allows a start and
    an end in the past; the gate, the stage and the one-live rule hold even then."""
    now = timezone.now()
    started_at = started_at or now
    if not backfill:
        _not_backdated("started_at", started_at, now)
        if ended_at is not None:
            raise field_error("ended_at", "is set when the deployment ends (deployments/{id}/end/), not before")
    if ended_at is not None and ended_at <= started_at:
        raise field_error("ended_at", "must be after started_at")
    if traffic_percent is None:
        traffic_percent = Decimal(100)
    if not Decimal(0) < traffic_percent <= Decimal(100):
        raise field_error("traffic_percent", "must be greater than 0 and at most 100")
    if strategy == Deployment.Strategy.CANARY and traffic_percent >= 100:
        raise field_error("traffic_percent", "a canary takes a share of traffic below 100")
    with transaction.atomic():
        # One deployment of a model at a time: the lock orders concurrent ones, the partial unique index backs it.
        Model.objects.select_for_update().filter(pk=model_version.model_id).first()
        current = ModelVersion.objects.select_for_update().get(pk=model_version.pk)
        checks: list[dict] = []
        if serves_production(environment, strategy):
            if current.stage != Stage.PRODUCTION:
                raise ServiceError(
                    f"{current} is in stage {current.stage}: only a version in production may be deployed "
                    f"({strategy}) to {environment}",
                    fields={"model_version": [f"is in stage {current.stage}, not production"]},
                    code="gate_refused",
                )
            checks = gate_enforce(
                actor=actor, model_version=current, to_stage=Stage.PRODUCTION, field="model_version", doing="to deploy"
            )
        if strategy in REPLACING_STRATEGIES and ended_at is None:
            live = list(
                Deployment.objects.select_for_update().filter(
                    model_id=model_version.model_id, environment=environment, ended_at__isnull=True
                )
            )
            later = [d for d in live if d.started_at >= started_at]
            if later:
                raise field_error(
                    "started_at", f"must be after the start of live deployment {later[0].pk} ({later[0].started_at})"
                )
            for replaced in live:
                _end(actor, replaced, started_at, reason="replaced")
        try:
            with transaction.atomic():
                deployment = Deployment.objects.create(
                    project_id=model_version.project_id,
                    model_id=model_version.model_id,
                    model_version=model_version,
                    environment=environment,
                    strategy=strategy,
                    traffic_percent=traffic_percent,
                    started_at=started_at,
                    ended_at=ended_at,
                    **_created(actor),
                )
        except IntegrityError as exc:  # the constraints, should validation above miss a case
            raise Conflict(
                f"deployment rejected by the database: {exc.__class__.__name__}",
                fields={"environment": ["another direct or blue-green deployment of this model may be live there"]},
            ) from exc
        audit_append(
            actor=actor,
            event_type=Event.DEPLOYMENT_CREATED,
            target=deployment,
            after={
                "model_version": model_version.pk,
                "environment": environment,
                "strategy": strategy,
                "traffic_percent": traffic_percent,
                "started_at": started_at,
                "ended_at": ended_at,
                "backfill": backfill,
                "gate": [{"check": c["check"], "passed": c["passed"]} for c in checks],
            },
        )
    return deployment


def deployment_end(
    *, actor: Actor, deployment: Deployment, ended_at: datetime | None = None, backfill: bool = False
) -> Deployment:
    """End a live deployment, now (give or take the clock skew); `backfill` (code only) allows a past end."""
    now = timezone.now()
    ended_at = ended_at or now
    if not backfill:
        _not_backdated("ended_at", ended_at, now)
    with transaction.atomic():
        current = Deployment.objects.select_for_update().get(pk=deployment.pk)
        if current.ended_at is not None:
            raise Conflict("deployment has already ended", fields={"ended_at": ["already set"]})
        if ended_at <= current.started_at:
            raise field_error("ended_at", "must be after started_at")
        _end(actor, current, ended_at, reason="ended")
    return current


def _end(actor: Actor, deployment: Deployment, ended_at: datetime, *, reason: str) -> None:
    before = deployment.ended_at
    Deployment.objects.filter(pk=deployment.pk).update(ended_at=ended_at)
    deployment.ended_at = ended_at
    audit_append(
        actor=actor,
        event_type=Event.DEPLOYMENT_ENDED,
        target=deployment,
        before={"ended_at": before},
        after={"ended_at": ended_at, "reason": reason},
    )
