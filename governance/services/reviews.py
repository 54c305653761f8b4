"""Human review of decisions (AI Act Art. 14: a person can confirm or override the system's output; GDPR
Art. 22(3): the right to human intervention).

The project's policy (`Policy.review_*`) says which decisions need a person; they enter the review queue at
ingest (`review_queue_enter`, called by `decisions_ingest` in its transaction). A reviewer records a verdict
(`review_record`): *confirmed*, *overridden* with the final decision, or *escalated*, always with a reason.
With four eyes on (the default), an override stands only once a second person agrees; a refusal escalates the
decision to a compliance officer, who decides it. Reviews are append-only rows, each with its audit event; the
queue item is their projection. Reviews done elsewhere arrive in bulk (`reviews_import`). After each closing
review the version's override rate over the policy's window is judged (`override_rate_watch`): too low reads as
automation bias, too high as a model overridden too often, and either raises an alert once per window.

Services built on reviews (contests) react to an item's closing review through `on_review_closed`, registered in
GovernanceConfig.ready(), so that this module imports none of them.

Sampling uses a keyed hash of the decision's (model version, request id) under the service's secret: the
application that logs decisions cannot choose request ids that escape review.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from governance.events import GovernanceEvent as Event
from governance.models import Decision, Policy, Review, ReviewItem
from governance.permissions import REVIEW_IMPORTERS, REVIEW_RESOLVERS, REVIEWERS
from governance.queries.reviews import override_rate_judgement, override_rates
from governance.review_integrity import review_sha256
from governance.services.alerts import alert_raise
from registry.actors import Actor
from registry.audit import audit_append
from registry.errors import Conflict, Forbidden, field_error
from registry.locks import for_update
from registry.models import AuditEvent, ModelVersion
from registry.validation import BulkErrors, check_items, is_finite_number, is_int, parse_timestamp

ReviewClosed = Callable[..., object]  # called with actor=, item=, now=
_review_closed_hooks: list[ReviewClosed] = []


def on_review_closed(hook: ReviewClosed) -> ReviewClosed:
    """Run `hook(actor=, item=, now=)` inside the transaction of every review that closes an item."""
    if hook not in _review_closed_hooks:
        _review_closed_hooks.append(hook)
    return hook


def _review_closed(actor: Actor, item: ReviewItem, now: datetime) -> None:
    for hook in _review_closed_hooks:
        hook(actor=actor, item=item, now=now)


MAX_REVIEWS_PER_REQUEST = 5_000
MAX_REASON_CHARS = 2_000
OVERRIDE_RATE_ALERT = "review.override_rate"
SAMPLE_SALT = "governance.review-sample"

Status, Verdict, Reason = ReviewItem.Status, Review.Verdict, ReviewItem.Reason
FIRST_VERDICTS = (Verdict.CONFIRMED, Verdict.OVERRIDDEN, Verdict.ESCALATED)
SECOND_VERDICTS = (Verdict.OVERRIDE_AGREED, Verdict.OVERRIDE_REFUSED)
IMPORT_VERDICTS = FIRST_VERDICTS


def _json_key(value: object) -> str:
    """A value's JSON identity (true and 1 are different labels, as in the decision log's jsonb)."""
    return json.dumps(value, sort_keys=True)


def is_decision_value(value: object) -> bool:
    """What a decision can be: a string, a finite number or a boolean (as a prediction)."""
    return isinstance(value, (str, bool)) or is_finite_number(value)


def sampled(rate: float, model_version_id: int, request_id: str) -> bool:
    """Whether a decision falls in the sampled share: a keyed hash, so that the share is what the policy says
    and nobody without the service's secret can tell which request ids are sampled."""
    if rate <= 0:
        return False
    digest = salted_hmac(SAMPLE_SALT, f"{model_version_id}:{request_id}", algorithm="sha256").digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < rate


