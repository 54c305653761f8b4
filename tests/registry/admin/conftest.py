"""Fixtures of the registry admin tests."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from registry import services
from registry.actors import Actor
from registry.models import (
    StageTransition,
    SubjectIndex,
)


@pytest.fixture
def records(chain):
    """One record of every registry model, in project `acme`."""
    key, _ = services.api_key_create(actor=Actor.system(), project=chain.project, role="ingest", name="scoring service")
    services.subjects_index(actor=Actor.system(), data_version=chain.train, subject_ids=["alice", "bob"])
    services.model_version_transition(
        actor=Actor.system(), model_version=chain.version, to_stage="staging", reason="validated offline"
    )
    person = get_user_model().objects.create_user("dora")
    membership = services.membership_set(actor=Actor.system(), user=person, project=chain.project, role="risk_analyst")
    chain.key = key
    chain.membership = membership
    chain.subject = SubjectIndex.objects.filter(data_version=chain.train).first()
    chain.transition = StageTransition.objects.get(model_version=chain.version)
    return chain
