"""A project's record of processing activities (GDPR Art. 30(1)), generated from what the service records: the
controller (the project), each data set holding personal data (its purpose, legal basis, the categories of data
as its columns, how many data subjects its versions index), the processing by each model (risk tier, intended
use, where it is deployed, the sensitive attributes its decisions carry for fairness audits), other apps'
processing (LLM calls: which providers receive prompts), the recipients of alerts, retention, and the technical
measures the service itself applies (Art. 32)."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from urllib.parse import urlsplit

from django.db.models import Count, Q

from governance.models import Decision, Policy, Webhook
from governance.subject_data import subject_data_contributors
from registry.models import Dataset, DataVersion, Deployment, Model, ModelVersion, Project, SubjectIndex

SECURITY_MEASURES = [
    "Data subject ids are pseudonymised on arrival (HMAC-SHA256 under a key kept outside the database); raw ids "
    "are stored nowhere, not in logs or error messages.",
    "Every change is recorded in an append-only, hash-chained audit trail whose verification detects any edit, "
    "insertion or deletion.",
    "Each logged decision carries a salted commitment, and each ingest batch a hash recorded in the trail: edits by "
    "SQL are detected; an erasure removes the personal fields and the salt and the log still verifies.",
    "API keys are stored as SHA-256 hashes only; each is scoped to one project and one role; admin access follows "
    "the same roles and projects; failed admin logins are throttled.",
    "Erasure (Art. 17) removes the person from decisions, subject indexes, explanations and LLM records, "
    "suppresses later ingest of their data, and opens retraining obligations for models trained on them.",
]
RETENTION = "No retention limit is configured: records are kept until erased on request."


def processing_record(*, project: Project, now: datetime) -> dict:
    datasets = list(Dataset.objects.filter(project=project).order_by("name"))
    subjects = dict(
        SubjectIndex.objects.filter(data_version__dataset__project=project)
        .values("data_version__dataset")
        .annotate(n=Count("subject_key", distinct=True))
        .values_list("data_version__dataset", "n")
    )
    latest = {}
    for version in DataVersion.objects.filter(project=project).order_by("dataset_id", "created_at", "id"):
        latest[version.dataset_id] = version
    data = [
        {
            "dataset": dataset.name,
            "purpose": dataset.description,
            "legal_basis": dataset.legal_basis,
            "personal_data": dataset.contains_personal_data,
            "categories": ", ".join(sorted(latest[dataset.pk].schema)) if dataset.pk in latest else "",
            "data_subjects": subjects.get(dataset.pk, 0),
        }
        for dataset in datasets
    ]
    live = Q(ended_at__isnull=True) | Q(ended_at__gt=now)
    processing = []
    for model in Model.objects.filter(project=project).order_by("name"):
        versions = list(ModelVersion.objects.filter(model=model).order_by("-version"))
        deployed = sorted(
            set(
                Deployment.objects.filter(model=model, started_at__lte=now)
                .filter(live)
                .values_list("environment", flat=True)
            )
        )
        sensitive = set()
        for keys in (
            Decision.objects.filter(model_version__model=model)
            .exclude(sensitive={})
            .values_list("sensitive", flat=True)[:1000]
        ):
            sensitive |= set(keys)
        current = next((v for v in versions if v.stage == "production"), versions[0] if versions else None)
        processing.append(
            {
                "activity": f"automated decisions by {model.name}",
                "risk_tier": model.risk_tier,
                "intended_use": current.intended_use if current else "",
                "deployed_to": ", ".join(deployed),
                "versions": len(versions),
                "sensitive_attributes": ", ".join(sorted(sensitive)),
            }
        )
    for contributor in subject_data_contributors():
        describe = getattr(contributor, "processing", None)
        if describe is not None:
            processing.extend(describe(project_id=project.pk))
    recipients = sorted(
        {
            urlsplit(url).hostname or url
            for url in Webhook.objects.filter(project=project, active=True).values_list("url", flat=True)
        }
    )
    policy = Policy.objects.filter(project=project).first()
    return {
        "generated_at": now.isoformat(),
        "controller": project.name,
        "project": project.slug,
        "data": data,
        "processing": processing,
        "alert_recipients": recipients,
        "reason_codes": dict(policy.reason_codes) if policy else {},
        "retention": RETENTION,
        "security_measures": SECURITY_MEASURES,
    }


def processing_record_csv(record: dict) -> str:
    """The record as one CSV table: a row per data set and per processing activity, then the measures."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["section", "name", "purpose or use", "legal basis or risk tier", "categories", "subjects or where"]
    )
    for row in record["data"]:
        writer.writerow(
            ["data", row["dataset"], row["purpose"], row["legal_basis"], row["categories"], row["data_subjects"]]
        )
    for row in record["processing"]:
        writer.writerow(
            [
                "processing",
                row["activity"],
                row.get("intended_use", ""),
                row.get("risk_tier", ""),
                row.get("sensitive_attributes", ""),
                row.get("deployed_to", ""),
            ]
        )
    for host in record["alert_recipients"]:
        writer.writerow(["recipient", host, "alerts (webhooks)", "", "", ""])
    writer.writerow(["retention", "", record["retention"], "", "", ""])
    for measure in record["security_measures"]:
        writer.writerow(["security", "", measure, "", "", ""])
    return out.getvalue()