def review_reasons(
    policy: Policy, *, risk_tier: str, model_version_id: int, request_id: str, prediction: object, score
) -> list[str]:
    """Why a decision needs a person under the policy (empty: it does not)."""
    if not policy.reviews_any or (policy.review_risk_tiers and risk_tier not in policy.review_risk_tiers):
        return []
    reasons = []
    if policy.review_labels and _json_key(prediction) in {_json_key(label) for label in policy.review_labels}:
        reasons.append(Reason.LABEL)
    low, high = policy.review_score_min, policy.review_score_max
    if score is not None and (low is not None or high is not None):
        if (low is None or score >= low) and (high is None or score <= high):
            reasons.append(Reason.SCORE)
    if not reasons and sampled(policy.review_sample_rate, model_version_id, request_id):
        reasons.append(Reason.SAMPLE)
    return [str(reason) for reason in reasons]


@dataclass(frozen=True)
class Candidate:
    """A decision of an ingest batch, as the queue needs it."""

    project_id: int
    model_version_id: int
    request_id: str
    prediction: object
    score: float | None


def review_queue_enter(*, batch, candidates: Sequence[Candidate], risk_tiers: dict[int, str], now: datetime) -> int:
    """Queue the batch's decisions that need a person. Runs in the ingest's transaction, after the insert: only
    rows of this batch (`batch_id`) are queued, so a retried batch's duplicates queue nothing twice. Answers how
    many entered the queue. One query for the policies; two more only when some decision needs review."""
    projects = {candidate.project_id for candidate in candidates}
    policies = {p.project_id: p for p in Policy.objects.filter(project_id__in=projects) if p.reviews_any}
    if not policies:
        return 0
    wanted: dict[tuple[int, str], list[str]] = {}
    for candidate in candidates:
        policy = policies.get(candidate.project_id)
        if policy is None:
            continue
        reasons = review_reasons(
            policy,
            risk_tier=risk_tiers[candidate.model_version_id],
            model_version_id=candidate.model_version_id,
            request_id=candidate.request_id,
            prediction=candidate.prediction,
            score=candidate.score,
        )
        if reasons:
            wanted[(candidate.model_version_id, candidate.request_id)] = reasons
    if not wanted:
        return 0
    rows = Decision.objects.filter(
        batch_id=batch,
        model_version_id__in={mv for mv, _ in wanted},
        request_id__in={request_id for _, request_id in wanted},
    ).values_list("id", "project_id", "model_version_id", "request_id", "occurred_at")
    items = [
        ReviewItem(
            project_id=project_id,
            model_version_id=mv_id,
            request_id=request_id,
            decision_id=decision_id,
            decision_occurred_at=occurred_at,
            reasons=wanted[(mv_id, request_id)],
            entered_at=now,
        )
        for decision_id, project_id, mv_id, request_id, occurred_at in rows
        if (mv_id, request_id) in wanted
    ]
    ReviewItem.objects.bulk_create(items, ignore_conflicts=True)
    return len(items)


def review_request(*, actor: Actor, decision: Decision, reason: str, priority: int = 0) -> ReviewItem:
    """Put one decision in the queue (a contest, a person asking for one): an open item gets the higher priority
    and the reason; a closed one is opened again, since a person asked for another look."""
    now = timezone.now()
    with transaction.atomic():
        item, created = for_update(ReviewItem.objects).get_or_create(
            project_id=decision.project_id,
            model_version_id=decision.model_version_id,
            request_id=decision.request_id,
            defaults={
                "decision_id": decision.pk,
                "decision_occurred_at": decision.occurred_at,
                "reasons": [reason],
                "priority": priority,
                "entered_at": now,
            },
        )
        if not created:
            before = {"status": item.status, "priority": item.priority, "reasons": list(item.reasons)}
            item.priority = max(item.priority, priority)
            if reason not in item.reasons:
                item.reasons = [*item.reasons, reason]
            if not item.is_open:
                item.status, item.closed_at, item.entered_at = Status.PENDING, None, now
            item.save(update_fields=["priority", "reasons", "status", "closed_at", "entered_at"])
        else:
            before = None
        audit_append(
            actor=actor,
            event_type=Event.REVIEW_QUEUED,
            target=item,
            before=before,
            after={
                "status": item.status,
                "priority": item.priority,
                "reasons": list(item.reasons),
                "item_final_decision": item.final_decision,
            },
        )
    return item


