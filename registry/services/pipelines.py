"""Pipeline runs as OpenLineage reports them: a job's run reads data versions and writes new ones, and each
version it writes is derived from each version it read, so lineage and erasure traces follow a pipeline
transitively (raw table -> feature table -> training run -> model version -> decisions).

The rules of merging a run's events (the protocol sends several per run, in any order, possibly twice):
- An event is known by the sha256 of its canonical JSON: the same event again changes nothing.
- The run's status is that of its latest terminal event by event time (COMPLETE, FAIL, ABORT); START and
  RUNNING set it running only while no terminal event was seen; OTHER leaves it. `started_at` is the
  earliest event time seen, `ended_at` the terminal event's.
- Facets (of the job, the run, each dataset) are replaced whole, a facet by the newest event that carries it
  (by event time, so a late START does not undo what COMPLETE said); `_deleted: true` removes one.
- Inputs and outputs are the union over the run's events. An input is the version its `version` facet names,
  else the dataset's current version (its latest, or a first one when the dataset has none). An output is
  the version its `version` facet names, else one version per run (its fingerprint: the dataset's URI and
  the run id), so that a run's START and COMPLETE name the same output.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.db import IntegrityError, transaction

from registry.actors import Actor
from registry.audit import AuditEventType as Event
from registry.audit import audit_append
from registry.errors import field_error
from registry.locks import for_update
from registry.models import (
    Dataset,
    DataVersion,
    DataVersionParent,
    Job,
    LineageEvent,
    PipelineRun,
    Project,
    Run,
    RunInput,
    RunOutput,
)
from registry.services.common import created_by
from registry.services.data import data_version_ensure, dataset_ensure

TERMINAL = {"COMPLETE": Run.Status.FINISHED, "FAIL": Run.Status.FAILED, "ABORT": Run.Status.KILLED}
ACTIVE = {"START", "RUNNING"}
EVENT_TYPES = ACTIVE | set(TERMINAL) | {"OTHER"}
MAX_VERSION = 100  # DataVersion.version


@dataclass(frozen=True)
class DatasetReport:
    namespace: str
    name: str
    facets: dict = field(default_factory=dict)  # dataset facets (schema, dataSource, version, columnLineage...)
    io_facets: dict = field(default_factory=dict)  # inputFacets or outputFacets

    @property
    def uri(self) -> str:
        return dataset_uri(self.namespace, self.name)


@dataclass(frozen=True)
class JobReport:
    namespace: str
    name: str
    facets: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ParentReport:
    run_id: str  # 32 hex digits
    job: JobReport


@dataclass(frozen=True)
class LineageReport:
    """One OpenLineage event, decoded and checked by the protocol adapter."""

    kind: str  # RunEvent, DatasetEvent, JobEvent
    sha256: str  # of the event's canonical JSON
    event_time: datetime
    event_type: str = ""  # RunEvent only; "" when the event names none
    run_id: str = ""  # 32 hex digits (RunEvent)
    job: JobReport | None = None  # RunEvent, JobEvent
    run_facets: dict = field(default_factory=dict)
    parent: ParentReport | None = None
    inputs: Sequence[DatasetReport] = ()
    outputs: Sequence[DatasetReport] = ()
    dataset: DatasetReport | None = None  # DatasetEvent


@dataclass(frozen=True)
class LineageResult:
    recorded: bool  # False: the same event was recorded before
    run: Run | None = None


def dataset_uri(namespace: str, name: str) -> str:
    """OpenLineage's dataset identity as one URI (its naming spec): `file` + `/data/x.csv` is
    `file:///data/x.csv`, `s3://bucket` + `features/train.parquet` is `s3://bucket/features/train.parquet`."""
    namespace = namespace.strip()
    if namespace == "file":
        return "file://" + (name if name.startswith("/") else "/" + name)
    return namespace.rstrip("/") + "/" + name.lstrip("/")


def lineage_event_record(*, actor: Actor, project: Project, report: LineageReport) -> LineageResult:
    with transaction.atomic():
        try:
            with transaction.atomic():
                event = LineageEvent.objects.create(
                    project=project,
                    sha256=report.sha256,
                    kind=report.kind,
                    event_type=report.event_type,
                    event_time=report.event_time,
                )
        except IntegrityError:
            return LineageResult(recorded=False)
        job = _job_ensure(actor, project, report.job, report.event_time) if report.job else None
        if report.kind == "DatasetEvent" and report.dataset is not None:
            dataset = _dataset_ensure(actor, project, report.dataset, report.event_time)
            version = _reported_version(actor, dataset, report.dataset)
            audit_append(
                actor=actor,
                event_type=Event.LINEAGE_EVENT_RECORDED,
                target=dataset,
                after=_after(report, versions={"dataset": version.pk if version else None}),
            )
            return LineageResult(recorded=True)
        if report.kind == "JobEvent" or not report.run_id:
            for item in [*report.inputs, *report.outputs]:
                _dataset_ensure(actor, project, item, report.event_time)
            LineageEvent.objects.filter(pk=event.pk).update(job=job)
            audit_append(actor=actor, event_type=Event.LINEAGE_EVENT_RECORDED, target=job, after=_after(report))
            return LineageResult(recorded=True)
        run, pipeline = _run_ensure(actor, project, report.run_id, job)
        _merge_run(actor, project, run, pipeline, report)
        inputs = [_input_version(actor, project, item, report.event_time) for item in report.inputs]
        outputs = [_output_version(actor, project, item, report) for item in report.outputs]
        for item, version in zip(report.inputs, inputs, strict=True):
            _link(RunInput, run, version, item.io_facets, role=RunInput.Role.INPUT)
        for item, version in zip(report.outputs, outputs, strict=True):
            _link(RunOutput, run, version, {**item.facets, **item.io_facets})
        derived = _derive(run, job)
        LineageEvent.objects.filter(pk=event.pk).update(run=run, job=job)
        audit_append(
            actor=actor,
            event_type=Event.LINEAGE_EVENT_RECORDED,
            target=run,
            after=_after(
                report,
                versions={"inputs": [v.pk for v in inputs], "outputs": [v.pk for v in outputs]},
                status=run.status,
                derived=derived,
            ),
        )
    return LineageResult(recorded=True, run=run)


def _after(report: LineageReport, **extra) -> dict:
    return {
        "kind": report.kind,
        "event_type": report.event_type,
        "event_time": report.event_time.isoformat(),
        "sha256": report.sha256,
        "run_id": report.run_id,
        "job": f"{report.job.namespace}/{report.job.name}" if report.job else "",
        **extra,
    }


def _merge_facets(stored: dict, reported: dict, at: datetime) -> dict:
    """Each facet the newest reported by event time, as {name: {"at": iso time, "value": facet}}."""
    merged = dict(stored)
    stamp = at.astimezone(UTC).isoformat()  # one offset, so the strings order as the times do
    for name, value in reported.items():
        known = merged.get(name)
        if known is not None and known.get("at", "") > stamp:
            continue
        if isinstance(value, dict) and value.get("_deleted") is True:
            merged.pop(name, None)
        else:
            merged[name] = {"at": stamp, "value": value}
    return merged


def _job_ensure(actor: Actor, project: Project, report: JobReport, at: datetime) -> Job:
    job = Job.objects.filter(project=project, namespace=report.namespace, name=report.name).first()
    if job is None:
        try:
            with transaction.atomic():
                job = Job.objects.create(
                    project=project, namespace=report.namespace, name=report.name, **created_by(actor)
                )
                audit_append(
                    actor=actor,
                    event_type=Event.JOB_CREATED,
                    target=job,
                    after={"namespace": job.namespace, "name": job.name},
                )
        except IntegrityError:  # a concurrent event created it first
            job = Job.objects.get(project=project, namespace=report.namespace, name=report.name)
    if report.facets:
        job = for_update(Job.objects).get(pk=job.pk)
        merged = _merge_facets(job.facets, report.facets, at)
        if merged != job.facets:
            job.facets = merged
            job.save(update_fields=["facets"])
    return job


def _dataset_ensure(actor: Actor, project: Project, report: DatasetReport, at: datetime) -> Dataset:
    dataset = dataset_ensure(actor=actor, project=project, name=report.name, source_uri=report.uri)
    facets = {k: v for k, v in report.facets.items() if k != "version"}  # a version is the version's, not the set's
    if facets:
        dataset = for_update(Dataset.objects).get(pk=dataset.pk)
        merged = _merge_facets(dataset.facets, facets, at)
        if merged != dataset.facets:
            dataset.facets = merged
            dataset.save(update_fields=["facets"])
    return dataset


def _schema(facets: dict) -> dict:
    """The schema facet's fields as our schema (column -> type), nested fields as `parent.child`."""
    out: dict[str, str] = {}
    stack = [("", (facets.get("schema") or {}).get("fields") or [])]
    while stack:
        prefix, fields = stack.pop()
        for item in fields if isinstance(fields, list) else []:
            if not isinstance(item, dict) or not isinstance(item.get("name"), str):
                continue
            name = prefix + item["name"]
            out[name] = str(item.get("type") or "unknown")
            if isinstance(item.get("fields"), list) and item["fields"]:
                stack.append((name + ".", item["fields"]))
    return out


