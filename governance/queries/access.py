"""What a subject access report says (GDPR Art. 15(1), 15(1)(h); AI Act Art. 86): every decision about the person
(which model version, when, the outcome, the final outcome after human review, the main factors in plain words,
how to contest it), the data versions that hold them (dataset, purpose, legal basis), what other apps hold (LLM
calls about them), the erasures already done, and what retention applies. Read from the records at the moment it
is asked for; holds no subject id or key.

A view that holds the access request selects `REPORT_RELATED` with it, so the report reads the project's name and
reason-code catalogue without asking again; the person's decisions come with their model version, model and review
in one statement (issue 16: the report's p50 under 20 ms on 1,000,000 decisions, bench/evidence.py)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import F, JSONField, OuterRef, Subquery

from governance.models import Decision, ErasureRequest, Policy, ReviewItem
from governance.subject_data import generic_rows, subject_data_contributors
from registry.models import Project, SubjectIndex

REPORT_RELATED = ("project__policy",)  # selected with an access request: what the report reads of its project

MAX_LISTED = 1000
TOP_FACTORS = 3
CONTEST = (
    "You may contest any of these decisions and obtain a review by a person (GDPR Art. 22(3)): reply quoting its "
    "reference."
)
RETENTION = (
    "No retention limit is set for this project yet: these records are kept until they are erased at your request."
)


def factors_in_words(explanation: dict | None, catalogue: dict) -> tuple[list[str], list[str]]:
    """The principal reasons (the catalogue's sentences for the explanation's reason codes) and the features that
    moved the score most, as sentences ("checks lowered the score by 0.0541")."""
    if not explanation:
        return [], []
    reasons = [catalogue.get(code, code) for code in explanation.get("reason_codes") or []]
    attributions = explanation.get("attributions") or {}
    ranked = sorted(attributions.items(), key=lambda item: (-abs(item[1]), item[0]))[:TOP_FACTORS]
    factors = [
        f"{name} {'raised' if value > 0 else 'lowered'} the score by {abs(value):.3g}"
        for name, value in ranked
        if value
    ]
    return reasons, factors


def reason_catalogue(project: Project) -> dict:
    """The project's reason-code catalogue: from a policy selected with the project (REPORT_RELATED), else read."""
    try:
        return project.policy.reason_codes or {}
    except Policy.DoesNotExist:
        return {}


def _their_decisions(project_id: int, subject_key: str):
    """The person's decisions as rows of what the report says of each: their model and version, and their review's
    status and final decision (the review named by project, model version and request id, as ReviewItem is)."""
    review = ReviewItem.objects.filter(
        project_id=OuterRef("project_id"),
        model_version_id=OuterRef("model_version_id"),
        request_id=OuterRef("request_id"),
    )
    return (
        Decision.objects.filter(project_id=project_id, subject_key=subject_key)
        .order_by("occurred_at", "id")
        .values(
            "request_id",
            "occurred_at",
            "prediction",
            "score",
            "outcome",
            "explanation",
            version=F("model_version__version"),
            model=F("model_version__model__name"),
            review_status=Subquery(review.values("status")[:1]),
            review_final=Subquery(review.values("final_decision")[:1], output_field=JSONField()),
        )
    )


def subject_access_report(*, project: Project, subject_key: str, now: datetime) -> dict:
    project_id = project.pk
    catalogue = reason_catalogue(project)
    decisions = _their_decisions(project_id, subject_key)
    listed = list(decisions[:MAX_LISTED])
    count = len(listed) if len(listed) < MAX_LISTED else decisions.count()
    items = []
    for decision in listed:
        final = decision["prediction"]
        if decision["review_status"] == ReviewItem.Status.OVERRIDDEN:
            final = decision["review_final"]
        explanation = decision["explanation"]
        reasons, factors = factors_in_words(explanation, catalogue)
        items.append(
            {
                "reference": f"{decision['model']} v{decision['version']} / {decision['request_id']}",
                "model": decision["model"],
                "model_version": decision["version"],
                "occurred_at": decision["occurred_at"].isoformat(),
                "prediction": decision["prediction"],
                "score": decision["score"],
                "final_decision": final,
                "review": ReviewItem.Status(decision["review_status"]).label if decision["review_status"] else None,
                "outcome": decision["outcome"],
                "reasons": reasons,
                "main_factors": factors,
                "explained_by": (
                    f"{explanation.get('library', 'an explainer')} {explanation.get('method', '')}".strip()
                    if explanation
                    else None
                ),
            }
        )
    held = (
        SubjectIndex.objects.filter(subject_key=subject_key, data_version__project_id=project_id)
        .order_by("data_version__dataset__name", "data_version_id")
        .values(
            dataset=F("data_version__dataset__name"),
            version=F("data_version__version"),
            purpose=F("data_version__dataset__description"),
            legal_basis=F("data_version__dataset__legal_basis"),
            registered_at=F("data_version__created_at"),
        )
    )
    data = [{**row, "registered_at": row["registered_at"].isoformat()} for row in held]
    other = []
    for contributor in subject_data_contributors():
        counted = getattr(contributor, "access_rows", None)
        if counted is not None:
            rows = counted(project_id=project_id, subject_key=subject_key)
        else:
            section = contributor.trace(project_id=project_id, subject_key=subject_key)
            reader = getattr(contributor, "trace_rows", None)
            rows = reader(section) if reader is not None else generic_rows(section)
        other.extend({"record": row["record"], "count": row["count"]} for row in rows)
    erasures = [
        {
            "reference": request["reference"],
            "status": ErasureRequest.Status(request["status"]).label,
            "received_at": request["received_at"].isoformat(),
            "executed_at": request["executed_at"].isoformat() if request["executed_at"] else None,
            "decisions_erased": (request["execution"] or {}).get("decisions_redacted"),
        }
        for request in ErasureRequest.objects.filter(project_id=project_id, subject_key=subject_key)
        .order_by("received_at", "id")
        .values("reference", "status", "received_at", "executed_at", "execution")
    ]
    return {
        "generated_at": now.isoformat(),
        "project": project.name,
        "decisions": {"count": count, "listed": len(items), "items": items},
        "data": data,
        "other": other,
        "erasures": erasures,
        "how_to_contest": CONTEST,
        "retention": RETENTION,
    }
