"""Bulk decision ingest and outcomes: validated whole, idempotent, nothing half-written.

Marked `sqlite`: `make test` runs these on SQLite as well (the bulk_create fallback)."""

from __future__ import annotations

import json

import pytest

from governance.models import Decision
from registry.subjects import subject_key
from tests import factories as f

pytestmark = [pytest.mark.sqlite, pytest.mark.django_db]


@pytest.fixture
def ingest(make_client, chain):
    return make_client("ingest", chain.project)


def item(chain, i=0, **extra):
    body = {
        "model_version": chain.version.pk,
        "deployment": chain.deployment.pk,
        "request_id": f"req-{i}",
        "subject_id": f"customer-{i}",
        "features": {"age": 20 + i, "income": 1000.5},
        "sensitive": {"sex": "F" if i % 2 else "M"},
        "prediction": "approve",
        "score": 0.25,
        "occurred_at": "2026-03-01T10:00:00+00:00",
    }
    body.update(extra)
    return body


def bulk(client, items):
    return client.post("/api/v1/decisions/bulk/", {"decisions": items}, format="json")


def test_a_batch_is_logged_and_a_retry_is_all_duplicates(ingest, chain):
    items = [item(chain, i) for i in range(50)]
    assert bulk(ingest, items).json() == {"accepted": 50, "duplicates": 0}
    assert bulk(ingest, items).json() == {"accepted": 0, "duplicates": 50}
    assert Decision.objects.count() == 50
    # a retry that overlaps with new rows
    more = items[40:] + [item(chain, i) for i in range(50, 60)]
    assert bulk(ingest, more).json() == {"accepted": 10, "duplicates": 10}
    decision = Decision.objects.get(request_id="req-3")
    assert decision.subject_key == subject_key("customer-3")
    assert decision.features == {"age": 23, "income": 1000.5}
    assert decision.sensitive == {"sex": "F"}
    assert decision.prediction == "approve"
    assert decision.project_id == chain.project.pk
    assert decision.deployment_id == chain.deployment.pk
    assert decision.created_by_key is not None


def test_the_same_request_id_may_be_used_by_another_version(ingest, chain):
    v2 = f.ModelVersionFactory(model=chain.model, run=chain.run, version=2)
    items = [item(chain, 1), item(chain, 1, model_version=v2.pk, deployment=None)]
    assert bulk(ingest, items).json() == {"accepted": 2, "duplicates": 0}


def test_optional_fields_may_be_left_out(ingest, chain):
    minimal = {
        "model_version": chain.version.pk,
        "request_id": "only",
        "features": {},
        "prediction": 1,
        "occurred_at": "2026-03-01T10:00:00Z",
    }
    assert bulk(ingest, [minimal]).json() == {"accepted": 1, "duplicates": 0}
    decision = Decision.objects.get()
    assert (decision.subject_key, decision.deployment_id, decision.score, decision.sensitive) == (None, None, None, {})
    assert decision.prediction == 1


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"model_version": None}, "model_version", "is required"),
        ({"model_version": "7"}, "model_version", "must be an integer id"),
        ({"model_version": 999_999}, "model_version", "model version 999999 does not exist"),
        ({"deployment": 999_999}, "deployment", "deployment 999999 does not exist"),
        ({"request_id": ""}, "request_id", "is required and must be a non-empty string"),
        ({"request_id": "x" * 201}, "request_id", "must be at most 200 characters"),
        ({"subject_id": ""}, "subject_id", "must not be empty"),
        ({"subject_id": ["a"]}, "subject_id", "must be a string or an integer"),
        ({"features": "age=3"}, "features", "is required and must be an object"),
        ({"sensitive": ["F"]}, "sensitive", "must be an object"),
        ({"prediction": None}, "prediction", "is required"),
        ({"prediction": {"label": 1}}, "prediction", "must be a string, number or boolean"),
        ({"score": "high"}, "score", "must be a finite number"),
        ({"occurred_at": "yesterday"}, "occurred_at", "is not an ISO 8601 timestamp"),
        ({"occurred_at": "2026-03-01T10:00:00"}, "occurred_at", "must include a timezone (e.g. 2026-01-31T12:00:00Z)"),
        ({"colour": "red"}, "colour", "is not a known field"),
    ],
)
def test_a_bad_item_is_named_and_nothing_is_written(ingest, chain, change, field, message):
    items = [item(chain, i) for i in range(5)]
    items[3] = {**items[3], **change}
    if change.get("model_version") is None and "model_version" in change:
        del items[3]["model_version"]
    response = bulk(ingest, items)
    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert error["fields"] == {f"decisions[3].{field}": [message]}
    assert "nothing was written" in error["message"]
    assert Decision.objects.count() == 0


def test_errors_never_echo_the_raw_subject_id(ingest, chain):
    response = bulk(ingest, [item(chain, 0, subject_id="x" * 600)])
    assert response.status_code == 400
    assert "xxxxxxxxxx" not in response.content.decode()


def test_a_deployment_of_another_version_is_refused(ingest, chain):
    other = f.DeploymentFactory(
        model_version=f.ModelVersionFactory(model=chain.model, run=chain.run, version=2), environment="eu"
    )
    response = bulk(ingest, [item(chain, 0, deployment=other.pk)])
    assert response.json()["error"]["fields"] == {
        "decisions[0].deployment": [f"deployment {other.pk} does not serve model version {chain.version.pk}"]
    }