def _row_count(report: DatasetReport) -> int | None:
    for facet in ("outputStatistics", "inputStatistics", "dataQualityMetrics"):
        rows = (report.io_facets.get(facet) or {}).get("rowCount")
        if isinstance(rows, int) and not isinstance(rows, bool) and rows >= 0:
            return rows
    return None


def _version_label(dataset_version: str) -> str:
    if len(dataset_version) <= MAX_VERSION:
        return dataset_version
    return "sha256:" + hashlib.sha256(dataset_version.encode()).hexdigest()


def _ensure_version(actor: Actor, dataset: Dataset, report: DatasetReport, label: str, digest: str) -> DataVersion:
    return data_version_ensure(
        actor=actor,
        dataset=dataset,
        version=label,
        digest=digest,
        row_count=_row_count(report),
        schema=_schema(report.facets),
        storage_uri=report.uri,
    )


def _reported_version(actor: Actor, dataset: Dataset, report: DatasetReport) -> DataVersion | None:
    reported = (report.facets.get("version") or {}).get("datasetVersion")
    if isinstance(reported, str) and reported:
        return _ensure_version(actor, dataset, report, _version_label(reported), reported[:200])
    return None


def _input_version(actor: Actor, project: Project, report: DatasetReport, at: datetime) -> DataVersion:
    dataset = _dataset_ensure(actor, project, report, at)
    reported = _reported_version(actor, dataset, report)
    if reported is not None:
        return reported
    current = DataVersion.objects.filter(dataset=dataset).order_by("-created_at", "-pk").first()
    if current is not None:
        return current
    fingerprint = hashlib.sha256(f"{report.uri}\n{sorted(_schema(report.facets).items())}".encode()).hexdigest()
    return _ensure_version(actor, dataset, report, f"ol:{fingerprint[:16]}", f"ol:{fingerprint}")


