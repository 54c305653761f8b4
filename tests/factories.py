"""factory_boy factories for the records of every app (setup only; the code under test uses services)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import factory

from governance.models import Decision
from registry import partitions
from registry.models import Dataset, DataVersion, Deployment, Model, ModelVersion, Project, Run


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    slug = factory.Sequence(lambda n: f"project-{n}")
    name = factory.LazyAttribute(lambda o: o.slug.title())


class DatasetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Dataset

    project = factory.SubFactory(ProjectFactory)
    name = factory.Sequence(lambda n: f"dataset-{n}")
    contains_personal_data = True
    legal_basis = "contract"


class DataVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DataVersion

    dataset = factory.SubFactory(DatasetFactory)
    project = factory.SelfAttribute("dataset.project")
    version = factory.Sequence(lambda n: f"v{n}")
    content_sha256 = factory.LazyAttribute(lambda o: sha(o.version))
    row_count = 100
    schema = factory.LazyFunction(lambda: {"age": "int64", "colour": "object"})


class RunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Run

    project = factory.SubFactory(ProjectFactory)
    name = factory.Sequence(lambda n: f"run-{n}")
    params = factory.LazyFunction(lambda: {"C": 1.0})
    metrics = factory.LazyFunction(lambda: {"accuracy": 0.8})


class ModelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Model

    project = factory.SubFactory(ProjectFactory)
    name = factory.Sequence(lambda n: f"model-{n}")


class ModelVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ModelVersion

    model = factory.SubFactory(ModelFactory)
    project = factory.SelfAttribute("model.project")
    run = factory.SubFactory(RunFactory, project=factory.SelfAttribute("..model.project"))
    version = factory.Sequence(lambda n: n + 1)
    artifact_uri = "file:///tmp/model.pkl"
    artifact_sha256 = factory.LazyAttribute(lambda o: sha(f"artifact-{o.version}"))


class DeploymentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Deployment

    model_version = factory.SubFactory(ModelVersionFactory)
    project = factory.SelfAttribute("model_version.project")
    environment = "production"
    started_at = factory.LazyFunction(lambda: datetime(2026, 1, 1, tzinfo=UTC))


class DecisionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Decision

    model_version = factory.SubFactory(ModelVersionFactory)
    project = factory.SelfAttribute("model_version.project")
    request_id = factory.Sequence(lambda n: f"req-{n}")
    features = factory.LazyFunction(lambda: {"age": 30})
    prediction = "Yes"
    occurred_at = factory.LazyFunction(lambda: datetime(2026, 2, 1, tzinfo=UTC))
    created_at = factory.LazyFunction(lambda: datetime(2026, 2, 1, tzinfo=UTC))

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        # its month's partition, as ingest makes sure of (registry/partitions.py)
        log_months(kwargs["project"], kwargs["occurred_at"])
        return super()._create(model_class, *args, **kwargs)


def log_months(project: Project, *moments: datetime) -> None:
    """The decision log's partitions of a project for these moments (PostgreSQL), for rows a test writes past
    ingest."""
    from governance.services.decisions import ensure_log_partitions

    ensure_log_partitions({(project.pk, partitions.month_of(moment)) for moment in moments})