def _same_person(actor: Actor, review: Review) -> bool:
    """Four eyes compares people, not keys: a second key of the first reviewer's is the first reviewer again."""
    return review.reviewer_user_id is not None and review.reviewer_user_id == actor.person_id


def _reason(reason: object) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise field_error("reason", "say why: a review is kept with its reason")
    if len(reason) > MAX_REASON_CHARS:
        raise field_error("reason", f"must be at most {MAX_REASON_CHARS} characters")
    return reason.strip()


def _final(verdict: str, final_decision: object, prediction: object) -> object:
    if verdict != Verdict.OVERRIDDEN:
        if final_decision is not None:
            raise field_error("final_decision", "only an override gives a final decision")
        return None
    if final_decision is None:
        raise field_error("final_decision", "an override needs the final decision")
    if not is_decision_value(final_decision):
        raise field_error("final_decision", "must be a string, number or boolean")
    if _json_key(final_decision) == _json_key(prediction):
        raise field_error("final_decision", "equals the model's decision: confirm it instead of overriding")
    return final_decision


def review_record(
    *, actor: Actor, item: ReviewItem, verdict: str, reason: object, final_decision: object = None
) -> Review:
    """Record one person's verdict on a queued decision and move the item on (see the module's docstring)."""
    if verdict not in Verdict.values:
        raise field_error("verdict", f"must be one of {', '.join(Verdict.values)}")
    reason = _reason(reason)
    with transaction.atomic():
        locked = for_update(ReviewItem.objects).get(pk=item.pk)
        if not actor.can(REVIEWERS, locked.project_id):
            raise Forbidden("only a reviewer or a compliance officer of the project reviews its decisions")
        if actor.person_id is None:
            raise Forbidden("a review is a person's: sign in, or use a key you own (this one has no owner)")
        decision = Decision.objects.filter(pk=locked.decision_id, occurred_at=locked.decision_occurred_at).first()
        if decision is None:
            raise Conflict(f"decision {locked.decision_id} is no longer in the log", code="decision_missing")
        before = locked.status
        proposal = None
        if before == Status.PENDING:
            if verdict not in FIRST_VERDICTS:
                raise field_error("verdict", f"a decision waiting for review is {', '.join(FIRST_VERDICTS)}")
        elif before == Status.SECOND:
            if verdict not in SECOND_VERDICTS:
                raise field_error("verdict", f"an override waiting for a second person is {', '.join(SECOND_VERDICTS)}")
            proposal = locked.reviews.filter(verdict=Verdict.OVERRIDDEN).order_by("-id").first()
            if proposal is not None and _same_person(actor, proposal):
                raise Forbidden("four eyes: the second person must not be the one who overrode the decision")
        elif before == Status.ESCALATED:
            if not actor.can(REVIEW_RESOLVERS, locked.project_id):
                raise Forbidden("an escalated decision is decided by a compliance officer")
            if verdict not in (Verdict.CONFIRMED, Verdict.OVERRIDDEN):
                raise field_error("verdict", "an escalated decision is confirmed or overridden")
        else:
            raise Conflict(f"decision {locked.decision_id} was already reviewed ({before})", code="already_reviewed")
        final = _final(verdict, final_decision, decision.prediction)

        now = timezone.now()
        status, closing_final = _next(locked, verdict, before), None
        if verdict == Verdict.OVERRIDE_AGREED:
            closing_final = proposal.final_decision if proposal is not None else None
        elif status == Status.OVERRIDDEN:
            closing_final = final
        review = Review.objects.create(
            project_id=locked.project_id,
            item=locked,
            model_version_id=locked.model_version_id,
            decision_id=locked.decision_id,
            decision_occurred_at=locked.decision_occurred_at,
            verdict=verdict,
            final_decision=final,
            reason=reason,
            reviewer_user_id=actor.person_id,
            reviewer_key=actor.api_key,
            reviewed_at=now,
            created_at=now,
        )
        locked.status = status
        if status == Status.OVERRIDDEN:
            locked.final_decision = closing_final
        elif status == Status.CONFIRMED:
            locked.final_decision = None
        # an open item keeps the final decision an earlier review gave it (a contest reopens a reviewed one)
        locked.closed_at = now if status not in ReviewItem.OPEN else None
        locked.save(update_fields=["status", "final_decision", "closed_at"])
        _audit(actor, locked, review, before)
        if locked.closed_at is not None:
            _review_closed(actor, locked, now)
            override_rate_watch(actor=actor, model_version_id=locked.model_version_id, now=now)
    return review


