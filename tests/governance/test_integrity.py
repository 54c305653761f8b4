"""The decision log is tamper-evident (row commitments, batch hashes in the audit chain) yet erasable."""

from __future__ import annotations

import functools
import json
from datetime import datetime

import pytest
from django.db import connection
from hypothesis import given, settings
from hypothesis import strategies as st

from governance.integrity import jsonb_normalise
from governance.models import Decision
from governance.services import decisions_ingest
from governance.services.erasure import erasure_request_create, erasure_request_execute, erasure_request_trace
from registry import services
from registry.actors import Actor
from registry.audit import audit_chain_verify
from tests import factories as f

SYSTEM = Actor.system()


@pytest.fixture
def logged(db):
    version = f.ModelVersionFactory()
    other = f.ModelVersionFactory(model=version.model, run=version.run, version=version.version + 1)
    key, _ = services.api_key_create(actor=SYSTEM, project=version.project, role="ingest", name="k")
    actor = Actor.for_key(key)

    def batch(start, count, mv=version):
        return decisions_ingest(
            actor=actor,
            items=[
                {
                    "model_version": mv.pk,
                    "request_id": f"r{i}",
                    "subject_id": f"person-{i % 4}",
                    "features": {"age": 30 + i, "income": 1234.5, "tags": ["a", "é"], "big": 1e20, "neg0": -0.0},
                    "sensitive": {"sex": "F"},
                    "prediction": "approve" if i % 2 else 0.5,
                    "score": 1 if i % 3 == 0 else 0.25,
                    "occurred_at": "2026-03-01T10:00:00.123456+02:00",
                }
                for i in range(start, start + count)
            ],
        )

    first = batch(0, 6)
    second = batch(6, 4)
    batch(0, 3, mv=other)  # the same request ids under another version, in a batch of its own
    return version, first, second


def verify(client, version):
    response = client.get("/api/v1/decisions/verify/", {"model_version": version.pk})
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def auditor(make_client, logged):
    return make_client("risk_analyst", logged[0].project)


@pytest.mark.sqlite
def test_a_fresh_log_verifies(logged, auditor):
    version, first, second = logged
    body = verify(auditor, version)
    assert body == {
        "ok": True,
        "model_version": version.pk,
        "rows_checked": 10,
        "erased_rows": 0,
        "batches_checked": 2,
        "bad_rows": [],
        "bad_batches": [],
        "batches_sealed": 0,
        "sealed_months": [],
    }
    assert first.batch != second.batch
    row = Decision.objects.get(model_version=version, request_id="r0")
    assert len(row.salt) == 32 and len(row.commitment) == 64
    assert row.features["big"] == 10**20  # stored as jsonb gives it back


def _sql(statement: str, *params) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def test_a_changed_field_is_named_by_row(logged, auditor):
    version, *_ = logged
    target = Decision.objects.get(model_version=version, request_id="r2")
    _sql("UPDATE governance_decision SET prediction = '\"deny\"' WHERE id = %s", target.pk)
    body = verify(auditor, version)
    assert not body["ok"]
    assert body["bad_rows"] == [
        {"id": target.pk, "request_id": "r2", "reason": "content does not match its commitment"}
    ]
    assert body["bad_batches"] == []


def test_a_changed_commitment_is_named_by_batch(logged, auditor):
    version, first, _ = logged
    target = Decision.objects.get(model_version=version, request_id="r1")
    # a forger who rewrites the content and recomputes the row's commitment with its salt
    from governance.integrity import canonical_decision, commitment

    features = {**target.features, "income": 99999}
    forged = commitment(
        target.salt,
        canonical_decision(
            model_version=version.pk,
            deployment=None,
            request_id="r1",
            subject_key=target.subject_key,
            features=features,
            sensitive=target.sensitive,
            prediction=target.prediction,
            score=target.score,
            occurred_at=target.occurred_at,
        ),
    )
    Decision.objects.filter(pk=target.pk).update(features=features, commitment=forged)
    body = verify(auditor, version)
    assert body["bad_rows"] == []
    assert [b["batch"] for b in body["bad_batches"]] == [first.batch]
    assert body["bad_batches"][0]["reason"] == "rows do not match the batch hash recorded in the audit trail"


def test_a_deleted_row_is_named_by_batch(logged, auditor):
    version, _, second = logged
    Decision.objects.filter(model_version=version, request_id="r8").delete()
    body = verify(auditor, version)
    assert [(b["batch"], b["rows"], b["recorded_rows"]) for b in body["bad_batches"]] == [(second.batch, 3, 4)]


def test_swapped_contents_are_named_by_row(logged, auditor):
    version, *_ = logged
    a = Decision.objects.get(model_version=version, request_id="r3")
    b = Decision.objects.get(model_version=version, request_id="r4")
    Decision.objects.filter(pk=a.pk).update(features=b.features)
    Decision.objects.filter(pk=b.pk).update(features=a.features)
    body = verify(auditor, version)
    assert sorted(r["request_id"] for r in body["bad_rows"]) == ["r3", "r4"]


