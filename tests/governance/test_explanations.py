"""Explanations of decisions (issue 16 item 3): a decision logged with per-feature attributions, its base value,
the explainer and reason codes of the project's catalogue keeps them unchanged, inside its commitment; bad ones
are a 400 naming the field and write nothing; an erasure removes them with the other personal fields and the log
still verifies.

Attacked: an insider rewriting an attribution by SQL, or putting an erased decision's explanation back (both named
by decisions/verify), and a reason code the catalogue does not hold."""

from __future__ import annotations

import pytest
from django.db import connection

from governance.models import Decision, Policy
from governance.services.erasure import erasure_request_create, erasure_request_execute, erasure_request_trace
from registry.actors import Actor
from registry.models import AuditEvent

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

EXPLANATION = {
    "attributions": {"age": -0.125, "checks": 0.3125, "employed=Yes": 0.0625},
    "base_value": 0.55,
    "library": "shap",
    "library_version": "0.51.0",
    "method": "permutation",
    "reason_codes": ["R02"],
}


@pytest.fixture
def ingest(chain, make_client):
    Policy.objects.update_or_create(
        project=chain.project, defaults={"reason_codes": {"R01": "Income too low", "R02": "Too many prior checks"}}
    )
    return make_client("ingest", chain.project)


def item(chain, request_id: str = "r1", **extra) -> dict:
    return {
        "model_version": chain.version.pk,
        "request_id": request_id,
        "subject_id": "alice@example.com",
        "features": {"age": 31, "checks": 4, "employed": "Yes"},
        "prediction": 0,
        "score": 0.21,
        "occurred_at": "2026-11-02T10:00:00Z",
        **extra,
    }


def post(client, *items):
    return client.post("/api/v1/decisions/bulk/", {"decisions": list(items)}, format="json")


def verify(client, chain) -> dict:
    response = client.get("/api/v1/decisions/verify/", {"model_version": chain.version.pk})
    assert response.status_code == 200, response.content
    return response.json()


def test_an_explanation_round_trips_and_is_committed(chain, ingest, make_client):
    assert post(ingest, item(chain, explanation=EXPLANATION), item(chain, "r2")).status_code == 200
    analyst = make_client("risk_analyst", chain.project)
    listed = {d["request_id"]: d for d in analyst.get("/api/v1/decisions/").json()["results"]}
    assert listed["r1"]["explanation"] == EXPLANATION
    assert listed["r2"]["explanation"] is None
    assert verify(analyst, chain)["ok"]


@pytest.mark.parametrize(
    ("explanation", "field"),
    [
        ("high", "explanation"),
        ({}, "explanation.attributions"),
        ({"attributions": {"age": "big"}}, "explanation.attributions"),
        ({"attributions": {"age": 0.1}, "base_value": "x"}, "explanation.base_value"),
        ({"attributions": {"age": 0.1}, "reason_codes": ["R99"]}, "explanation.reason_codes"),
        ({"attributions": {"age": 0.1}, "reason_codes": ["R01", "R01"]}, "explanation.reason_codes"),
        ({"attributions": {"age": 0.1}, "library": "x" * 101}, "explanation.library"),
        ({"attributions": {"age": 0.1}, "subject": "alice"}, "explanation.subject"),
    ],
)
def test_a_bad_explanation_is_a_400_naming_the_field_and_writes_nothing(chain, ingest, explanation, field):
    response = post(ingest, item(chain, "ok"), item(chain, "bad", explanation=explanation))
    assert response.status_code == 400, response.content
    fields = response.json()["error"]["fields"]
    assert f"decisions[1].{field}" in fields, fields
    assert not Decision.objects.exists()


def test_an_sql_edit_of_an_attribution_is_named_by_verify(chain, ingest, make_client):
    post(ingest, item(chain, explanation=EXPLANATION))
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE governance_decision SET explanation = %s WHERE request_id = 'r1'",
            ['{"attributions": {"age": 0.5, "checks": 0.3125, "employed=Yes": 0.0625}}'],
        )
    report = verify(make_client("risk_analyst", chain.project), chain)
    assert not report["ok"]
    assert [row["reason"] for row in report["bad_rows"]] == ["content does not match its commitment"]


def test_an_erasure_removes_the_explanation_and_the_log_still_verifies(chain, ingest, make_client):
    post(ingest, item(chain, explanation=EXPLANATION))
    request = erasure_request_create(
        actor=Actor.system(), project=chain.project, subject_id="alice@example.com", reference="GDPR-1"
    )
    erasure_request_execute(actor=Actor.system(), request=erasure_request_trace(actor=Actor.system(), request=request))
    decision = Decision.objects.get(request_id="r1")
    assert decision.explanation is None and decision.erased_at is not None
    auditor = make_client("risk_analyst", chain.project)
    assert verify(auditor, chain)["ok"]

    # an insider puts it back from a backup: named
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE governance_decision SET explanation = %s WHERE request_id = 'r1'", ['{"attributions": {"age": 1}}']
        )
    report = verify(auditor, chain)
    assert [row["reason"] for row in report["bad_rows"]] == ["erased decision still holds personal fields"]


def test_the_reason_code_catalogue_is_validated_and_audited(chain, make_client):
    officer = make_client("compliance_officer", chain.project)
    url = f"/api/v1/policies/{chain.project.slug}/"
    for bad in ({"R01": ""}, ["R01"], {"x" * 33: "long code"}):
        refused = officer.patch(url, {"reason_codes": bad}, format="json")
        assert refused.status_code == 400 and "reason_codes" in refused.json()["error"]["fields"], bad
    good = officer.patch(url, {"reason_codes": {"R01": "Income too low"}}, format="json")
    assert good.status_code == 200 and good.json()["reason_codes"] == {"R01": "Income too low"}
    changed = AuditEvent.objects.filter(event_type="policy.changed").order_by("-seq").first()
    assert changed.after["reason_codes"] == {"R01": "Income too low"}