def _next(item: ReviewItem, verdict: str, before: str) -> str:
    """The item's next status after this verdict."""
    if verdict == Verdict.CONFIRMED:
        return Status.CONFIRMED
    if verdict in (Verdict.ESCALATED, Verdict.OVERRIDE_REFUSED):
        return Status.ESCALATED
    if verdict == Verdict.OVERRIDE_AGREED:
        return Status.OVERRIDDEN
    # an override: four eyes, unless it is a compliance officer deciding an escalated decision
    policy = Policy.objects.filter(project_id=item.project_id).first()
    four_eyes = policy.review_four_eyes if policy is not None else True
    return Status.SECOND if four_eyes and before != Status.ESCALATED else Status.OVERRIDDEN


def _audit(actor: Actor, item: ReviewItem, review: Review, before: str | None) -> AuditEvent:
    return audit_append(
        actor=actor,
        event_type=Event.REVIEW_RECORDED,
        target=review,
        target_repr=f"review {review.pk} of decision {item.decision_id}",
        before=None if before is None else {"status": before},
        after={
            "item": item.pk,
            "decision": item.decision_id,
            "model_version": item.model_version_id,
            "request_id": item.request_id,
            "verdict": review.verdict,
            "final_decision": review.final_decision,
            "reason": review.reason,
            "source": review.source,
            "reviewer": review.reviewer_name or None,
            "external_id": review.external_id or None,
            "reviewed_at": review.reviewed_at,
            "status": item.status,
            "item_final_decision": item.final_decision,
            "content_sha256": review_sha256(review),
        },
    )


# Override rates ----------------------------------------------------------------------------------------------


def override_rate_watch(*, actor: Actor, model_version_id: int, now: datetime) -> bool:
    """Judge the version's override rate over the policy's window; alert when it is out of bounds, at most once
    per window and direction (the last alert is read from the audit trail). Answers whether it alerted."""
    version = ModelVersion.objects.only("id", "project_id").get(pk=model_version_id)
    policy = Policy.objects.filter(project_id=version.project_id).first()
    if policy is None:
        return False
    since = now - timedelta(days=policy.review_rate_window_days)
    rates = override_rates(model_version_ids=[model_version_id], since=since)
    if not rates:
        return False
    judgement = override_rate_judgement(policy, rates[0])
    if judgement is None:
        return False
    already = AuditEvent.objects.filter(
        event_type=Event.ALERT_RAISED,
        target_type=ModelVersion._meta.label_lower,
        target_id=str(model_version_id),
        occurred_at__gte=since,
        after__alert=OVERRIDE_RATE_ALERT,
        after__judgement=judgement,
    ).exists()
    if already:
        return False
    rate = rates[0]
    alert_raise(
        actor=actor,
        project_id=version.project_id,
        alert_type=OVERRIDE_RATE_ALERT,
        target=version,
        payload={
            "model_version": model_version_id,
            "judgement": judgement,
            "override_rate": round(rate.rate, 4),
            "reviewed": rate.reviewed,
            "overridden": rate.overridden,
            "window_days": policy.review_rate_window_days,
            "bounds": [policy.review_min_override_rate, policy.review_max_override_rate],
        },
    )
    return True


# Reviews done elsewhere --------------------------------------------------------------------------------------