def _output_version(actor: Actor, project: Project, report: DatasetReport, event: LineageReport) -> DataVersion:
    dataset = _dataset_ensure(actor, project, report, event.event_time)
    reported = _reported_version(actor, dataset, report)
    if reported is not None:
        return reported
    fingerprint = hashlib.sha256(f"{report.uri}\n{event.run_id}".encode()).hexdigest()
    return _ensure_version(actor, dataset, report, f"ol:{fingerprint[:16]}", f"ol:{fingerprint}")


def _run_ensure(actor: Actor, project: Project, run_id: str, job: Job | None) -> tuple[Run, PipelineRun]:
    """The run with this OpenLineage runId in the project, locked (every event of a run merges under the lock),
    created with its job the first time."""
    run = Run.objects.filter(project=project, run_uuid=run_id).first()
    if run is None:
        if job is None:
            raise field_error("run.runId", "a run's first event must name its job")
        try:
            with transaction.atomic():
                run = Run.objects.create(
                    project=project,
                    run_uuid=run_id,
                    name=job.name[:200],
                    status=Run.Status.RUNNING,
                    source=Run.Source.OPENLINEAGE,
                    **created_by(actor),
                )
                PipelineRun.objects.create(run=run, job=job)
                audit_append(
                    actor=actor,
                    event_type=Event.RUN_REGISTERED,
                    target=run,
                    after={
                        "name": run.name,
                        "run_uuid": run_id,
                        "source": run.source,
                        "status": run.status,
                        "job": str(job),
                    },
                )
        except IntegrityError:  # a concurrent event of the same run created it first
            pass
    run = for_update(Run.objects).get(project=project, run_uuid=run_id)
    if run.source != Run.Source.OPENLINEAGE:
        raise field_error("run.runId", f"names a {run.source} run of this project, not a pipeline run")
    pipeline = PipelineRun.objects.select_related("job").get(run=run)
    if job is not None and pipeline.job_id != job.pk:
        raise field_error("job", f"run {run_id} is a run of job {pipeline.job}, not of {job}")
    return run, pipeline


