"""Artifact files (a run's outputs, a logged model's files) and logged models.

A file is streamed to disk under `ARTIFACT_ROOT/<project id>/<path>` while its sha256 is computed, never held
whole in memory, and written once: the same path again with the same bytes is the same file, other bytes are
refused. The database row (path, size, sha256) is the file's record; listing reads the rows, not the disk.

A logged model's `artifact_sha256`, computed when it is finalized, is the digest of its files:
sha256 over the lines `<path relative to the model's artifact prefix>\\t<size>\\t<sha256 of the file>\\n`, one per
file, sorted by path (UTF-8). It depends on every file's bytes and name and on nothing else (not on the order of
upload nor on time), so the same model files always give the same digest."""

from __future__ import annotations

import hashlib
import os
import posixpath
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from registry.actors import Actor
from registry.audit import AuditEventType as Event
from registry.audit import audit_append
from registry.errors import Conflict, TooLarge, field_error
from registry.locks import for_update
from registry.models import Artifact, Experiment, LoggedModel, Project, Run
from registry.services.common import created_by

CHUNK = 1024 * 1024
MAX_PATH = 1500


def artifact_path_clean(path: str) -> str:
    """A relative POSIX path with no empty, `.` or `..` segment (else a 400 naming `path`)."""
    if not path or len(path) > MAX_PATH:
        raise field_error("path", f"must be 1 to {MAX_PATH} characters")
    if path.startswith("/") or "\\" in path or "\x00" in path:
        raise field_error("path", "must be a relative path with forward slashes")
    parts = path.split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise field_error("path", "must not contain empty, '.' or '..' segments")
    return posixpath.join(*parts)


def artifact_file(project_id: int, path: str) -> Path:
    return Path(settings.ARTIFACT_ROOT) / str(project_id) / path


def artifact_store(
    *,
    actor: Actor,
    project: Project,
    path: str,
    stream: BinaryIO,
    content_type: str = "",
    run: Run | None = None,
    logged_model: LoggedModel | None = None,
) -> Artifact:
    path = artifact_path_clean(path)
    limit = settings.ARTIFACT_MAX_BYTES
    if logged_model is not None and logged_model.status != LoggedModel.Status.PENDING:
        raise field_error("path", f"logged model {logged_model.model_id} is finalized; its files no longer change")
    final = artifact_file(project.pk, path)
    temp_dir = Path(settings.ARTIFACT_ROOT) / ".incoming"  # beside the projects' folders (named by number)
    temp_dir.mkdir(parents=True, exist_ok=True)
    temp = temp_dir / uuid.uuid4().hex
    digest = hashlib.sha256()
    size = 0
    try:
        with open(temp, "wb") as out:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise TooLarge(f"the file is larger than {limit} bytes (ARTIFACT_MAX_BYTES)", fields={"body": []})
                digest.update(chunk)
                out.write(chunk)
        sha256 = digest.hexdigest()
        with transaction.atomic():
            existing = for_update(Artifact.objects).filter(project=project, path=path).first()
            if existing is not None:
                if existing.sha256 != sha256:
                    raise Conflict(
                        f"artifact {path} is stored already with other content; artifacts are written once",
                        fields={"path": ["already stored with other content"]},
                    )
                return existing
            artifact = Artifact.objects.create(
                project=project,
                path=path,
                run=run,
                logged_model=logged_model,
                size=size,
                sha256=sha256,
                content_type=content_type[:200],
            )
            audit_append(
                actor=actor,
                event_type=Event.ARTIFACT_STORED,
                target=artifact,
                project_id=project.pk,
                after={
                    "path": path,
                    "size": size,
                    "sha256": sha256,
                    "run": run.pk if run is not None else None,
                    "logged_model": logged_model.model_id if logged_model is not None else None,
                },
            )
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(temp, final)
        return artifact
    finally:
        temp.unlink(missing_ok=True)


def logged_model_create(
    *,
    actor: Actor,
    project: Project,
    experiment: Experiment,
    name: str,
    run: Run | None = None,
    params: dict[str, str] | None = None,
    tags: dict[str, str] | None = None,
    model_type: str = "",
) -> LoggedModel:
    if experiment.project_id != project.pk:
        raise field_error("experiment_id", "belongs to another project")
    if run is not None and run.project_id != project.pk:
        raise field_error("source_run_id", "names a run of another project")
    if not name.strip():
        raise field_error("name", "must not be empty")
    with transaction.atomic():
        model = LoggedModel.objects.create(
            project=project,
            model_id=f"m-{uuid.uuid4().hex}",
            experiment=experiment,
            run=run,
            name=name.strip()[:500],
            model_type=model_type[:200],
            params=dict(params or {}),
            tags=dict(tags or {}),
            **created_by(actor),
        )
        audit_append(
            actor=actor,
            event_type=Event.LOGGED_MODEL_CREATED,
            target=model,
            after={"model_id": model.model_id, "name": model.name, "run": run.pk if run else None},
        )
    return model


def logged_model_update(
    *,
    actor: Actor,
    logged_model: LoggedModel,
    status: str | None = None,
    tags: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
    remove_tags: Iterable[str] = (),
) -> LoggedModel:
    """Finalize (ready: its files are digested into `artifact_sha256`; failed), tag or add params. A model is
    finalized once; its digest never changes after."""
    if status is not None and status not in (LoggedModel.Status.READY, LoggedModel.Status.FAILED):
        raise field_error("status", "must be ready or failed")
    with transaction.atomic():
        locked = for_update(LoggedModel.objects).get(pk=logged_model.pk)
        before = {"status": locked.status, "artifact_sha256": locked.artifact_sha256}
        after: dict[str, object] = {}
        if status is not None and status != locked.status:
            if locked.status != LoggedModel.Status.PENDING:
                raise field_error("status", f"the model is finalized already ({locked.status})")
            locked.status = status
            locked.finalized_at = timezone.now()
            if status == LoggedModel.Status.READY:
                locked.artifact_sha256 = logged_model_digest(locked)
            after.update(status=status, artifact_sha256=locked.artifact_sha256)
        if tags or remove_tags:
            locked.tags = {k: v for k, v in {**locked.tags, **(tags or {})}.items() if k not in set(remove_tags)}
            after["tags"] = locked.tags
        if params:
            for key, value in params.items():
                if key in locked.params and locked.params[key] != value:
                    raise field_error(f"params.{key}", "was already set to another value; params are set once")
            locked.params = {**locked.params, **params}
            after["params"] = locked.params
        if after:
            locked.save()
            audit_append(actor=actor, event_type=Event.LOGGED_MODEL_UPDATED, target=locked, before=before, after=after)
    return locked


def logged_model_prefix(logged_model: LoggedModel) -> str:
    """Where a logged model's files are, relative to its project's artifact root (MLflow's layout)."""
    return f"{logged_model.experiment.number}/models/{logged_model.model_id}/artifacts"


def logged_model_digest(logged_model: LoggedModel) -> str:
    return artifact_tree_digest(logged_model.project_id, logged_model_prefix(logged_model))


def artifact_tree_digest(project_id: int, prefix: str) -> str:
    """The digest of the files under a folder (the definition in this module's docstring); "" when it is empty."""
    prefix = prefix.rstrip("/") + "/"
    rows = Artifact.objects.filter(project_id=project_id, path__startswith=prefix).values_list("path", "size", "sha256")
    lines = sorted(f"{path[len(prefix) :]}\t{size}\t{sha256}\n" for path, size, sha256 in rows)
    return hashlib.sha256("".join(lines).encode()).hexdigest() if lines else ""