IMPORT_FIELDS = frozenset(
    {"model_version", "request_id", "verdict", "final_decision", "reason", "reviewer", "reviewed_at", "external_id"}
)


@dataclass(frozen=True)
class ImportResult:
    accepted: int
    duplicates: int


def reviews_import(*, actor: Actor, items: Sequence[object]) -> ImportResult:
    """Reviews done in another system, in bulk: each names its decision (model version, request id), its verdict
    (confirmed, overridden with the final decision, escalated), reason, reviewer, time and the other system's id
    (`external_id`, once per project: a re-sent batch adds nothing). The other system's process stands: an
    override is final on arrival. A decision already reviewed here is refused; the whole batch is validated
    before anything is written."""
    items = check_items(items, "reviews", MAX_REVIEWS_PER_REQUEST)
    errors = BulkErrors("reviews")
    scope = actor.project_ids(REVIEW_IMPORTERS)
    versions = ModelVersion.objects.filter(
        pk__in={mv for i in items if isinstance(i, dict) and is_int(mv := i.get("model_version"))}
    )
    if scope is not None:
        versions = versions.filter(project_id__in=scope)
    version_projects = dict(versions.values_list("pk", "project_id"))
    wanted: list[tuple[int, dict]] = []
    seen: dict[tuple[int, str], int] = {}
    for index, item in enumerate(items):
        checked = _import_item(index, item, version_projects, errors, seen)
        if checked is not None:
            wanted.append((index, checked))
    errors.raise_if_any()

    decisions = _decisions_named([checked for _, checked in wanted])
    for index, checked in wanted:
        if (checked["model_version"], checked["request_id"]) not in decisions:
            message = f"no decision {checked['request_id']!r} of model version {checked['model_version']} is logged"
            errors.add(index, "request_id", message)
    errors.raise_if_any()

    now = timezone.now()
    accepted = duplicates = 0
    with transaction.atomic():
        known = set(
            Review.objects.filter(
                project_id__in={version_projects[c["model_version"]] for _, c in wanted},
                external_id__in={c["external_id"] for _, c in wanted},
            ).values_list("project_id", "external_id")
        )
        open_items = {
            (item.model_version_id, item.request_id): item
            for item in for_update(ReviewItem.objects).filter(
                model_version_id__in={c["model_version"] for _, c in wanted},
                request_id__in={c["request_id"] for _, c in wanted},
            )
        }
        for index, checked in wanted:
            project_id = version_projects[checked["model_version"]]
            if (project_id, checked["external_id"]) in known:
                duplicates += 1
                continue
            key = (checked["model_version"], checked["request_id"])
            item = open_items.get(key)
            if item is not None and not item.is_open:
                errors.add(index, "request_id", f"the decision was already reviewed ({item.status})")
                continue
            decision = decisions[key]
            final = checked["final_decision"]
            if checked["verdict"] == Verdict.OVERRIDDEN and _json_key(final) == _json_key(decision.prediction):
                errors.add(index, "final_decision", "equals the model's decision: that is a confirmation")
                continue
            if item is None:
                item = ReviewItem.objects.create(
                    project_id=project_id,
                    model_version_id=decision.model_version_id,
                    request_id=decision.request_id,
                    decision_id=decision.pk,
                    decision_occurred_at=decision.occurred_at,
                    reasons=[Reason.IMPORTED],
                    entered_at=now,
                )
                open_items[key] = item
            before = item.status
            review = Review.objects.create(
                project_id=project_id,
                item=item,
                model_version_id=item.model_version_id,
                decision_id=item.decision_id,
                decision_occurred_at=item.decision_occurred_at,
                verdict=checked["verdict"],
                final_decision=final,
                reason=checked["reason"],
                reviewer_name=checked["reviewer"],
                reviewer_key=actor.api_key,
                reviewer_user_id=actor.person_id,
                source=Review.Source.IMPORTED,
                external_id=checked["external_id"],
                reviewed_at=checked["reviewed_at"],
                created_at=now,
            )
            item.status = {
                Verdict.CONFIRMED: Status.CONFIRMED,
                Verdict.OVERRIDDEN: Status.OVERRIDDEN,
                Verdict.ESCALATED: Status.ESCALATED,
            }[checked["verdict"]]
            item.final_decision = final if item.status == Status.OVERRIDDEN else None
            item.closed_at = now if item.status not in ReviewItem.OPEN else None
            item.save(update_fields=["status", "final_decision", "closed_at"])
            _audit(actor, item, review, before)
            if item.closed_at is not None:
                _review_closed(actor, item, now)
            known.add((project_id, checked["external_id"]))
            accepted += 1
        errors.raise_if_any()  # rolls the batch back: nothing half-written
        for mv_id in sorted({c["model_version"] for _, c in wanted}):
            override_rate_watch(actor=actor, model_version_id=mv_id, now=now)
    return ImportResult(accepted=accepted, duplicates=duplicates)