def test_duplicate_request_ids_inside_one_request_are_refused(ingest, chain):
    items = [item(chain, 0), item(chain, 1), item(chain, 0)]
    response = bulk(ingest, items)
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"decisions[2].request_id": ["repeats the request_id of decisions[0]"]}
    assert Decision.objects.count() == 0


def test_more_than_10000_items_are_refused(ingest, chain):
    items = [item(chain, 0)] * 10_001
    response = bulk(ingest, items)
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"decisions": ["at most 10000 items per request, got 10001"]}
    assert Decision.objects.count() == 0


def test_10000_items_are_accepted(ingest, chain):
    assert bulk(ingest, [item(chain, i) for i in range(10_000)]).json() == {"accepted": 10_000, "duplicates": 0}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "decisions"),
        ({"decisions": {}}, "decisions"),
        ({"decisions": []}, "decisions"),
        ({"decisions": [3]}, "decisions[0]"),
    ],
)
def test_malformed_bodies(ingest, chain, body, field):
    response = ingest.post("/api/v1/decisions/bulk/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


@pytest.mark.parametrize("body", ["{not json", '{"decisions": [{"score": NaN}]}'])
def test_invalid_json_is_a_400(ingest, body):
    response = ingest.post("/api/v1/decisions/bulk/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"


def test_another_projects_model_version_does_not_exist_for_the_key(chain, other_project, make_client):
    client = make_client("ingest", other_project)
    response = bulk(client, [item(chain, 0)])
    assert response.json()["error"]["fields"]["decisions[0].model_version"] == [
        f"model version {chain.version.pk} does not exist"
    ]


def test_outcomes_are_attached_and_unknown_ones_reported(ingest, chain):
    bulk(ingest, [item(chain, i) for i in range(3)])
    response = ingest.post(
        "/api/v1/decisions/outcomes/",
        {
            "outcomes": [
                {"model_version": chain.version.pk, "request_id": "req-0", "outcome": "approve"},
                {"model_version": chain.version.pk, "request_id": "nope", "outcome": "deny"},
                {
                    "model_version": chain.version.pk,
                    "request_id": "req-2",
                    "outcome": "deny",
                    "outcome_at": "2026-04-01T00:00:00Z",
                },
            ]
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json() == {
        "updated": 2,
        "unknown": [{"index": 1, "model_version": chain.version.pk, "request_id": "nope"}],
    }
    outcomes = dict(Decision.objects.values_list("request_id", "outcome"))
    assert outcomes == {"req-0": "approve", "req-1": None, "req-2": "deny"}
    assert Decision.objects.get(request_id="req-2").outcome_at.isoformat() == "2026-04-01T00:00:00+00:00"


def test_bad_outcomes_are_named_and_nothing_is_written(ingest, chain):
    bulk(ingest, [item(chain, i) for i in range(2)])
    response = ingest.post(
        "/api/v1/decisions/outcomes/",
        {
            "outcomes": [
                {"model_version": chain.version.pk, "request_id": "req-0", "outcome": "approve"},
                {"model_version": chain.version.pk, "request_id": "req-1", "outcome": None},
                {"model_version": chain.version.pk, "request_id": "req-0", "outcome": "deny"},
            ]
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "outcomes[1].outcome": ["is required"],
        "outcomes[2].request_id": ["repeats the request_id of outcomes[0]"],
    }
    assert not Decision.objects.filter(outcome__isnull=False).exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"model_version": [1]}, "model_version"),
        ({"model_version": {"id": 1}}, "model_version"),
        ({"deployment": [1]}, "deployment"),
        ({"score": 10**400}, "score"),
    ],
)
def test_odd_json_values_are_400s_not_500s(ingest, chain, change, field):
    response = ingest.post(
        "/api/v1/decisions/bulk/",
        json.dumps({"decisions": [item(chain, 0, **change)]}, allow_nan=True),
        content_type="application/json",
    )
    assert response.status_code == 400, response.content
    assert f"decisions[0].{field}" in response.json()["error"]["fields"]


def test_another_projects_deployment_does_not_exist_for_the_key(ingest, chain, other_project):
    foreign = f.DeploymentFactory(model_version=f.ModelVersionFactory(model__project=other_project))
    response = bulk(ingest, [item(chain, 0, deployment=foreign.pk)])
    assert response.json()["error"]["fields"] == {
        "decisions[0].deployment": [f"deployment {foreign.pk} does not exist"]
    }


def test_the_copy_columns_are_importable_without_django_and_are_the_decision_table_s():
    """bench/ingest.py never sets Django up: it imports the column list the service COPYs from governance.columns."""
    import subprocess
    import sys

    from governance.columns import COPY_COLUMNS
    from governance.models import Decision

    code = "import sys, governance.columns as c; assert 'django' not in sys.modules; print(len(c.COPY_COLUMNS))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)  # noqa: S603
    assert out.stdout.strip() == str(len(COPY_COLUMNS))
    assert set(COPY_COLUMNS) <= {field.attname for field in Decision._meta.concrete_fields}
