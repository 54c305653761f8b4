"""Training runs: what was trained on which data version, in which role (train, validation, test), from which
commit or notebook. Erasure reads the roles: only `train` inputs oblige a retraining."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TypedDict

from django.db import transaction

from registry.actors import Actor
from registry.audit import AuditEventType as Event
from registry.audit import audit_append
from registry.errors import NotFound, field_error
from registry.locks import for_update
from registry.models import DataVersion, Experiment, MetricPoint, Project, Run, RunInput
from registry.services.common import created_by


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
            **created_by(actor),
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


# Runs reported while they happen (MLflow's tracking protocol): started, logged to, ended. The fields a run's
# tags may fill (git commit, source, user, parent) are set through `fields`; the protocol adapter says which.
RUN_FIELDS = frozenset({"git_commit", "git_branch", "notebook_path", "user_name", "source_name", "name", "parent"})
MAX_KEY = 250
MAX_PARAM_VALUE = 6000
MAX_TAG_VALUE = 8000


class MetricSpec(TypedDict):
    key: str
    value: float | None  # None: not a number
    step: int
    timestamp: int  # milliseconds since the epoch
    model_ref: str
    dataset_name: str
    dataset_digest: str


def run_start(
    *,
    actor: Actor,
    project: Project,
    experiment: Experiment,
    name: str,
    run_uuid: str,
    started_at: datetime,
    tags: dict[str, str] | None = None,
    fields: dict | None = None,
    source: str = Run.Source.MLFLOW,
) -> Run:
    if experiment.project_id != project.pk:
        raise field_error("experiment_id", "belongs to another project")
    values = _checked_fields(project, fields or {})
    with transaction.atomic():
        run = Run.objects.create(
            project=project,
            experiment=experiment,
            run_uuid=run_uuid,
            name=values.pop("name", None) or name,
            status=Run.Status.RUNNING,
            source=source,
            started_at=started_at,
            tags=dict(tags or {}),
            **values,
            **created_by(actor),
        )
        audit_append(
            actor=actor,
            event_type=Event.RUN_REGISTERED,
            target=run,
            after={
                "name": run.name,
                "experiment": experiment.number,
                "run_uuid": run_uuid,
                "source": source,
                "status": run.status,
                "tags": run.tags,
                "started_at": started_at.isoformat(),
                "git_commit": run.git_commit,
                "parent": run.parent_id,
            },
        )
    return run


def run_log(
    *,
    actor: Actor,
    run: Run,
    params: dict[str, str] | None = None,
    metrics: Sequence[MetricSpec] = (),
    tags: dict[str, str] | None = None,
    remove_tags: Sequence[str] = (),
    fields: dict | None = None,
) -> None:
    """Params (set once: the same value again is fine, another is refused), metric points (every one kept; the
    run's `metrics` holds each key's latest by step, then time) and tags (the last value wins), in one event."""
    params = params or {}
    tags = tags or {}
    for key, value in params.items():
        _check_key("params", key)
        if len(value) > MAX_PARAM_VALUE:
            raise field_error(f"params.{key}", f"longer than {MAX_PARAM_VALUE} characters")
    for key, value in tags.items():
        _check_key("tags", key)
        if len(value) > MAX_TAG_VALUE:
            raise field_error(f"tags.{key}", f"longer than {MAX_TAG_VALUE} characters")
    for spec in metrics:
        _check_key("metrics", spec["key"])
    values = _checked_fields(run.project, fields or {})
    with transaction.atomic():
        locked = for_update(Run.objects).get(pk=run.pk)
        for key, value in params.items():
            old = locked.params.get(key)
            if old is not None and str(old) != value:
                raise field_error(
                    f"params.{key}",
                    f"was already logged with the value {str(old)[:200]!r} for this run; params are set once "
                    f"(attempted {value[:200]!r})",
                    code="param_changed",
                )
        new_params = {key: value for key, value in params.items() if key not in locked.params}
        latest = _latest_points(metrics)
        changed: dict[str, object] = {}
        if new_params:
            locked.params = {**locked.params, **new_params}
            changed["params"] = locked.params
        if latest:
            metric_values = dict(locked.metrics)
            steps = dict(locked.metric_steps)
            for key, point in latest.items():
                if key not in steps or (point["step"], point["timestamp"]) >= tuple(steps[key]):
                    metric_values[key] = point["value"]
                    steps[key] = [point["step"], point["timestamp"]]
            locked.metrics = metric_values
            locked.metric_steps = steps
            changed["metrics"] = metric_values
            changed["metric_steps"] = steps
        if tags or remove_tags:
            missing = [key for key in remove_tags if key not in locked.tags]
            if missing:
                raise NotFound(f"the run has no tag {missing[0]!r}", fields={"key": ["no such tag"]})
            locked.tags = {k: v for k, v in {**locked.tags, **tags}.items() if k not in set(remove_tags)}
            changed["tags"] = locked.tags
        for name, value in values.items():
            setattr(locked, name, value)
            changed[name] = value
        if changed:
            locked.save(update_fields=list(changed))
        MetricPoint.objects.bulk_create(
            MetricPoint(
                run=locked,
                key=spec["key"],
                value=spec["value"],
                step=spec["step"],
                timestamp=spec["timestamp"],
                model_ref=spec["model_ref"],
                dataset_name=spec["dataset_name"],
                dataset_digest=spec["dataset_digest"],
            )
            for spec in metrics
        )
        audit_append(
            actor=actor,
            event_type=Event.RUN_LOGGED,
            target=locked,
            after={
                "params": new_params,
                "metrics": {key: {"value": p["value"], "step": p["step"]} for key, p in latest.items()},
                "metric_points": len(metrics),
                "tags": tags,
                "removed_tags": list(remove_tags),
                **{name: (value.pk if isinstance(value, Run) else value) for name, value in values.items()},
            },
        )
    for name in ("params", "metrics", "metric_steps", "tags", *values):
        setattr(run, name, getattr(locked, name))


def run_update(
    *, actor: Actor, run: Run, status: str | None = None, ended_at: datetime | None = None, name: str | None = None
) -> Run:
    """A run's end (status and time) or new name; an end once set never moves."""
    if status is not None and status not in Run.Status.values:
        raise field_error("status", f"must be one of {', '.join(Run.Status.values)}")
    with transaction.atomic():
        locked = for_update(Run.objects).get(pk=run.pk)
        before = {"status": locked.status, "ended_at": locked.ended_at, "name": locked.name}
        if status is not None:
            locked.status = status
        if ended_at is not None:
            if locked.ended_at is not None and locked.ended_at != ended_at:
                raise field_error("end_time", "the run has ended already; its end never moves")
            locked.ended_at = ended_at
        if name is not None and name.strip():
            locked.name = name.strip()[:200]
        after = {"status": locked.status, "ended_at": locked.ended_at, "name": locked.name}
        if after != before:
            locked.save(update_fields=["status", "ended_at", "name"])
            audit_append(actor=actor, event_type=Event.RUN_UPDATED, target=locked, before=before, after=after)
    return locked


