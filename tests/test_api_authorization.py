"""Every endpoint: anonymous (401), each wrong role (403), the right role of another project
(404, or an empty list, or 400 for a reference it may not see) and the happy path."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd
import pytest

from registry.models import AuditEvent
from tests import factories as f
from tests.helpers import make_promotable

READERS = {"data_scientist", "compliance_officer", "risk_analyst"}
ALL_ROLES = READERS | {"ingest", "reviewer"}


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: Callable
    allowed: frozenset[str]
    body: Callable | None = None
    other_project: str = "not_found"  # or "hidden_in_list" or "bad_reference"
    person: bool = False  # the operation is a person's: the keys it is called with have an owner

    def call(self, client, ctx):
        path = self.path(ctx)
        if self.method == "get":
            return client.get(path)
        return getattr(client, self.method)(path, self.body(ctx) if self.body else {}, format="json")


def _decision(ctx, request_id="new-1"):
    return {
        "model_version": ctx.version.pk,
        "request_id": request_id,
        "subject_id": "alice",
        "features": {"age": 40},
        "prediction": "Yes",
        "occurred_at": "2026-03-01T00:00:00Z",
    }


R = frozenset(READERS)
DS = frozenset({"data_scientist"})
ENDPOINTS = [
    Endpoint("projects list", "get", lambda c: "/api/v1/projects/", R, other_project="hidden_in_list"),
    Endpoint("project detail", "get", lambda c: f"/api/v1/projects/{c.project.slug}/", R),
    Endpoint(
        "project create",
        "post",
        lambda c: "/api/v1/projects/",
        frozenset(),
        body=lambda c: {"slug": "new", "name": "New"},
        other_project="forbidden",
    ),
    Endpoint("datasets list", "get", lambda c: "/api/v1/datasets/", R, other_project="hidden_in_list"),
    Endpoint("dataset detail", "get", lambda c: f"/api/v1/datasets/{c.raw.dataset_id}/", R),
    Endpoint(
        "dataset create",
        "post",
        lambda c: "/api/v1/datasets/",
        DS,
        body=lambda c: {"project": "acme", "name": "loans", "contains_personal_data": False},
        other_project="bad_reference",
    ),
    Endpoint("data versions list", "get", lambda c: "/api/v1/data-versions/", R, other_project="hidden_in_list"),
    Endpoint("data version detail", "get", lambda c: f"/api/v1/data-versions/{c.raw.pk}/", R),
    Endpoint(
        "data version create",
        "post",
        lambda c: "/api/v1/data-versions/",
        DS,
        body=lambda c: {
            "dataset": c.raw.dataset_id,
            "version": "v9",
            "content_sha256": "a" * 64,
            "row_count": 3,
            "schema": {"age": "int64"},
        },
        other_project="bad_reference",
    ),
    Endpoint(
        "data version subjects",
        "post",
        lambda c: f"/api/v1/data-versions/{c.raw.pk}/subjects/",
        DS,
        body=lambda c: {"subject_ids": ["alice", "bob"]},
    ),
    Endpoint("runs list", "get", lambda c: "/api/v1/runs/", R, other_project="hidden_in_list"),
    Endpoint("run detail", "get", lambda c: f"/api/v1/runs/{c.run.pk}/", R),
    Endpoint(
        "run create",
        "post",
        lambda c: "/api/v1/runs/",
        DS,
        body=lambda c: {"project": "acme", "name": "r", "inputs": [{"data_version": c.train.pk, "role": "train"}]},
        other_project="bad_reference",
    ),
    Endpoint("models list", "get", lambda c: "/api/v1/models/", R, other_project="hidden_in_list"),
    Endpoint("model detail", "get", lambda c: f"/api/v1/models/{c.model.pk}/", R),
    Endpoint("model live", "get", lambda c: f"/api/v1/models/{c.model.pk}/live/", R),
    Endpoint(
        "model create",
        "post",
        lambda c: "/api/v1/models/",
        DS,
        body=lambda c: {"project": "acme", "name": "fraud"},
        other_project="bad_reference",
    ),
    Endpoint("model versions list", "get", lambda c: "/api/v1/model-versions/", R, other_project="hidden_in_list"),
    Endpoint("model version detail", "get", lambda c: f"/api/v1/model-versions/{c.version.pk}/", R),
    Endpoint(
        "model version create",
        "post",
        lambda c: "/api/v1/model-versions/",
        DS,
        body=lambda c: {
            "model": c.model.pk,
            "run": c.run.pk,
            "artifact_uri": "s3://m/2.pkl",
            "artifact_sha256": "b" * 64,
        },
        other_project="bad_reference",
    ),
    Endpoint(
        "model version transition",
        "post",
        lambda c: f"/api/v1/model-versions/{c.version.pk}/transition/",
        frozenset({"data_scientist", "compliance_officer"}),
        body=lambda c: {"to_stage": "staging", "reason": "validated"},
    ),
    Endpoint(
        "model version card edit",
        "patch",
        lambda c: f"/api/v1/model-versions/{c.version.pk}/",
        frozenset({"data_scientist", "compliance_officer"}),
        body=lambda c: {"intended_use": "pre-screening", "limitations": "adults only"},
    ),
    Endpoint("deployments list", "get", lambda c: "/api/v1/deployments/", R, other_project="hidden_in_list"),
    Endpoint("deployment detail", "get", lambda c: f"/api/v1/deployments/{c.deployment.pk}/", R),
    Endpoint(
        "deployment create",
        "post",
        lambda c: "/api/v1/deployments/",
        DS,
        body=lambda c: {"model_version": c.version.pk, "environment": "staging", "strategy": "direct"},
        other_project="bad_reference",
    ),
    Endpoint("deployment end", "post", lambda c: f"/api/v1/deployments/{c.deployment.pk}/end/", DS),
    Endpoint("decisions list", "get", lambda c: "/api/v1/decisions/", R, other_project="hidden_in_list"),
    Endpoint("decisions csv", "get", lambda c: "/api/v1/decisions/?format=csv", R, other_project="hidden_in_csv"),
    Endpoint("decision detail", "get", lambda c: f"/api/v1/decisions/{c.decision.pk}/", R),
    Endpoint("decision lineage", "get", lambda c: f"/api/v1/decisions/{c.decision.pk}/lineage/", R),
    Endpoint("lineage", "get", lambda c: f"/api/v1/lineage/?node=model_version:{c.version.pk}", R),
    Endpoint(
        "decisions bulk",
        "post",
        lambda c: "/api/v1/decisions/bulk/",
        frozenset({"ingest"}),
        body=lambda c: {"decisions": [_decision(c)]},
        other_project="bad_reference",
    ),
    Endpoint(
        "decisions outcomes",
        "post",
        lambda c: "/api/v1/decisions/outcomes/",
        frozenset({"ingest"}),
        body=lambda c: {
            "outcomes": [{"model_version": c.version.pk, "request_id": c.decision.request_id, "outcome": "No"}]
        },
        other_project="bad_reference",
    ),
]
CO = frozenset({"compliance_officer"})
REVIEW_READERS = frozenset({"compliance_officer", "reviewer", "risk_analyst"})
AUDITORS = frozenset({"compliance_officer", "risk_analyst"})
ENDPOINTS += [
    Endpoint("whoami", "get", lambda c: "/api/v1/whoami/", frozenset(ALL_ROLES), other_project="global"),
    Endpoint("audit events list", "get", lambda c: "/api/v1/audit-events/", R, other_project="hidden_in_list"),
    Endpoint("audit event detail", "get", lambda c: f"/api/v1/audit-events/{c.event.seq}/", R),
    Endpoint("audit chain verify", "get", lambda c: "/api/v1/audit-events/verify/", AUDITORS, other_project="global"),
    Endpoint("decisions verify", "get", lambda c: f"/api/v1/decisions/verify/?model_version={c.version.pk}", AUDITORS),
    Endpoint("review queue", "get", lambda c: "/api/v1/review-items/", REVIEW_READERS, other_project="hidden_in_list"),
    Endpoint("review item detail", "get", lambda c: f"/api/v1/review-items/{c.review_item.pk}/", REVIEW_READERS),
    Endpoint(
        "review queue summary",
        "get",
        lambda c: "/api/v1/review-items/summary/",
        REVIEW_READERS,
        other_project="global",
    ),
    Endpoint(
        "review a decision",
        "post",
        lambda c: f"/api/v1/review-items/{c.review_item.pk}/review/",
        frozenset({"compliance_officer", "reviewer"}),
        body=lambda c: {"verdict": "confirmed", "reason": "checked"},
        person=True,
    ),
    Endpoint(
        "import reviews",
        "post",
        lambda c: "/api/v1/review-items/bulk/",
        frozenset({"compliance_officer", "ingest"}),
        body=lambda c: {
            "reviews": [
                {
                    "model_version": c.version.pk,
                    "request_id": "fair-1",
                    "verdict": "confirmed",
                    "reason": "spot check",
                    "reviewer": "someone elsewhere",
                    "reviewed_at": "2026-03-01T00:00:00Z",
                    "external_id": "ext-1",
                }
            ]
        },
        other_project="bad_reference",
    ),
    Endpoint("incidents list", "get", lambda c: "/api/v1/incidents/", R, other_project="hidden_in_list"),
    Endpoint("incident detail", "get", lambda c: f"/api/v1/incidents/{c.incident.pk}/", R),
    Endpoint(
        "incident open",
        "post",
        lambda c: "/api/v1/incidents/",
        CO,
        body=lambda c: {
            "title": "Wrong denials",
            "description": "A feature was stale.",
            "category": "other",
            "aware_at": "2026-03-01T00:00:00Z",
            "model_versions": [c.version.pk],
        },
        other_project="bad_reference",
    ),
    Endpoint(
        "incident report",
        "post",
        lambda c: f"/api/v1/incidents/{c.incident.pk}/report/",
        CO,
        body=lambda c: {"kind": "initial", "text": "t", "sent_at": "2026-03-02T00:00:00Z", "recipient": "authority"},
    ),
    Endpoint(
        "incident close",
        "post",
        lambda c: f"/api/v1/incidents/{c.closable.pk}/close/",
        CO,
        body=lambda c: {"root_cause": "stale feature", "corrective_action": "refreshed"},
    ),
    Endpoint(
        "incident rollback",
        "post",
        lambda c: f"/api/v1/incidents/{c.incident.pk}/rollback/",
        CO,
        body=lambda c: {"model_version": c.rollback_to.pk, "environment": "staging", "reason": "back"},
    ),
    Endpoint("access requests list", "get", lambda c: "/api/v1/access-requests/", CO, other_project="hidden_in_list"),
    Endpoint("access request detail", "get", lambda c: f"/api/v1/access-requests/{c.access.pk}/", CO),
    Endpoint("access request report", "get", lambda c: f"/api/v1/access-requests/{c.access.pk}/report/", CO),
    Endpoint(
        "access request receive",
        "post",
        lambda c: "/api/v1/access-requests/",
        CO,
        body=lambda c: {"project": "acme", "subject_id": "alice", "reference": "SAR-2"},
        other_project="bad_reference",
    ),
    Endpoint("access request answer", "post", lambda c: f"/api/v1/access-requests/{c.access.pk}/answer/", CO),
    Endpoint(
        "access request extend",
        "post",
        lambda c: f"/api/v1/access-requests/{c.access.pk}/extend/",
        CO,
        body=lambda c: {"months": 1, "reason": "several systems to search"},
    ),
    Endpoint("contests list", "get", lambda c: "/api/v1/contests/", CO, other_project="hidden_in_list"),
    Endpoint("contest detail", "get", lambda c: f"/api/v1/contests/{c.contest.pk}/", CO),
    Endpoint(
        "contest receive",
        "post",
        lambda c: "/api/v1/contests/",
        CO,
        body=lambda c: {"reference": "APPEAL-2", "model_version": c.version.pk, "request_id": "fair-2"},
        other_project="bad_reference",
    ),
    Endpoint(
        "contest extend",
        "post",
        lambda c: f"/api/v1/contests/{c.contest.pk}/extend/",
        CO,
        body=lambda c: {"months": 1, "reason": "the branch's file is needed"},
    ),
    Endpoint("erasure list", "get", lambda c: "/api/v1/erasure-requests/", CO, other_project="hidden_in_list"),
    Endpoint("erasure detail", "get", lambda c: f"/api/v1/erasure-requests/{c.erasure.pk}/", CO),
    Endpoint(
        "erasure create",
        "post",
        lambda c: "/api/v1/erasure-requests/",
        CO,
        body=lambda c: {"project": "acme", "subject_id": "bob", "reference": "TICKET-2"},
        other_project="bad_reference",
    ),
    Endpoint("erasure trace", "post", lambda c: f"/api/v1/erasure-requests/{c.erasure.pk}/trace/", CO),
    Endpoint("erasure execute", "post", lambda c: f"/api/v1/erasure-requests/{c.erasure.pk}/execute/", CO),
    Endpoint(
        "erasure reject",
        "post",
        lambda c: f"/api/v1/erasure-requests/{c.erasure.pk}/reject/",
        CO,
        body=lambda c: {"reason": "legal hold"},
    ),
    Endpoint(
        "erasure extend",
        "post",
        lambda c: f"/api/v1/erasure-requests/{c.erasure.pk}/extend/",
        CO,
        body=lambda c: {"months": 2, "reason": "four archives to search"},
    ),
    Endpoint(
        "erasure check obligations",
        "post",
        lambda c: f"/api/v1/erasure-requests/{c.erasure.pk}/check-obligations/",
        CO,
    ),
    Endpoint("erasure report", "get", lambda c: f"/api/v1/erasure-requests/{c.erasure.pk}/report/", CO),
    # background jobs: seen (and retried) by the roles that may start their kind; an erasure's by officers only
    Endpoint("jobs list", "get", lambda c: "/api/v1/jobs/", R, other_project="hidden_in_list"),
    Endpoint("job detail", "get", lambda c: f"/api/v1/jobs/{c.failed_job.pk}/", CO),
    Endpoint("job retry", "post", lambda c: f"/api/v1/jobs/{c.failed_job.pk}/retry/", CO),
]
ENDPOINTS += [
    Endpoint("fairness audits list", "get", lambda c: "/api/v1/fairness-audits/", R, other_project="hidden_in_list"),
    Endpoint("fairness audit detail", "get", lambda c: f"/api/v1/fairness-audits/{c.audit.pk}/", R),
    Endpoint(
        "fairness audit create",
        "post",
        lambda c: "/api/v1/fairness-audits/",
        AUDITORS,
        body=lambda c: {"model_version": c.version.pk, "sensitive_features": ["sex"], "positive_label": 1},
        other_project="bad_reference",
    ),
    Endpoint("policies list", "get", lambda c: "/api/v1/policies/", R, other_project="hidden_in_list"),
    Endpoint("policy detail", "get", lambda c: "/api/v1/policies/acme/", R),
    Endpoint("policy change", "patch", lambda c: "/api/v1/policies/acme/", CO, body=lambda c: {"max_psi": 0.3}),
    Endpoint("drift reports list", "get", lambda c: "/api/v1/drift-reports/", R, other_project="hidden_in_list"),
    Endpoint("drift report detail", "get", lambda c: f"/api/v1/drift-reports/{c.drift.pk}/", R),
    Endpoint(
        "drift report create",
        "post",
        lambda c: "/api/v1/drift-reports/",
        R,
        body=lambda c: {
            "model_version": c.version.pk,
            "window_start": "2000-01-01T00:00:00Z",
            "window_end": "2100-01-01T00:00:00Z",
        },
        other_project="bad_reference",
    ),
    Endpoint("legal holds list", "get", lambda c: "/api/v1/legal-holds/", AUDITORS, other_project="hidden_in_list"),
    Endpoint("legal hold detail", "get", lambda c: f"/api/v1/legal-holds/{c.hold.pk}/", AUDITORS),
    Endpoint(
        "legal hold place",
        "post",
        lambda c: "/api/v1/legal-holds/",
        CO,
        body=lambda c: {"project": "acme", "model_version": c.version.pk, "reason": "litigation"},
        other_project="bad_reference",
    ),
    Endpoint(
        "legal hold release",
        "post",
        lambda c: f"/api/v1/legal-holds/{c.releasable.pk}/release/",
        CO,
        body=lambda c: {"reason": "settled"},
    ),
    Endpoint("sealed months list", "get", lambda c: "/api/v1/sealed-months/", AUDITORS, other_project="hidden_in_list"),
    Endpoint("sealed month detail", "get", lambda c: f"/api/v1/sealed-months/{c.sealed.pk}/", AUDITORS),
    Endpoint("webhooks list", "get", lambda c: "/api/v1/webhooks/", DS | CO, other_project="hidden_in_list"),
    Endpoint("webhook detail", "get", lambda c: f"/api/v1/webhooks/{c.webhook.pk}/", DS | CO),
    Endpoint("webhook deliveries", "get", lambda c: f"/api/v1/webhooks/{c.webhook.pk}/deliveries/", DS | CO),
    Endpoint(
        "webhook create",
        "post",
        lambda c: "/api/v1/webhooks/",
        CO,
        body=lambda c: {"project": "acme", "url": "https://93.184.215.14/y", "events": ["drift.detected"]},
        other_project="bad_reference",
    ),
    Endpoint(
        "model version gate",
        "get",
        lambda c: f"/api/v1/model-versions/{c.version.pk}/gate/?to_stage=production",
        R,
    ),
    Endpoint("model version bom", "get", lambda c: f"/api/v1/model-versions/{c.version.pk}/bom/", R),
    Endpoint(
        "model version evidence pack generate",
        "post",
        lambda c: f"/api/v1/model-versions/{c.version.pk}/evidence-packs/",
        frozenset({"compliance_officer", "risk_analyst"}),
    ),
    Endpoint(
        "model evidence pack generate",
        "post",
        lambda c: f"/api/v1/models/{c.model.pk}/evidence-packs/",
        frozenset({"compliance_officer", "risk_analyst"}),
    ),
    Endpoint("model evidence packs list", "get", lambda c: f"/api/v1/models/{c.model.pk}/evidence-packs/", R),
    Endpoint("evidence packs list", "get", lambda c: "/api/v1/evidence-packs/", R, other_project="hidden_in_list"),
    Endpoint("evidence pack detail", "get", lambda c: f"/api/v1/evidence-packs/{c.pack.pk}/", R),
    Endpoint("evidence pack pdf", "get", lambda c: f"/api/v1/evidence-packs/{c.pack.pk}/pdf/", R),
    Endpoint("processing record", "get", lambda c: f"/api/v1/processing-records/{c.project.slug}/", R),
    Endpoint("processing record csv", "get", lambda c: f"/api/v1/processing-records/{c.project.slug}/csv/", R),
    Endpoint("model version model card", "get", lambda c: f"/api/v1/model-versions/{c.version.pk}/model-card/", R),
    Endpoint(
        "model version approve",
        "post",
        lambda c: f"/api/v1/model-versions/{c.version.pk}/approve/",
        CO,
        body=lambda c: {"to_stage": "production", "comment": "reviewed"},
    ),
    Endpoint(
        "performance reports list", "get", lambda c: "/api/v1/performance-reports/", R, other_project="hidden_in_list"
    ),
    Endpoint("performance report detail", "get", lambda c: f"/api/v1/performance-reports/{c.performance.pk}/", R),
    Endpoint(
        "performance report create",
        "post",
        lambda c: "/api/v1/performance-reports/",
        R,
        body=lambda c: {
            "model_version": c.version.pk,
            "window_start": "2000-01-01T00:00:00Z",
            "window_end": "2100-01-01T00:00:00Z",
        },
        other_project="bad_reference",
    ),
]
RI = frozenset(READERS | {"ingest"})  # what a running application (an ingest key) may also fetch
DSCO = frozenset({"data_scientist", "compliance_officer"})
L = "/api/v1/llm"
ENDPOINTS += [
    Endpoint("llm prompts list", "get", lambda c: f"{L}/prompts/", R, other_project="hidden_in_list"),
    Endpoint("llm prompt detail", "get", lambda c: f"{L}/prompts/{c.prompt.pk}/", R),
    Endpoint(
        "llm prompt create",
        "post",
        lambda c: f"{L}/prompts/",
        DS,
        body=lambda c: {"project": "acme", "name": "new-prompt"},
        other_project="bad_reference",
    ),
    Endpoint("llm prompt versions", "get", lambda c: f"{L}/prompts/{c.prompt.pk}/versions/", R),
    Endpoint(
        "llm prompt version create",
        "post",
        lambda c: f"{L}/prompts/{c.prompt.pk}/versions/",
        DS,
        body=lambda c: {"kind": "text", "text": "Summarise {{doc}} in one line.", "variables": ["doc"]},
    ),
    Endpoint(
        "llm prompt label move",
        "post",
        lambda c: f"{L}/prompts/{c.prompt.pk}/labels/",
        DS,
        body=lambda c: {"label": "staging", "version": 1},
    ),
    Endpoint("llm prompt label history", "get", lambda c: f"{L}/prompts/{c.prompt.pk}/label-history/", R),
    Endpoint("llm prompt resolve", "get", lambda c: f"{L}/prompts/{c.prompt.pk}/resolve/?label=production", RI),
    Endpoint("llm prompt versions list", "get", lambda c: f"{L}/prompt-versions/", RI, other_project="hidden_in_list"),
    Endpoint("llm prompt version detail", "get", lambda c: f"{L}/prompt-versions/{c.prompt_version.pk}/", RI),
    Endpoint(
        "llm prompt version render",
        "post",
        lambda c: f"{L}/prompt-versions/{c.prompt_version.pk}/render/",
        RI,
        body=lambda c: {"variables": {"question": "Why?"}},
    ),
    Endpoint(
        "llm prompt version diff",
        "get",
        lambda c: f"{L}/prompt-versions/{c.prompt_version.pk}/diff/{c.prompt_version.pk}/",
        RI,
    ),
    Endpoint("llm calls list", "get", lambda c: f"{L}/calls/", R, other_project="hidden_in_list"),
    Endpoint("llm call detail", "get", lambda c: f"{L}/calls/{c.call.pk}/", R),
    Endpoint(
        "llm calls bulk",
        "post",
        lambda c: f"{L}/calls/bulk/",
        frozenset({"ingest"}),
        body=lambda c: {
            "project": "acme",
            "calls": [
                {
                    "client_call_id": "auth-1",
                    "provider": "openai",
                    "model": "gpt-4o",
                    "input": "hi",
                    "output": "hello",
                    "occurred_at": "2026-03-01T00:00:00Z",
                }
            ],
        },
        other_project="bad_reference",
    ),
    Endpoint(
        "llm calls score",
        "post",
        lambda c: f"{L}/calls/score/",
        DSCO,
        body=lambda c: {"calls": [c.call.pk], "evaluators": [{"name": "json", "kind": "json_valid"}]},
        other_project="bad_reference",
    ),
    Endpoint("llm prices list", "get", lambda c: f"{L}/prices/", RI, other_project="global"),
    Endpoint("llm price detail", "get", lambda c: f"{L}/prices/{c.price.pk}/", RI, other_project="global"),
    Endpoint(
        "llm price create",
        "post",
        lambda c: f"{L}/prices/",
        frozenset(),
        body=lambda c: {
            "provider": "openai",
            "model": "gpt-4o",
            "effective_from": "2026-06-01T00:00:00Z",
            "input_uncached": "2.00",
            "output": "8.00",
            "source": "https://openai.com/api/pricing/",
        },
        other_project="forbidden",
    ),
    Endpoint("llm costs", "get", lambda c: f"{L}/costs/?group_by=model", R, other_project="global"),
    Endpoint("llm budgets list", "get", lambda c: f"{L}/budgets/", R, other_project="hidden_in_list"),
    Endpoint("llm budget detail", "get", lambda c: f"{L}/budgets/{c.budget.pk}/", R),
    Endpoint(
        "llm budget create",
        "post",
        lambda c: f"{L}/budgets/",
        CO,
        body=lambda c: {"project": "acme", "name": "monthly-2", "limit": "100.00", "thresholds": [0.8, 1]},
        other_project="bad_reference",
    ),
    Endpoint(
        "llm evaluation datasets list", "get", lambda c: f"{L}/evaluation-datasets/", R, other_project="hidden_in_list"
    ),
    Endpoint("llm evaluation dataset detail", "get", lambda c: f"{L}/evaluation-datasets/{c.eval_dataset.pk}/", R),
    Endpoint(
        "llm evaluation dataset create",
        "post",
        lambda c: f"{L}/evaluation-datasets/",
        DS,
        body=lambda c: {"project": "acme", "name": "golden-2", "items": [{"variables": {"question": "a"}}]},
        other_project="bad_reference",
    ),
    Endpoint("llm evaluation runs list", "get", lambda c: f"{L}/evaluation-runs/", R, other_project="hidden_in_list"),
    Endpoint("llm evaluation run detail", "get", lambda c: f"{L}/evaluation-runs/{c.eval_run.pk}/", R),
    Endpoint(
        "llm evaluation run create",
        "post",
        lambda c: f"{L}/evaluation-runs/",
        DS,
        body=lambda c: {
            "prompt_version": c.prompt_version.pk,
            "dataset": c.eval_dataset.pk,
            "evaluators": [{"name": "exact", "kind": "exact_match"}],
        },
        other_project="bad_reference",
    ),
    Endpoint(
        "llm evaluation runs compare",
        "get",
        lambda c: f"{L}/evaluation-runs/compare/?a={c.eval_run.pk}&b={c.eval_run.pk}",
        R,
        other_project="bad_reference",
    ),
    Endpoint("llm evaluators", "get", lambda c: f"{L}/evaluators/", R, other_project="global"),
    Endpoint(
        "openlineage event",
        "post",
        lambda c: "/api/v1/lineage",
        frozenset({"ingest", "data_scientist"}),
        body=lambda c: {
            "eventType": "START",
            "eventTime": "2026-11-26T14:02:33+00:00",
            "producer": "https://example.com/etl",
            "run": {"runId": "6cf218d7-d8ee-4b30-9ba5-51a4f67fcff1"},
            "job": {"namespace": "etl", "name": "build"},
            "inputs": [{"namespace": "file", "name": "/data/in.csv"}],
        },
        other_project="own_project",
    ),
]
IDS = [e.name for e in ENDPOINTS]


@pytest.fixture
def ctx(chain):
    from governance.services.alerts import webhook_create
    from governance.services.drift import drift_report_run
    from governance.services.erasure import erasure_request_create, erasure_request_trace
    from governance.services.fairness import fairness_audit_run
    from governance.services.performance import performance_report_run
    from registry.actors import Actor
    from registry.models import DataVersion, ModelVersion
    from registry.profiles import dataframe_profile

    chain.decision = f.DecisionFactory(model_version=chain.version, deployment=chain.deployment)
    received = erasure_request_create(actor=Actor.system(), project=chain.project, subject_id="alice", reference="T-1")
    chain.erasure = erasure_request_trace(actor=Actor.system(), request=received)
    from governance.services.erasure import ERASURE_EXECUTION, erasure_request_reject
    from registry.services.jobs import job_queue

    rejected = erasure_request_create(actor=Actor.system(), project=chain.project, subject_id="carol", reference="T-3")
    erasure_request_reject(actor=Actor.system(), request=rejected, reason="legal hold")
    chain.failed_job, _ = job_queue(  # an execution of a rejected request: run in process, it fails
        actor=Actor.system(), kind=ERASURE_EXECUTION, project=chain.project, input={"erasure_request": rejected.pk}
    )
    assert chain.failed_job.state == "failed", chain.failed_job.error
    chain.event = AuditEvent.objects.filter(project_id=chain.project.pk).latest("seq")
    for i in range(80):  # decisions with outcomes in two groups: enough for a fairness audit
        f.DecisionFactory(
            model_version=chain.version,
            request_id=f"fair-{i}",
            sensitive={"sex": "F" if i % 2 else "M"},
            prediction=i % 3 == 0 and 1 or 0,
            outcome=i % 4 == 0 and 1 or 0,
        )
    DataVersion.objects.filter(pk=chain.train.pk).update(
        profile=dataframe_profile(pd.DataFrame({"age": [20, 30, 40, 50, 60] * 10}))
    )
    chain.drift = drift_report_run(
        actor=Actor.system(),
        model_version=chain.version,
        window_start=datetime(2000, 1, 1, tzinfo=UTC),
        window_end=datetime(2100, 1, 1, tzinfo=UTC),
    )
    ModelVersion.objects.filter(pk=chain.version.pk).update(metrics={"accuracy": 0.8})
    chain.version.refresh_from_db()
    chain.performance = performance_report_run(
        actor=Actor.system(),
        model_version=chain.version,
        window_start=datetime(2000, 1, 1, tzinfo=UTC),
        window_end=datetime(2100, 1, 1, tzinfo=UTC),
    )
    chain.audit = fairness_audit_run(
        actor=Actor.system(), model_version=chain.version, sensitive_features=["sex"], positive_label=1
    )
    chain.webhook, _ = webhook_create(
        actor=Actor.system(), project=chain.project, url="https://93.184.215.14/x", events=["*"]
    )
    from governance.models import ReviewItem

    chain.review_item = ReviewItem.objects.create(
        project=chain.project,
        model_version=chain.version,
        request_id=chain.decision.request_id,
        decision_id=chain.decision.pk,
        decision_occurred_at=chain.decision.occurred_at,
        reasons=["label"],
        entered_at=chain.decision.occurred_at,
    )
    from governance.services.access import access_request_receive
    from governance.services.contests import contest_receive
    from governance.services.incidents import incident_open, incident_report

    chain.contest = contest_receive(
        actor=Actor.system(),
        project=chain.project,
        reference="APPEAL-1",
        model_version=chain.version,
        request_id="fair-1",
    )
    from governance.services.evidence import evidence_pack_generate

    chain.pack = evidence_pack_generate(actor=Actor.system(), model_version=chain.version)
    chain.access = access_request_receive(
        actor=Actor.system(), project=chain.project, subject_id="alice", reference="SAR-1"
    )
    chain.rollback_to = f.ModelVersionFactory(model=chain.model, run=chain.run, version=2, stage="staging")
    make_promotable(chain.rollback_to)  # a rollback goes through the gate like any promotion
    opened = {
        "actor": Actor.system(),
        "project": chain.project,
        "description": "d",
        "category": "other",
        "aware_at": datetime(2026, 3, 1, tzinfo=UTC),
        # a version of its own: an open incident freezes its versions, and the matrix moves chain.version
        "model_versions": [f.ModelVersionFactory(model=chain.model, run=chain.run, version=3)],
    }
    chain.incident = incident_open(title="open one", **opened)
    chain.closable = incident_open(title="reported one", **opened)
    incident_report(
        actor=Actor.system(),
        incident=chain.closable,
        kind="complete",
        text="t",
        sent_at=datetime(2026, 3, 2, tzinfo=UTC),
        recipient="authority",
    )
    from governance.models import SealedMonth
    from governance.services.retention import hold_place

    chain.hold = hold_place(actor=Actor.system(), project=chain.project, reason="litigation")
    chain.releasable = hold_place(actor=Actor.system(), project=chain.project, reason="inquiry")
    chain.sealed = SealedMonth.objects.create(  # setup: what retention leaves of a month it dropped
        project=chain.project,
        month=datetime(2024, 1, 1, tzinfo=UTC).date(),
        decisions=3,
        outcome_versions=0,
        commitments_sha256="0" * 64,
        seal={},
        audit_seq=chain.event.seq,
        sealed_at=datetime(2026, 3, 1, tzinfo=UTC),
    )
    _llm_context(chain)
    return chain


def _llm_context(chain):
    from llmops.models import LLMCall, Price
    from llmops.services import budgets, evaluation, prompts
    from llmops.services.calls import calls_ingest
    from registry.actors import Actor

    system = Actor.system()
    chain.prompt = prompts.prompt_create(actor=system, project=chain.project, name="answer")
    chain.prompt_version = prompts.prompt_version_create(
        actor=system,
        template=chain.prompt,
        kind="chat",
        messages=[{"role": "user", "content": "{{question}}"}],
        variables=["question"],
        model="gpt-4o",
        labels=["production"],
    )
    chain.price = Price.objects.create(
        provider="openai",
        model="gpt-4o",
        effective_from=datetime(2026, 1, 1, tzinfo=UTC),
        input_uncached="2.50",
        output="10.00",
        source="test",
    )
    ingest_actor = Actor(roles={chain.project.pk: "ingest"})
    calls_ingest(
        actor=ingest_actor,
        project_slug="acme",
        items=[
            {
                "client_call_id": "ctx-1",
                "provider": "openai",
                "model": "gpt-4o",
                "input": "hi",
                "output": "{}",
                "occurred_at": "2026-02-01T00:00:00Z",
            }
        ],
    )
    chain.call = LLMCall.objects.get(client_call_id="ctx-1")
    chain.budget = budgets.budget_create(actor=system, project=chain.project, name="monthly", limit="50")
    chain.eval_dataset = evaluation.evaluation_dataset_create(
        actor=system,
        project=chain.project,
        name="golden",
        items=[{"variables": {"question": "Why?"}, "expected": "Why?"}],
    )
    chain.eval_run = evaluation.evaluation_run(
        actor=system,
        version=chain.prompt_version,
        dataset=chain.eval_dataset,
        evaluators=[{"name": "exact", "kind": "exact_match"}],
    )


def _owner(endpoint: Endpoint, role: str):
    """A person holding the key, for the operations only a person may do (a review)."""
    if not endpoint.person:
        return None
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user(f"{role}-person-{get_user_model().objects.count()}")


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
def test_anonymous_is_refused(endpoint, ctx, anon):
    response = endpoint.call(anon, ctx)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
def test_a_bad_key_is_refused(endpoint, ctx, anon):
    anon.credentials(HTTP_AUTHORIZATION="Bearer gk_0123456789ab_not-a-real-key")
    assert endpoint.call(anon, ctx).status_code == 401


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
def test_wrong_roles_are_forbidden(endpoint, ctx, make_client):
    for role in sorted(ALL_ROLES - endpoint.allowed):
        response = endpoint.call(make_client(role, ctx.project, owner=_owner(endpoint, role)), ctx)
        assert response.status_code == 403, (role, response.content)
        assert response.json()["error"]["code"] == "permission_denied"


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
def test_allowed_roles_succeed(endpoint, ctx, make_client, superuser_client):
    clients = [
        (role, make_client(role, ctx.project, owner=_owner(endpoint, role))) for role in sorted(endpoint.allowed)
    ]
    if not clients:
        clients = [("superuser", superuser_client)]
    for role, client in clients[:1]:  # a write may only succeed once: the first allowed role
        response = endpoint.call(client, ctx)
        assert 200 <= response.status_code < 300, (role, response.content)
    for role, client in clients[1:]:
        if endpoint.method == "get":
            assert endpoint.call(client, ctx).status_code == 200, role


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
def test_other_projects_keys_do_not_reach(endpoint, ctx, other_project, make_client):
    role = sorted(endpoint.allowed)[0] if endpoint.allowed else "data_scientist"
    f.ModelVersionFactory(model__project=other_project)  # the other project has its own records
    response = endpoint.call(make_client(role, other_project, owner=_owner(endpoint, role)), ctx)
    if endpoint.other_project == "not_found":
        assert response.status_code == 404, response.content
        assert response.json()["error"]["code"] == "not_found"
    elif endpoint.other_project == "hidden_in_list":
        assert response.status_code == 200
        body = response.json()
        results = body["results"] if isinstance(body, dict) else body
        assert results == [] or all(r.get("project") in (None, "globex") and r.get("slug") != "acme" for r in results)
        assert "acme" not in response.content.decode()
    elif endpoint.other_project == "hidden_in_csv":
        assert response.status_code == 200
        lines = b"".join(response.streaming_content).decode().strip().splitlines()
        assert len(lines) == 1  # the header only
    elif endpoint.other_project == "global":
        assert response.status_code == 200
    elif endpoint.other_project == "own_project":  # a key writes into its own project, never the other's
        from registry.models import Run

        assert response.status_code == 201, response.content
        assert list(
            Run.objects.filter(run_uuid="6cf218d7d8ee4b309ba551a4f67fcff1").values_list("project", flat=True)
        ) == [other_project.pk]
    elif endpoint.other_project == "bad_reference":
        assert response.status_code == 400, response.content
        assert response.json()["error"]["fields"]
    else:
        assert response.status_code == 403


def test_superuser_session_may_do_anything(ctx, superuser_client):
    assert superuser_client.post("/api/v1/projects/", {"slug": "new", "name": "New"}, format="json").status_code == 201
    assert superuser_client.get(f"/api/v1/decisions/{ctx.decision.pk}/").status_code == 200
    response = superuser_client.post("/api/v1/decisions/bulk/", {"decisions": [_decision(ctx)]}, format="json")
    assert response.json() == {"accepted": 1, "duplicates": 0}


def test_member_user_session_is_scoped_to_their_role(ctx, django_user_model):
    from rest_framework.test import APIClient

    from registry.models import Membership

    user = django_user_model.objects.create_user("carol", password="pw", is_staff=True)
    Membership.objects.create(user=user, project=ctx.project, role="risk_analyst")
    client = APIClient()
    client.force_login(user)
    assert client.get(f"/api/v1/decisions/{ctx.decision.pk}/").status_code == 200
    assert client.post("/api/v1/models/", {"name": "x"}, format="json").status_code == 403


def test_revoked_key_is_refused(ctx, make_client):
    from registry.models import ApiKey

    client = make_client("risk_analyst", ctx.project)
    assert client.get("/api/v1/models/").status_code == 200
    ApiKey.objects.update(revoked_at="2026-01-01T00:00:00Z")
    assert client.get("/api/v1/models/").status_code == 401


def test_keys_are_stored_only_as_hashes(ctx, make_client):
    from registry.models import ApiKey

    client = make_client("risk_analyst", ctx.project)
    stored = ApiKey.objects.get()
    secret = client.raw_key.split("_", 2)[2]
    assert secret not in (stored.key_sha256, stored.prefix, stored.name)
    assert len(stored.key_sha256) == 64


def test_every_operation_of_the_schema_is_in_this_matrix(ctx):
    """A new endpoint without authorization cases fails here."""
    import re

    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    covered = {(e.method, e.path(ctx).split("?")[0]) for e in ENDPOINTS}
    missing = []
    for template, operations in schema["paths"].items():
        if template in ("/api/v1/schema/",):
            continue
        pattern = re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$")
        for method in operations:
            if not any(m == method and pattern.match(path) for m, path in covered):
                missing.append(f"{method.upper()} {template}")
    assert missing == []


def test_every_api_route_outside_the_schema_has_its_own_matrix():
    """Routes under /api/ that DRF does not describe (the foreign protocols of interop/) are each covered by their
    protocol's matrix: MLflow's in tests/interop/mlflow, OTLP's in tests/interop/otlp."""
    from django.urls import URLPattern, URLResolver, get_resolver

    from tests.interop.otlp.test_authorization import ROUTES as OTLP_ROUTES

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                yield "/" + prefix + str(pattern.pattern)

    otlp = sorted(route for route in walk(get_resolver().url_patterns) if route.startswith("/api/v1/otlp/"))
    assert otlp == sorted(OTLP_ROUTES)
