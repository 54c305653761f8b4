"""An OpenLineage event (spec 2-0-2: RunEvent, DatasetEvent, JobEvent) decoded into a
`registry.services.LineageReport`, or refused with an InputError naming the JSON path of the first bad field.

Lenient where the protocol's emitters differ (unknown facets kept, `schemaURL` optional, `#/definitions/` and
`#/$defs/` both read), strict where a record depends on it (a run id that is a UUID, named jobs and datasets,
an event time with its date and time)."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime

from registry import services
from registry.audit import canonical_json
from registry.inputs import InputError, to_sane_utc

KINDS = ("RunEvent", "DatasetEvent", "JobEvent")
EVENT_TYPES = ("START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER")
MAX_NAMESPACE = 500
MAX_NAME = 1000
MAX_DATASETS = 1000  # inputs or outputs of one event


def event_kind(event: dict) -> str:
    """As Marquez tells them apart: the suffix of `schemaURL`, else which object the event carries."""
    schema_url = event.get("schemaURL")
    if isinstance(schema_url, str):
        suffix = schema_url.rpartition("/")[2]
        if suffix in KINDS:
            return suffix
    if "run" in event:
        return "RunEvent"
    if "dataset" in event:
        return "DatasetEvent"
    if "job" in event:
        return "JobEvent"
    return "RunEvent"


def decode_event(event: object) -> services.LineageReport:
    if not isinstance(event, dict):
        raise InputError("body", "must be an OpenLineage event (a JSON object)")
    kind = event_kind(event)
    event_time = _time(event.get("eventTime"), "eventTime")
    producer = event.get("producer")
    if not isinstance(producer, str) or not producer.strip():
        raise InputError("producer", "is required: the URI of the software that emitted the event")
    sha256 = hashlib.sha256(canonical_json(event).encode()).hexdigest()
    if kind == "DatasetEvent":
        return services.LineageReport(
            kind=kind, sha256=sha256, event_time=event_time, dataset=_dataset(event.get("dataset"), "dataset")
        )
    job = _job(event.get("job"), "job")
    inputs = _datasets(event.get("inputs"), "inputs", "inputFacets")
    outputs = _datasets(event.get("outputs"), "outputs", "outputFacets")
    if kind == "JobEvent":
        return services.LineageReport(
            kind=kind, sha256=sha256, event_time=event_time, job=job, inputs=inputs, outputs=outputs
        )
    event_type = event.get("eventType", "")
    if event_type is None:
        event_type = ""
    if event_type and event_type not in EVENT_TYPES:
        raise InputError("eventType", f"must be one of {', '.join(EVENT_TYPES)}")
    run = _object(event.get("run"), "run", required=True)
    run_facets = _facets(run.get("facets"), "run.facets")
    return services.LineageReport(
        kind=kind,
        sha256=sha256,
        event_time=event_time,
        event_type=event_type,
        run_id=_run_id(run.get("runId"), "run.runId"),
        job=job,
        run_facets=run_facets,
        parent=_parent(run_facets.get("parent"), "run.facets.parent"),
        inputs=inputs,
        outputs=outputs,
    )


def _time(value: object, path: str) -> datetime:
    if not isinstance(value, str) or "T" not in value.upper():
        raise InputError(path, "must be an ISO 8601 date-time with a time zone, e.g. 2026-11-26T14:02:33+00:00")
    try:
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)  # a time without its zone: read as UTC
        return to_sane_utc(parsed)
    except ValueError as exc:
        detail = str(exc) if str(exc).startswith("must") else "is not an ISO 8601 date-time"
        raise InputError(path, detail) from None


def _object(value: object, path: str, *, required: bool = False) -> dict:
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise InputError(path, "must be an object" if value is not None else "is required")
    return value


def _string(value: object, path: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InputError(path, "is required (a non-empty string)")
    if len(value) > limit:
        raise InputError(path, f"must be at most {limit} characters")
    return value


def _run_id(value: object, path: str) -> str:
    if not isinstance(value, str):
        raise InputError(path, "is required (a UUID)")
    try:
        return uuid.UUID(value).hex
    except ValueError:
        raise InputError(path, "must be a UUID") from None


def _facets(value: object, path: str) -> dict:
    facets = _object(value, path)
    for name, facet in facets.items():
        if not isinstance(facet, dict):
            raise InputError(f"{path}.{name}", "a facet must be an object")
    return facets


def _job(value: object, path: str) -> services.JobReport:
    job = _object(value, path, required=True)
    return services.JobReport(
        namespace=_string(job.get("namespace"), f"{path}.namespace", MAX_NAMESPACE),
        name=_string(job.get("name"), f"{path}.name", MAX_NAME),
        facets=_facets(job.get("facets"), f"{path}.facets"),
    )


def _parent(value: object, path: str) -> services.ParentReport | None:
    if value is None:
        return None
    run = _object(value.get("run"), f"{path}.run", required=True)
    return services.ParentReport(
        run_id=_run_id(run.get("runId"), f"{path}.run.runId"), job=_job(value.get("job"), f"{path}.job")
    )


def _dataset(value: object, path: str, io_key: str = "") -> services.DatasetReport:
    dataset = _object(value, path, required=True)
    return services.DatasetReport(
        namespace=_string(dataset.get("namespace"), f"{path}.namespace", MAX_NAMESPACE),
        name=_string(dataset.get("name"), f"{path}.name", MAX_NAME),
        facets=_facets(dataset.get("facets"), f"{path}.facets"),
        io_facets=_facets(dataset.get(io_key), f"{path}.{io_key}") if io_key else {},
    )


def _datasets(value: object, path: str, io_key: str) -> tuple[services.DatasetReport, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise InputError(path, "must be a list of datasets")
    if len(value) > MAX_DATASETS:
        raise InputError(path, f"at most {MAX_DATASETS} datasets in one event")
    return tuple(_dataset(item, f"{path}[{index}]", io_key) for index, item in enumerate(value))
