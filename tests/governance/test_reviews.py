"""Human review of decisions end to end through REST: decisions enter the queue at ingest by the policy, a
reviewer confirms, overrides (four eyes) or escalates with a reason, reviews done elsewhere arrive in bulk, and
the final decisions are what a fairness audit on final decisions counts (against fairlearn on the same rows).

Attacked: a reviewer of another project, an ownerless key, the same person twice for four eyes, a reviewer deciding
an escalation, bad input (400 naming the field, nothing written), request ids chosen to dodge sampling, and an
insider with SQL rewriting a verdict or a final decision (records verify reports it)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import override_settings
from fairlearn.metrics import MetricFrame, selection_rate

from governance.models import Policy, Review, ReviewItem
from governance.services.reviews import sampled
from registry.records import records_verify
from tests.helpers import followed
from tests.helpers import member_api_client as person

pytestmark = [pytest.mark.sqlite, pytest.mark.django_db]

User = get_user_model()


@pytest.fixture
def setup(chain, make_client):
    Policy.objects.update_or_create(
        project=chain.project,
        defaults={"review_labels": ["deny"], "review_score_min": 0.45, "review_score_max": 0.55},
    )
    return chain, make_client("ingest", chain.project)


def decision(chain, i, prediction="approve", score=0.9, **extra):
    return {
        "model_version": chain.version.pk,
        "request_id": f"req-{i}",
        "features": {"income": 1000 + i},
        "sensitive": {"sex": "F" if i % 2 else "M"},
        "prediction": prediction,
        "score": score,
        "occurred_at": "2026-03-01T10:00:00+00:00",
        **extra,
    }


def ingest(client, items):
    response = client.post("/api/v1/decisions/bulk/", {"decisions": items}, format="json")
    assert response.status_code == 200, response.json()
    return response.json()


def queue(client, **params):
    response = client.get("/api/v1/review-items/", params)
    assert response.status_code == 200, response.json()
    body = response.json()
    return body["results"] if isinstance(body, dict) else body


def review(client, item_id, verdict, reason="checked the file", **extra):
    return client.post(
        f"/api/v1/review-items/{item_id}/review/", {"verdict": verdict, "reason": reason, **extra}, format="json"
    )


def test_decisions_enter_the_queue_by_label_and_score_band_once(setup):
    chain, ingester = setup
    items = [
        decision(chain, 0),  # approve, 0.9: no review
        decision(chain, 1, prediction="deny", score=0.1),  # label
        decision(chain, 2, score=0.5),  # score band
        decision(chain, 3, prediction="deny", score=0.5),  # both
        decision(chain, 4, score=None),
    ]
    ingest(ingester, items)
    ingest(ingester, items)  # a retried batch queues nothing twice
    items = {item.request_id: item for item in ReviewItem.objects.all()}
    assert set(items) == {"req-1", "req-2", "req-3"}
    assert items["req-1"].reasons == ["label"]
    assert items["req-2"].reasons == ["score"]
    assert items["req-3"].reasons == ["label", "score"]
    assert all(item.status == "pending" for item in items.values())


def test_a_tier_outside_the_policy_queues_nothing(setup):
    chain, ingester = setup
    Policy.objects.filter(project=chain.project).update(review_risk_tiers=["high"])  # the chain's model is limited
    ingest(ingester, [decision(chain, 1, prediction="deny")])
    assert not ReviewItem.objects.exists()
    type(chain.model).objects.filter(pk=chain.model.pk).update(risk_tier="high")
    ingest(ingester, [decision(chain, 2, prediction="deny")])
    assert list(ReviewItem.objects.values_list("request_id", flat=True)) == ["req-2"]


def test_sampling_is_the_policy_share_and_keyed_by_the_service_secret(setup):
    chain, ingester = setup
    Policy.objects.filter(project=chain.project).update(
        review_labels=[], review_score_min=None, review_score_max=None, review_sample_rate=0.2
    )
    ingest(ingester, [decision(chain, i) for i in range(1000)])
    queued = set(ReviewItem.objects.values_list("request_id", flat=True))
    assert 140 <= len(queued) <= 260  # 200 expected; binomial sd about 13
    assert all(ReviewItem.objects.get(request_id=r).reasons == ["sample"] for r in list(queued)[:5])
    # the caller cannot precompute which request ids escape: another secret samples other decisions
    with override_settings(SECRET_KEY="another-secret-" + "x" * 40):
        elsewhere = {f"req-{i}" for i in range(1000) if sampled(0.2, chain.version.pk, f"req-{i}")}
    assert len(queued & elsewhere) < len(queued) * 0.5


def test_confirm_closes_the_item_and_a_second_verdict_is_refused(setup):
    chain, ingester = setup
    ingest(ingester, [decision(chain, 1, prediction="deny")])
    reviewer = person("reviewer", chain.project, "rita")
    [item] = queue(reviewer, open=True)
    assert item["decision"]["prediction"] == "deny"
    assert item["decision"]["features"] == {"income": 1001}
    response = review(reviewer, item["id"], "confirmed", reason="income below the floor")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "confirmed"
    assert response.json()["reviews"][0]["reviewer"] == "rita"
    again = review(reviewer, item["id"], "overridden", final_decision="approve")
    assert again.status_code == 409
    assert queue(reviewer, open=True) == []


def test_an_override_needs_a_second_person(setup):
    chain, ingester = setup
    ingest(ingester, [decision(chain, 1, prediction="deny")])
    first = person("reviewer", chain.project, "rita")
    second = person("reviewer", chain.project, "sam")
    [item] = queue(first)
    response = review(first, item["id"], "overridden", final_decision="approve", reason="income was misread")
    assert response.json()["status"] == "second"
    assert response.json()["final_decision"] is None
    # the same person again, also through a key they own, is not a second person
    assert review(first, item["id"], "override_agreed").status_code == 403
    assert review(first, item["id"], "confirmed").status_code == 400  # not a verdict for this state
    agreed = review(second, item["id"], "override_agreed", reason="agree: payslip attached")
    assert agreed.status_code == 200, agreed.json()
    assert agreed.json()["status"] == "overridden"
    assert agreed.json()["final_decision"] == "approve"
    assert [r["verdict"] for r in agreed.json()["reviews"]] == ["overridden", "override_agreed"]


def test_a_refused_override_escalates_to_a_compliance_officer(setup):
    chain, ingester = setup
    ingest(ingester, [decision(chain, 1, prediction="deny")])
    first = person("reviewer", chain.project, "rita")
    second = person("reviewer", chain.project, "sam")
    officer = person("compliance_officer", chain.project, "olga")
    [item] = queue(first)
    review(first, item["id"], "overridden", final_decision="approve")
    assert review(second, item["id"], "override_refused", reason="no evidence").json()["status"] == "escalated"
    assert review(first, item["id"], "confirmed").status_code == 403  # an escalation is the officer's
    decided = review(officer, item["id"], "overridden", final_decision="approve", reason="evidence received")
    assert decided.json()["status"] == "overridden"
    assert decided.json()["final_decision"] == "approve"


def test_without_four_eyes_an_override_stands_at_once(setup):
    chain, ingester = setup
    Policy.objects.filter(project=chain.project).update(review_four_eyes=False)
    ingest(ingester, [decision(chain, 1, prediction="deny")])
    reviewer = person("reviewer", chain.project, "rita")
    [item] = queue(reviewer)
    response = review(reviewer, item["id"], "overridden", final_decision="approve")
    assert response.json()["status"] == "overridden"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"verdict": "confirmed", "reason": " "}, "reason"),
        ({"verdict": "confirmed"}, "reason"),
        ({"verdict": "maybe", "reason": "x"}, "verdict"),
        ({"verdict": "overridden", "reason": "x"}, "final_decision"),
        ({"verdict": "overridden", "reason": "x", "final_decision": "deny"}, "final_decision"),  # the model's
        ({"verdict": "overridden", "reason": "x", "final_decision": {"a": 1}}, "final_decision"),
        ({"verdict": "confirmed", "reason": "x", "final_decision": "approve"}, "final_decision"),
    ],
)
def test_bad_verdicts_are_a_400_naming_the_field_and_write_nothing(setup, body, field):
    chain, ingester = setup
    ingest(ingester, [decision(chain, 1, prediction="deny")])
    reviewer = person("reviewer", chain.project, "rita")
    [item] = queue(reviewer)
    response = reviewer.post(f"/api/v1/review-items/{item['id']}/review/", body, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["error"]["fields"]
    assert not Review.objects.exists()
    assert ReviewItem.objects.get().status == "pending"


def test_no_one_outside_the_project_or_the_roles_reviews(setup, other_project, make_client):
    chain, ingester = setup
    ingest(ingester, [decision(chain, 1, prediction="deny")])
    item = ReviewItem.objects.get()
    stranger = person("reviewer", other_project, "eve")
    assert stranger.get(f"/api/v1/review-items/{item.pk}/").status_code == 404
    assert review(stranger, item.pk, "confirmed").status_code == 404
    scientist = person("data_scientist", chain.project, "dan")
    assert review(scientist, item.pk, "confirmed").status_code in (403, 404)
    assert ingester.get("/api/v1/review-items/").status_code == 403
    ownerless = make_client("reviewer", chain.project)  # a service key is nobody in particular
    assert review(ownerless, item.pk, "confirmed").status_code == 403
    assert not Review.objects.exists()


def test_reviews_done_elsewhere_arrive_in_bulk_idempotently(setup):
    chain, ingester = setup
    ingest(ingester, [decision(chain, i, prediction="deny") for i in range(3)] + [decision(chain, 9)])
    rows = [
        {
            "model_version": chain.version.pk,
            "request_id": "req-0",
            "verdict": "overridden",
            "final_decision": "approve",
            "reason": "appeal upheld",
            "reviewer": "j.doe@branch",
            "reviewed_at": "2026-03-02T09:00:00Z",
            "external_id": "case-100",
        },
        {
            "model_version": chain.version.pk,
            "request_id": "req-9",  # not queued here: an item is made for it
            "verdict": "confirmed",
            "reason": "spot check",
            "reviewer": "j.doe@branch",
            "reviewed_at": "2026-03-02T09:05:00Z",
            "external_id": "case-101",
        },
    ]
    response = ingester.post("/api/v1/review-items/bulk/", {"reviews": rows}, format="json")
    assert response.json() == {"accepted": 2, "duplicates": 0}, response.json()
    assert ingester.post("/api/v1/review-items/bulk/", {"reviews": rows}, format="json").json() == {
        "accepted": 0,
        "duplicates": 2,
    }
    overridden = ReviewItem.objects.get(request_id="req-0")
    assert (overridden.status, overridden.final_decision) == ("overridden", "approve")
    assert ReviewItem.objects.get(request_id="req-9").reasons == ["imported"]
    assert Review.objects.get(external_id="case-100").reviewer == "j.doe@branch"


def test_a_bad_import_names_the_item_and_writes_nothing(setup):
    chain, ingester = setup
    ingest(ingester, [decision(chain, 0, prediction="deny")])
    good = {
        "model_version": chain.version.pk,
        "request_id": "req-0",
        "verdict": "confirmed",
        "reason": "ok",
        "reviewer": "x",
        "reviewed_at": "2026-03-02T09:00:00Z",
        "external_id": "a",
    }
    bad = {**good, "request_id": "req-404", "external_id": "b"}
    response = ingester.post("/api/v1/review-items/bulk/", {"reviews": [good, bad]}, format="json")
    assert response.status_code == 400
    assert "reviews[1].request_id" in response.json()["error"]["fields"]
    assert not Review.objects.exists()
    assert ReviewItem.objects.get().status == "pending"


def test_fairness_on_final_decisions_matches_fairlearn(setup, make_client):
    chain, ingester = setup
    Policy.objects.filter(project=chain.project).update(review_four_eyes=False, review_labels=["deny"])
    rows = []
    for i in range(120):
        prediction = "deny" if i % 3 == 0 else "approve"
        rows.append(decision(chain, i, prediction=prediction))
    ingest(ingester, rows)
    outcomes = [
        {"model_version": chain.version.pk, "request_id": f"req-{i}", "outcome": "approve" if i % 4 else "deny"}
        for i in range(120)
    ]
    assert ingester.post("/api/v1/decisions/outcomes/", {"outcomes": outcomes}, format="json").status_code == 200
    reviewer = person("reviewer", chain.project, "rita")
    final = {f"req-{i}": r["prediction"] for i, r in enumerate(rows)}
    for item in ReviewItem.objects.order_by("pk"):
        index = int(item.request_id.split("-")[1])
        if index % 2:  # the reviewer overrides the denials of the F group
            assert review(reviewer, item.pk, "overridden", final_decision="approve").status_code == 200
            final[item.request_id] = "approve"
        else:
            assert review(reviewer, item.pk, "confirmed").status_code == 200
    auditor = person("risk_analyst", chain.project, "ana")
    body = {"model_version": chain.version.pk, "sensitive_features": ["sex"], "positive_label": "approve"}
    predicted = followed(auditor, auditor.post("/api/v1/fairness-audits/", body, format="json")).json()
    finals = followed(
        auditor, auditor.post("/api/v1/fairness-audits/", {**body, "basis": "final_decision"}, format="json")
    ).json()
    assert finals["basis"] == "final_decision" and finals["exploratory"] is True
    sex = ["F" if i % 2 else "M" for i in range(120)]
    y_true = [int(i % 4 != 0) for i in range(120)]
    for audit, decided in (
        (predicted, [r["prediction"] for r in rows]),
        (finals, [final[f"req-{i}"] for i in range(120)]),
    ):
        frame = MetricFrame(
            metrics=selection_rate,
            y_true=y_true,
            y_pred=[int(d == "approve") for d in decided],
            sensitive_features=sex,
        )
        ours = {g["group"]["sex"]: g["selection_rate"] for g in audit["by_group"]}
        assert ours == pytest.approx(frame.by_group.to_dict())
    assert finals["by_group"] != predicted["by_group"]


def test_override_rate_out_of_bounds_alerts_once(setup):
    chain, ingester = setup
    Policy.objects.filter(project=chain.project).update(
        review_four_eyes=False, review_rate_min_reviews=10, review_max_override_rate=0.3
    )
    ingest(ingester, [decision(chain, i, prediction="deny") for i in range(14)])
    reviewer = person("reviewer", chain.project, "rita")
    for item in ReviewItem.objects.order_by("pk"):
        review(reviewer, item.pk, "overridden", final_decision="approve")
    from registry.models import AuditEvent

    alerts = AuditEvent.objects.filter(event_type="alert.raised", after__alert="review.override_rate")
    assert alerts.count() == 1
    assert alerts.get().after["judgement"] == "high"
    summary = reviewer.get("/api/v1/review-items/summary/").json()
    [rate] = summary["override_rates"]
    assert (rate["reviewed"], rate["overridden"], rate["judgement"]) == (14, 14, "high")
    assert summary["open"] == 0


def reviews_reported() -> set[tuple[str, int]]:
    return {(b["record"], b["id"]) for b in records_verify().bad_records if b["record"].startswith("governance.rev")}


def test_an_insider_rewriting_reviews_by_sql_is_reported(setup):
    chain, ingester = setup
    Policy.objects.filter(project=chain.project).update(review_four_eyes=False)
    ingest(ingester, [decision(chain, i, prediction="deny") for i in range(3)])
    reviewer = person("reviewer", chain.project, "rita")
    items = list(ReviewItem.objects.order_by("pk"))
    for item in items:
        review(reviewer, item.pk, "confirmed", reason="fine")
    assert reviews_reported() == set()  # (the factories' registry rows have no events: only ours are read)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE governance_review SET verdict = 'overridden' WHERE item_id = %s", [items[0].pk])
        cursor.execute(
            "UPDATE governance_reviewitem SET status = 'overridden', final_decision = '\"approve\"' WHERE id = %s",
            [items[1].pk],
        )
        cursor.execute("UPDATE governance_reviewitem SET final_decision = '\"approve\"' WHERE id = %s", [items[2].pk])
    bad = reviews_reported()
    assert ("governance.review", Review.objects.get(item=items[0]).pk) in bad
    assert ("governance.reviewitem", items[1].pk) in bad
    assert ("governance.reviewitem", items[2].pk) in bad