def _merge_run(actor: Actor, project: Project, run: Run, pipeline: PipelineRun, report: LineageReport) -> None:
    at = report.event_time
    if report.event_type in TERMINAL and (pipeline.terminal_at is None or at >= pipeline.terminal_at):
        run.status, run.ended_at, pipeline.terminal_at = TERMINAL[report.event_type], at, at
    elif report.event_type in ACTIVE and pipeline.terminal_at is None:
        run.status = Run.Status.RUNNING
    if run.started_at is None or at < run.started_at:
        run.started_at = at
    if report.parent is not None and run.parent_id is None and report.parent.run_id != run.run_uuid:
        parent_job = _job_ensure(actor, project, report.parent.job, at)
        parent, _ = _run_ensure(actor, project, report.parent.run_id, parent_job)
        run.parent = parent
    run.save(update_fields=["status", "started_at", "ended_at", "parent"])
    pipeline.facets = _merge_facets(pipeline.facets, report.run_facets, at)
    error = (report.run_facets.get("errorMessage") or {}).get("message")
    if isinstance(error, str) and report.event_type == "FAIL":
        pipeline.error_message = error[:10_000]
    if pipeline.last_event_at is None or at > pipeline.last_event_at:
        pipeline.last_event_at = at
    pipeline.save(update_fields=["facets", "error_message", "last_event_at", "terminal_at"])


def _link(model, run: Run, version: DataVersion, facets: dict, **fields) -> None:
    link, created = model.objects.get_or_create(run=run, data_version=version, **fields, defaults={"facets": facets})
    if not created and facets and {**link.facets, **facets} != link.facets:
        link.facets = {**link.facets, **facets}
        link.save(update_fields=["facets"])


def _derive(run: Run, job: Job | None) -> list[list[int]]:
    """Each version the run wrote derives from each version it read: the edges added now, as [child, parent]."""
    reads = set(RunInput.objects.filter(run=run, role=RunInput.Role.INPUT).values_list("data_version_id", flat=True))
    writes = set(RunOutput.objects.filter(run=run).values_list("data_version_id", flat=True))
    wanted = {(child, parent) for child in writes for parent in reads if child != parent}
    known = set(
        DataVersionParent.objects.filter(child_id__in=writes, parent_id__in=reads).values_list("child_id", "parent_id")
    )
    new = sorted(wanted - known)
    name = str(run.pipeline.job) if job is None else str(job)
    DataVersionParent.objects.bulk_create(
        [DataVersionParent(child_id=c, parent_id=p, transformation=f"pipeline {name}") for c, p in new],
        ignore_conflicts=True,
    )
    return [list(edge) for edge in new]