def run_inputs_log(*, actor: Actor, run: Run, inputs: Sequence[RunInputSpec]) -> list[RunInput]:
    """Data versions a running run reads, each in its role; one logged again adds nothing."""
    for index, spec in enumerate(inputs):
        if spec["data_version"].project_id != run.project_id:
            raise field_error(f"datasets[{index}]", "belongs to another project")
    with transaction.atomic():
        for_update(Run.objects).filter(pk=run.pk).first()
        have = set(RunInput.objects.filter(run=run).values_list("data_version_id", "role"))
        wanted = {(s["data_version"].pk, s["role"]): s for s in inputs}
        added = RunInput.objects.bulk_create(
            RunInput(run=run, data_version=spec["data_version"], role=spec["role"])
            for key, spec in wanted.items()
            if key not in have
        )
        if added:
            audit_append(
                actor=actor,
                event_type=Event.RUN_INPUTS_LOGGED,
                target=run,
                after={"inputs": [{"data_version": link.data_version_id, "role": link.role} for link in added]},
            )
    return added


def _check_key(family: str, key: str) -> None:
    if not key or len(key) > MAX_KEY:
        raise field_error(family, f"a key must be 1 to {MAX_KEY} characters ({key[:40]!r})")


def _checked_fields(project: Project, fields: dict) -> dict:
    unknown = set(fields) - RUN_FIELDS
    if unknown:
        raise ValueError(f"not run fields: {sorted(unknown)}")
    values = dict(fields)
    parent = values.get("parent")
    if parent is not None and parent.project_id != project.pk:
        raise field_error("tags.mlflow.parentRunId", "names a run of another project")
    for name, limit in (("git_commit", 64), ("git_branch", 200), ("user_name", 200), ("source_name", 1000)):
        if name in values:
            values[name] = str(values[name])[:limit]
    return values


def _latest_points(metrics: Sequence[MetricSpec]) -> dict[str, MetricSpec]:
    latest: dict[str, MetricSpec] = {}
    for spec in metrics:
        known = latest.get(spec["key"])
        if known is None or (spec["step"], spec["timestamp"]) >= (known["step"], known["timestamp"]):
            latest[spec["key"]] = spec
    return latest
