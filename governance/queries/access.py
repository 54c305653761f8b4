"""What a subject access report says (GDPR Art. 15(1), 15(1)(h); AI Act Art. 86): every decision about the person
(which model version, when, the outcome, the final outcome after human review, the main factors in plain words,
how to contest it), the data versions that hold them (dataset, purpose, legal basis), what other apps hold (LLM
calls about them), the erasures already done, and what retention applies. Read from the records at the moment it
is asked for; holds no subject id or key."""

from __future__ import annotations

from datetime import datetime

from governance.models import Decision, ErasureRequest, Policy, ReviewItem
from governance.subject_data import generic_rows, subject_data_contributors
from registry.models import ModelVersion, Project, SubjectIndex

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


def subject_access_report(*, project_id: int, subject_key: str, now: datetime) -> dict:
    project = Project.objects.get(pk=project_id)
    catalogue = Policy.objects.filter(project_id=project_id).values_list("reason_codes", flat=True).first() or {}
    decisions = Decision.objects.filter(project_id=project_id, subject_key=subject_key).order_by("occurred_at", "id")
    listed = list(decisions[:MAX_LISTED])
    count = len(listed) if len(listed) < MAX_LISTED else decisions.count()
    versions = {
        v.pk: v
        for v in ModelVersion.objects.filter(pk__in={d.model_version_id for d in listed}).select_related("model")
    }
    reviews = {
        (item.model_version_id, item.request_id): item
        for item in ReviewItem.objects.filter(
            project_id=project_id,
            model_version_id__in={d.model_version_id for d in listed},
            request_id__in={d.request_id for d in listed},
        )
    }
    items = []
    for decision in listed:
        version = versions[decision.model_version_id]
        review = reviews.get((decision.model_version_id, decision.request_id))
        final = decision.prediction
        if review is not None and review.status == ReviewItem.Status.OVERRIDDEN:
            final = review.final_decision
        reasons, factors = factors_in_words(decision.explanation, catalogue)
        items.append(
            {
                "reference": f"{version.model.name} v{version.version} / {decision.request_id}",
                "model": version.model.name,
                "model_version": version.version,
                "occurred_at": decision.occurred_at.isoformat(),
                "prediction": decision.prediction,
                "score": decision.score,
                "final_decision": final,
                "review": review.get_status_display() if review is not None else None,
                "outcome": decision.outcome,
                "reasons": reasons,
                "main_factors": factors,
                "explained_by": (
                    f"{decision.explanation.get('library', 'an explainer')} "
                    f"{decision.explanation.get('method', '')}".strip()
                    if decision.explanation
                    else None
                ),
            }
        )
    held = (
        SubjectIndex.objects.filter(subject_key=subject_key, data_version__project_id=project_id)
        .select_related("data_version__dataset")
        .order_by("data_version__dataset__name", "data_version_id")
    )
    data = [
        {
            "dataset": row.data_version.dataset.name,
            "version": row.data_version.version,
            "purpose": row.data_version.dataset.description,
            "legal_basis": row.data_version.dataset.legal_basis,
            "registered_at": row.data_version.created_at.isoformat(),
        }
        for row in held
    ]
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
            "reference": request.reference,
            "status": request.get_status_display(),
            "received_at": request.received_at.isoformat(),
            "executed_at": request.executed_at.isoformat() if request.executed_at else None,
            "decisions_erased": (request.execution or {}).get("decisions_redacted"),
        }
        for request in ErasureRequest.objects.filter(project_id=project_id, subject_key=subject_key).order_by(
            "received_at", "id"
        )
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