def test_an_inserted_row_is_named(logged, auditor):
    version, first, _ = logged
    source = Decision.objects.get(model_version=version, request_id="r0")
    f.DecisionFactory(
        model_version=version,
        request_id="forged",
        salt=source.salt,
        commitment=source.commitment,
        batch_id=source.batch_id,
    )
    f.DecisionFactory(model_version=version, request_id="orphan", salt="0" * 32, commitment="0" * 64)
    body = verify(auditor, version)
    assert {r["request_id"] for r in body["bad_rows"]} == {"forged", "orphan"}
    reasons = {b["batch"]: b["reason"] for b in body["bad_batches"]}
    assert reasons == {
        first.batch: "rows do not match the batch hash recorded in the audit trail",
        None: "rows belong to no ingest batch",
    }


@pytest.mark.sqlite
def test_the_log_and_the_chain_still_verify_after_an_erasure(logged, auditor):
    version, *_ = logged
    request = erasure_request_create(actor=SYSTEM, project=version.project, subject_id="person-1", reference="T")
    erasure_request_execute(actor=SYSTEM, request=erasure_request_trace(actor=SYSTEM, request=request))
    erased = Decision.objects.filter(model_version=version, erased_at__isnull=False)
    assert erased.count() == 3  # r1, r5, r9
    assert not erased.filter(salt__isnull=False).exists()
    assert all(d.features == {} and d.sensitive == {} and d.subject_key is None for d in erased)
    body = verify(auditor, version)
    assert body["ok"], body
    assert body["erased_rows"] == 3
    assert audit_chain_verify().ok


def test_jsonb_normalise_matches_postgresql(db):
    if connection.vendor != "postgresql":
        pytest.skip("the rules are PostgreSQL's")
    values = [-0.0, 1e20, 1e16, 1e15, 0.1 + 0.2, 1.7976931348623157e308, 5e-324, 2**70, [1.0, {"x": -1e22}], "é"]
    with connection.cursor() as cursor:
        for value in values:
            cursor.execute("SELECT (%s::jsonb)::text", [json.dumps(value)])
            assert json.dumps(json.loads(cursor.fetchone()[0])) == json.dumps(jsonb_normalise(value)), value


_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(
    model_version=st.integers(1, 2**31),
    deployment=st.none() | st.integers(1, 2**31),
    request_id=st.text(),
    subject_key=st.none() | st.text(alphabet="0123456789abcdef", min_size=64, max_size=64),
    features=st.dictionaries(st.text(max_size=12), _json_values, max_size=6),
    sensitive=st.dictionaries(st.text(max_size=12), st.text(max_size=8), max_size=3),
    prediction=_json_values,
    score=st.none() | st.floats(allow_nan=False, allow_infinity=False),
    occurred_at=st.datetimes(datetime(1971, 1, 1), datetime(9998, 1, 1), timezones=st.timezones()),
    explanation=st.none()
    | st.fixed_dictionaries(
        {"attributions": st.dictionaries(st.text(max_size=12), st.floats(allow_nan=False, allow_infinity=False))},
        optional={"base_value": st.floats(allow_nan=False, allow_infinity=False), "reason_codes": st.lists(st.text())},
    ),
)
def test_the_fast_canonical_forms_equal_their_json_dumps_definition(
    model_version, deployment, request_id, subject_key, features, sensitive, prediction, score, occurred_at, explanation
):
    """decision_canon builds the canonical forms from values encoded once; they must be byte for byte the
    json.dumps of the documented lists, or every stored commitment would stop verifying."""
    from datetime import UTC

    from governance.integrity import canonical_skeleton, decision_canon

    dumps = functools.partial(json.dumps, sort_keys=True, separators=(",", ":"))
    moment = occurred_at.astimezone(UTC).isoformat(timespec="microseconds")
    canon = decision_canon(
        model_version=model_version,
        deployment=deployment,
        request_id=request_id,
        subject_key=subject_key,
        features=features,
        sensitive=sensitive,
        prediction=prediction,
        score=score,
        occurred_at=occurred_at,
        explanation=explanation,
    )
    nine = [model_version, deployment, request_id, subject_key, features, sensitive, prediction, score, moment]
    # without an explanation the nine-element form of every row logged before explanations existed
    assert canon.canonical == dumps(nine if explanation is None else [*nine, explanation])
    assert canon.explanation == (None if explanation is None else dumps(explanation))
    assert canon.skeleton == dumps([model_version, deployment, request_id, prediction, score, moment])
    assert canon.skeleton == canonical_skeleton(
        model_version=model_version,
        deployment=deployment,
        request_id=request_id,
        prediction=prediction,
        score=score,
        occurred_at=occurred_at,
    )
    assert (json.loads(canon.features), json.loads(canon.sensitive)) == (features, sensitive)
