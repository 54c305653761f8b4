"""Datasets, their immutable versions (with the derived-from links) and subject indexes.

The subject index is where erasure finds a person, so it is written here under the same suppression lock the
erasure takes; `suppressed_keys` is the one read of the suppression list every ingest (decisions, LLM calls)
consults."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction

from registry import bulk
from registry.actors import Actor
from registry.audit import AuditEventType as Event
from registry.audit import audit_append
from registry.errors import ServiceError, field_error
from registry.models import Dataset, DataVersion, DataVersionParent, Project, SubjectIndex, SuppressedSubject
from registry.services.common import created_by, unique_or_conflict
from registry.subjects import InvalidSubjectId, current_key_id, subject_key, suppression_lock

MAX_SUBJECTS_PER_REQUEST = 100_000


def dataset_create(
    *,
    actor: Actor,
    project: Project,
    name: str,
    contains_personal_data: bool,
    legal_basis: str = "",
    description: str = "",
    source_uri: str = "",
) -> Dataset:
    if contains_personal_data and not legal_basis:
        raise field_error("legal_basis", "is required when the dataset contains personal data")
    with unique_or_conflict(f"dataset {name!r} already exists in {project.slug}", "name"):
        dataset = Dataset.objects.create(
            project=project,
            name=name,
            description=description,
            contains_personal_data=contains_personal_data,
            legal_basis=legal_basis,
            source_uri=source_uri,
            **created_by(actor),
        )
        audit_append(
            actor=actor,
            event_type=Event.DATASET_CREATED,
            target=dataset,
            after={
                "name": name,
                "contains_personal_data": contains_personal_data,
                "legal_basis": legal_basis,
                "source_uri": source_uri,
            },
        )
    return dataset


def canonical_uri(uri: str) -> str:
    """One spelling per location, so that tools naming the same file name one dataset: a local absolute path is
    a `file://` URI (`/data/x.csv` and `file:///data/x.csv` are one), a trailing slash is dropped."""
    uri = uri.strip()
    if uri.startswith("/") and not uri.startswith("//"):
        uri = "file://" + uri
    return uri.rstrip("/") if len(uri) > 1 and "://" in uri and not uri.endswith(":///") else uri


def dataset_ensure(
    *, actor: Actor, project: Project, name: str, source_uri: str = "", description: str = ""
) -> Dataset:
    """The dataset a tool reports: by its source URI when it has one (one URI is one dataset, whoever reports it),
    else by name. A new one is created as not declared to hold personal data, and says so in its description
    until a person declares it (admin)."""
    source_uri = canonical_uri(source_uri)
    name = (name or source_uri or "dataset").strip()[:200]
    if source_uri:
        found = Dataset.objects.filter(project=project, source_uri=source_uri).first()
    else:
        found = Dataset.objects.filter(project=project, name=name, source_uri="").first()
    if found is not None:
        return found
    if Dataset.objects.filter(project=project, name=name).exists():
        name = source_uri[-200:] if source_uri else name  # the name is another dataset's: the URI names this one
    try:
        return dataset_create(
            actor=actor,
            project=project,
            name=name,
            contains_personal_data=False,
            description=description or "reported by a tool; whether it holds personal data is not declared yet",
            source_uri=source_uri,
        )
    except ServiceError:  # a concurrent report created it first
        lookup = {"source_uri": source_uri} if source_uri else {"name": name}
        found = Dataset.objects.filter(project=project, **lookup).first()
        if found is None:
            raise
        return found


def data_version_ensure(
    *,
    actor: Actor,
    dataset: Dataset,
    version: str,
    digest: str,
    row_count: int | None,
    schema: dict | list,
    profile: dict | None = None,
    storage_uri: str = "",
) -> DataVersion:
    """The version a tool reports by its own digest (no content hash of ours: we never saw the content); the
    same digest reported again is the same version."""
    found = DataVersion.objects.filter(dataset=dataset, version=version).first()
    if found is not None:
        return found
    try:
        return data_version_register(
            actor=actor,
            dataset=dataset,
            version=version,
            content_sha256="",
            row_count=row_count,
            schema=schema,
            profile=profile,
            storage_uri=storage_uri,
            digest=digest,
        )
    except ServiceError:
        found = DataVersion.objects.filter(dataset=dataset, version=version).first()
        if found is None:
            raise
        return found


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
    digest: str = "",
) -> DataVersion:
    for index, parent in enumerate(parents):
        if parent.project_id != dataset.project_id:
            raise field_error(f"parents[{index}]", "belongs to another project")
    with unique_or_conflict(
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
            digest=digest,
            **created_by(actor),
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
                "digest": digest,
                "storage_uri": storage_uri,
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
