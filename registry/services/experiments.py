"""Experiments: named groups of runs in a project. Number 0, "Default", is in every project: it is made (and
audited) the first time anyone reads or logs to it, so every path that can see it finds it; the others are
numbered in their project in creation order."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Max

from registry.actors import Actor
from registry.audit import AuditEventType as Event
from registry.audit import audit_append
from registry.errors import field_error
from registry.locks import for_update
from registry.models import Experiment, Project
from registry.services.common import created_by, unique_or_conflict

MAX_NAME = 500


def experiment_default(*, actor: Actor, project: Project) -> Experiment:
    """The project's experiment 0, created (and audited) the first time it is asked for."""
    found = Experiment.objects.filter(project=project, number=Experiment.DEFAULT_NUMBER).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            experiment = Experiment.objects.create(
                project=project, number=Experiment.DEFAULT_NUMBER, name=Experiment.DEFAULT_NAME, **created_by(actor)
            )
            _audit_created(actor, experiment)
            return experiment
    except IntegrityError:  # a concurrent first ask won the race (or "Default" is taken by another number)
        return Experiment.objects.get(project=project, number=Experiment.DEFAULT_NUMBER)


def experiment_create(*, actor: Actor, project: Project, name: str, tags: dict[str, str] | None = None) -> Experiment:
    name = name.strip()
    if not name:
        raise field_error("name", "must not be empty")
    if len(name) > MAX_NAME:
        raise field_error("name", f"must be at most {MAX_NAME} characters")
    experiment_default(actor=actor, project=project)
    with unique_or_conflict(f"experiment {name!r} already exists in {project.slug}", "name"):
        # Lock the project row so that two creations get consecutive numbers.
        for_update(Project.objects).filter(pk=project.pk).first()
        latest = Experiment.objects.filter(project=project).aggregate(latest=Max("number"))["latest"] or 0
        experiment = Experiment.objects.create(
            project=project, number=latest + 1, name=name, tags=dict(tags or {}), **created_by(actor)
        )
        _audit_created(actor, experiment)
    return experiment


def _audit_created(actor: Actor, experiment: Experiment) -> None:
    audit_append(
        actor=actor,
        event_type=Event.EXPERIMENT_CREATED,
        target=experiment,
        after={"number": experiment.number, "name": experiment.name, "tags": experiment.tags},
    )


def experiment_tags_set(*, actor: Actor, experiment: Experiment, tags: dict[str, str]) -> Experiment:
    with transaction.atomic():
        locked = for_update(Experiment.objects).get(pk=experiment.pk)
        before = dict(locked.tags)
        locked.tags = {**locked.tags, **tags}
        if locked.tags != before:
            locked.save(update_fields=["tags"])
            audit_append(
                actor=actor, event_type=Event.EXPERIMENT_TAGGED, target=locked, before=before, after=locked.tags
            )
    return locked
