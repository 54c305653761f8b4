"""Training runs: what was trained on which data version, in which role (train, validation, test), from which
commit or notebook. Erasure reads the roles: only `train` inputs oblige a retraining."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypedDict

from django.db import transaction

from registry.actors import Actor
from registry.audit import AuditEventType as Event
from registry.audit import audit_append
from registry.errors import field_error
from registry.models import DataVersion, Project, Run, RunInput
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