def _import_item(index: int, item: object, versions: dict[int, int], errors: BulkErrors, seen: dict) -> dict | None:
    if not isinstance(item, dict):
        errors.add(index, None, "must be an object")
        return None
    before = errors.count
    for name in sorted(item.keys() - IMPORT_FIELDS):
        errors.add(index, name, "is not a known field")
    mv_id = item.get("model_version")
    if not is_int(mv_id):
        errors.add(index, "model_version", "is required and must be an integer id")
    elif mv_id not in versions:
        errors.add(index, "model_version", f"model version {mv_id} does not exist")
    request_id = item.get("request_id")
    if not isinstance(request_id, str) or not request_id.strip():
        errors.add(index, "request_id", "is required and must be a non-empty string")
    verdict = item.get("verdict")
    if verdict not in IMPORT_VERDICTS:
        errors.add(index, "verdict", f"must be one of {', '.join(IMPORT_VERDICTS)}")
    final = item.get("final_decision")
    if verdict == Verdict.OVERRIDDEN:
        if final is None:
            errors.add(index, "final_decision", "an override needs the final decision")
        elif not is_decision_value(final):
            errors.add(index, "final_decision", "must be a string, number or boolean")
    elif final is not None:
        errors.add(index, "final_decision", "only an override gives a final decision")
    reason = item.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        errors.add(index, "reason", "is required: a review is kept with its reason")
    elif len(reason) > MAX_REASON_CHARS:
        errors.add(index, "reason", f"must be at most {MAX_REASON_CHARS} characters")
    reviewer = item.get("reviewer")
    if not isinstance(reviewer, str) or not reviewer.strip() or len(reviewer) > 200:
        errors.add(index, "reviewer", "is required: who reviewed, at most 200 characters")
    external_id = item.get("external_id")
    if not isinstance(external_id, str) or not external_id.strip() or len(external_id) > 200:
        errors.add(index, "external_id", "is required: the review's id in the other system, at most 200 characters")
    reviewed_at = None
    try:
        reviewed_at = parse_timestamp(item.get("reviewed_at"))
    except ValueError as exc:
        errors.add(index, "reviewed_at", str(exc))
    else:
        if reviewed_at > timezone.now() + timedelta(minutes=5):
            errors.add(index, "reviewed_at", "must not be in the future")
    if errors.count != before:
        return None
    first = seen.setdefault((mv_id, request_id), index)
    if first != index:
        errors.add(index, "request_id", f"repeats the decision of reviews[{first}]")
        return None
    return {
        "model_version": mv_id,
        "request_id": request_id,
        "verdict": verdict,
        "final_decision": final,
        "reason": reason.strip(),
        "reviewer": reviewer.strip(),
        "external_id": external_id.strip(),
        "reviewed_at": reviewed_at,
    }


def _decisions_named(checked: list[dict]) -> dict[tuple[int, str], Decision]:
    if not checked:
        return {}
    rows = Decision.objects.filter(
        model_version_id__in={c["model_version"] for c in checked},
        request_id__in={c["request_id"] for c in checked},
    ).only("id", "project_id", "model_version_id", "request_id", "occurred_at", "prediction")
    return {(d.model_version_id, d.request_id): d for d in rows}
