"""The model card service: a version's intended use, limitations and (its model's) risk tier stay editable,
audited, until the version has been in production, and never while an open incident names it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from registry import services
from registry.actors import Actor
from registry.errors import ServiceError
from registry.models import AuditEvent, Model, ModelVersion, StageTransition
from tests import factories as f

CARD_EVENT = "model_version.card_updated"


@pytest.fixture
def version(chain):
    return chain.version


def _actor(role: str, project) -> Actor:
    return Actor(roles={project.pk: role})


def _events():
    return list(AuditEvent.objects.filter(event_type=CARD_EVENT).order_by("seq"))


def test_a_card_edit_is_audited_with_only_the_changed_fields(version):
    ModelVersion.objects.filter(pk=version.pk).update(limitations="old limits")
    version.refresh_from_db()
    updated = services.model_version_card_update(
        actor=_actor("data_scientist", version.project),
        model_version=version,
        intended_use="credit pre-screening",
        limitations="old limits",
    )
    assert updated.intended_use == "credit pre-screening"
    assert ModelVersion.objects.get(pk=version.pk).intended_use == "credit pre-screening"
    [event] = _events()
    assert event.before == {"intended_use": ""}
    assert event.after == {"intended_use": "credit pre-screening"}
    assert event.target_id == str(version.pk)
    assert event.project_id == version.project_id


def test_the_risk_tier_is_the_models_and_the_event_says_so(version):
    services.model_version_card_update(
        actor=_actor("compliance_officer", version.project), model_version=version, risk_tier="high"
    )
    assert Model.objects.get(pk=version.model_id).risk_tier == "high"
    assert version.model.risk_tier == "high"
    [event] = _events()
    assert event.before == {"risk_tier": "limited"}
    assert event.after["risk_tier"] == "high"
    assert "every version" in event.after["risk_tier_of"]


def test_a_call_that_changes_nothing_writes_nothing(version):
    ModelVersion.objects.filter(pk=version.pk).update(intended_use="same")
    version.refresh_from_db()
    before = AuditEvent.objects.count()
    services.model_version_card_update(
        actor=_actor("data_scientist", version.project),
        model_version=version,
        intended_use="same",
        risk_tier=version.model.risk_tier,
    )
    services.model_version_card_update(actor=_actor("data_scientist", version.project), model_version=version)
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize("stage", ["production", "archived", "staging"])
def test_the_card_is_frozen_once_the_version_has_been_in_production(version, stage):
    ModelVersion.objects.filter(pk=version.pk).update(stage=stage)
    if stage != "production":  # it was in production, then archived or sent back to staging
        StageTransition.objects.create(model_version=version, from_stage="staging", to_stage="production", reason="r")
    version.refresh_from_db()
    with pytest.raises(ServiceError) as refused:
        services.model_version_card_update(
            actor=_actor("data_scientist", version.project), model_version=version, intended_use="rewritten"
        )
    assert refused.value.status_code == 409
    assert refused.value.code == "card_frozen"
    assert ModelVersion.objects.get(pk=version.pk).intended_use == ""
    assert _events() == []


def test_a_staging_version_never_in_production_is_editable(version):
    ModelVersion.objects.filter(pk=version.pk).update(stage="staging")
    version.refresh_from_db()
    services.model_version_card_update(
        actor=_actor("data_scientist", version.project), model_version=version, limitations="small data"
    )
    assert len(_events()) == 1


def test_the_risk_tier_cannot_change_under_another_version_serving_production(version):
    f.ModelVersionFactory(model=version.model, run=version.run, version=2, stage="production")
    with pytest.raises(ServiceError) as refused:
        services.model_version_card_update(
            actor=_actor("data_scientist", version.project), model_version=version, risk_tier="minimal"
        )
    assert refused.value.status_code == 409
    assert "risk_tier" in refused.value.fields
    assert Model.objects.get(pk=version.model_id).risk_tier == "limited"
    assert _events() == []


def _open_incident(version, **extra):
    from governance.services.incidents import incident_open

    return incident_open(
        actor=Actor.system(),
        project=version.project,
        title="biased refusals",
        description="d",
        category="other",
        aware_at=datetime(2026, 3, 1, tzinfo=UTC),
        model_versions=[version],
        **extra,
    )


def test_the_card_is_refused_while_an_open_incident_names_the_version(version):
    incident = _open_incident(version)
    with pytest.raises(ServiceError) as refused:
        services.model_version_card_update(
            actor=_actor("compliance_officer", version.project), model_version=version, intended_use="after the fact"
        )
    assert refused.value.status_code == 409
    assert refused.value.code == "frozen"
    assert f"incident {incident.pk}" in refused.value.message
    assert "Art. 73" in refused.value.message
    assert ModelVersion.objects.get(pk=version.pk).intended_use == ""
    assert _events() == []


def test_the_risk_tier_is_refused_while_an_incident_names_another_version_of_the_model(version):
    sibling = f.ModelVersionFactory(model=version.model, run=version.run, version=2)
    _open_incident(sibling)
    with pytest.raises(ServiceError) as refused:
        services.model_version_card_update(
            actor=_actor("data_scientist", version.project), model_version=version, risk_tier="minimal"
        )
    assert refused.value.code == "frozen"
    assert str(sibling) in refused.value.message
    assert Model.objects.get(pk=version.model_id).risk_tier == "limited"
    # the text fields are this version's own: the sibling's incident does not freeze them
    services.model_version_card_update(
        actor=_actor("data_scientist", version.project), model_version=version, intended_use="screening"
    )
    assert len(_events()) == 1


def test_a_closed_incident_no_longer_freezes_the_card(version):
    from governance.services.incidents import incident_close, incident_report

    incident = _open_incident(version)
    incident_report(
        actor=Actor.system(),
        incident=incident,
        kind="complete",
        text="t",
        sent_at=datetime(2026, 3, 2, tzinfo=UTC),
        recipient="authority",
    )
    incident_close(actor=Actor.system(), incident=incident, root_cause="r", corrective_action="c")
    services.model_version_card_update(
        actor=_actor("data_scientist", version.project), model_version=version, intended_use="screening"
    )
    assert len(_events()) == 1


@pytest.mark.parametrize("role", ["risk_analyst", "reviewer", "ingest"])
def test_other_roles_may_not_edit_the_card(version, role):
    with pytest.raises(ServiceError) as refused:
        services.model_version_card_update(
            actor=_actor(role, version.project), model_version=version, intended_use="mine"
        )
    assert refused.value.status_code == 403
    assert _events() == []


def test_a_data_scientist_of_another_project_may_not_edit_the_card(version, other_project):
    with pytest.raises(ServiceError) as refused:
        services.model_version_card_update(
            actor=_actor("data_scientist", other_project), model_version=version, intended_use="mine"
        )
    assert refused.value.status_code == 403
    assert ModelVersion.objects.get(pk=version.pk).intended_use == ""


def test_a_bad_risk_tier_is_a_field_error_and_nothing_is_written(version):
    with pytest.raises(ServiceError) as refused:
        services.model_version_card_update(
            actor=_actor("data_scientist", version.project),
            model_version=version,
            intended_use="screening",
            risk_tier="unacceptable",
        )
    assert refused.value.status_code == 400
    assert list(refused.value.fields) == ["risk_tier"]
    assert ModelVersion.objects.get(pk=version.pk).intended_use == ""
    assert Model.objects.get(pk=version.model_id).risk_tier == "limited"
    assert _events() == []
