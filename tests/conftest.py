from __future__ import annotations

from types import SimpleNamespace

import pytest
from rest_framework.test import APIClient

from registry import services
from registry.actors import Actor
from registry.models import RunInput
from tests import factories as f

# the real Celery worker and beat of the job tests (fixtures `workers`, `broker`, `control`): tests/celery_processes.py
pytest_plugins = ["tests.celery_processes"]


def _flush_past_append_only_triggers() -> None:
    """Tests with `transaction=True` empty the database with TRUNCATE between tests, which the append-only
    tables refuse (migrations registry 0009, llmops 0004, governance 0010). The test harness connects as the
    superuser and flushes with the triggers off for that transaction only (`session_replication_role`, which
    only a superuser may set): the application role of a deployment can do neither (README.md)."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    original = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        statements = original(self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        return ["SET LOCAL session_replication_role = replica;", *statements] if statements else statements

    DatabaseOperations.sql_flush = sql_flush


_flush_past_append_only_triggers()


@pytest.fixture
def project(db):
    return f.ProjectFactory(slug="acme", name="Acme Bank")


@pytest.fixture
def other_project(db):
    return f.ProjectFactory(slug="globex", name="Globex")


@pytest.fixture
def anon():
    return APIClient()


@pytest.fixture
def make_client(db):
    """make_client(role, project, owner=None) -> an APIClient sending a fresh key of that role and project
    (held by `owner`, a user, when given; a service key otherwise)."""

    def make(role: str, project, owner=None) -> APIClient:
        _, raw = services.api_key_create(
            actor=Actor.system(), project=project, role=role, name=f"{role} test key", owner=owner
        )
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        client.raw_key = raw
        return client

    return make


@pytest.fixture
def superuser_client(django_user_model):
    user = django_user_model.objects.create_superuser("root", "root@example.invalid", "pw")
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def chain(project):
    """A full lineage: raw data -> train split -> run -> model version -> deployment."""
    raw = f.DataVersionFactory(dataset__project=project, version="raw")
    train = f.DataVersionFactory(dataset=raw.dataset, version="train")
    train.parent_links.create(parent=raw, transformation="70% split")
    run = f.RunFactory(project=project)
    RunInput.objects.create(run=run, data_version=train, role="train")
    model = f.ModelFactory(project=project, name="credit")
    version = f.ModelVersionFactory(model=model, run=run, version=1)
    deployment = f.DeploymentFactory(model_version=version)
    return SimpleNamespace(
        project=project, raw=raw, train=train, run=run, model=model, version=version, deployment=deployment
    )


@pytest.fixture
def admin_client(db, django_user_model):
    """A superuser logged into admin (`.user` is the user)."""
    from django.test import Client

    user = django_user_model.objects.create_superuser("root", "root@example.invalid", "pw")
    client = Client()
    client.force_login(user)
    client.user = user
    return client
