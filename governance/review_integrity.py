"""Reviews cannot change unseen: each review's content hash is recorded by its audit event, and each queue item's
state (status, final decision) must be the state its last event left it in. An insider who rewrites a verdict,
deletes a review, inserts one by SQL, or flips a queue item's final decision (which fairness audits on final
decisions read) is reported by `records verify` (registered as a record check in apps.py)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime

from governance.events import GovernanceEvent as Event
from governance.models import Review, ReviewItem
from registry.models import AuditEvent
from registry.records import check_against_creation_events

Reporter = Callable[[str, object, str], None]


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def review_sha256(review: Review) -> str:
    """sha256 of a review's canonical JSON: what it says, about which decision, by whom and when."""
    canonical = json.dumps(
        {
            "item": review.item_id,
            "decision": review.decision_id,
            "decision_occurred_at": _iso(review.decision_occurred_at),
            "model_version": review.model_version_id,
            "verdict": review.verdict,
            "final_decision": review.final_decision,
            "reason": review.reason,
            "reviewer_user": review.reviewer_user_id,
            "reviewer_key": review.reviewer_key_id,
            "reviewer_name": review.reviewer_name,
            "source": review.source,
            "external_id": review.external_id,
            "reviewed_at": _iso(review.reviewed_at),
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def reviews_check(report: Reporter) -> dict[str, int]:
    reviews = Review.objects.order_by("pk").iterator(chunk_size=5000)
    checked_reviews = check_against_creation_events(
        record="governance.review",
        rows=((review.pk, review_sha256(review), None) for review in reviews),
        event_type=Event.REVIEW_RECORDED,
        target_type="governance.review",
        hash_key="content_sha256",
        report=report,
    )
    # the state each item's last event left it in (items queued at ingest start pending, with no event)
    last: dict[int, dict] = {}
    events = (
        AuditEvent.objects.filter(event_type__in=[Event.REVIEW_RECORDED, Event.REVIEW_QUEUED])
        .order_by("seq")
        .values_list("event_type", "target_id", "after")
        .iterator(chunk_size=5000)
    )
    for event_type, target_id, after in events:
        after = after or {}
        item_id = after.get("item") if event_type == Event.REVIEW_RECORDED else int(target_id)
        if item_id is not None:
            last[int(item_id)] = {"status": after.get("status"), "final_decision": after.get("item_final_decision")}
    checked_items = 0
    for pk, status, final in ReviewItem.objects.order_by("pk").values_list("pk", "status", "final_decision"):
        checked_items += 1
        expected = last.get(pk, {"status": ReviewItem.Status.PENDING, "final_decision": None})
        if status != expected["status"]:
            report("governance.reviewitem", pk, f"status {status} is not the {expected['status']} its reviews left")
        elif json.dumps(final, sort_keys=True) != json.dumps(expected["final_decision"], sort_keys=True):
            report("governance.reviewitem", pk, "final decision differs from the one its reviews recorded")
    return {"governance.review": checked_reviews, "governance.reviewitem": checked_items}
