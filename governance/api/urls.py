from django.urls import path
from rest_framework.routers import DefaultRouter

from governance.api import (
    access_views,
    contest_views,
    erasure_views,
    evidence_views,
    fairness_views,
    gate_views,
    incident_views,
    retention_views,
    review_views,
    views,
)

router = DefaultRouter(trailing_slash=True)
router.register("decisions", views.DecisionViewSet, basename="decision")
router.register("erasure-requests", erasure_views.ErasureRequestViewSet, basename="erasure-request")
router.register("fairness-audits", fairness_views.FairnessAuditViewSet, basename="fairness-audit")
router.register("policies", fairness_views.PolicyViewSet, basename="policy")
router.register("drift-reports", fairness_views.DriftReportViewSet, basename="drift-report")
router.register("performance-reports", fairness_views.PerformanceReportViewSet, basename="performance-report")
router.register("evidence-packs", evidence_views.EvidencePackViewSet, basename="evidence-pack")
router.register("access-requests", access_views.AccessRequestViewSet, basename="access-request")
router.register("incidents", incident_views.IncidentViewSet, basename="incident")
router.register("contests", contest_views.ContestViewSet, basename="contest")
router.register("review-items", review_views.ReviewItemViewSet, basename="review-item")
router.register("webhooks", fairness_views.WebhookViewSet, basename="webhook")
router.register("legal-holds", retention_views.LegalHoldViewSet, basename="legal-hold")
router.register("sealed-months", retention_views.SealedMonthViewSet, basename="sealed-month")

urlpatterns = [
    path("lineage/", views.LineageView.as_view(), name="lineage"),
    path(
        "model-versions/<int:pk>/gate/",
        gate_views.GateViewSet.as_view({"get": "gate"}),
        name="model-version-gate",
    ),
    path(
        "model-versions/<int:pk>/approve/",
        gate_views.GateViewSet.as_view({"post": "approve"}),
        name="model-version-approve",
    ),
    path(
        "model-versions/<int:pk>/bom/",
        evidence_views.EvidenceViewSet.as_view({"get": "bom"}),
        name="model-version-bom",
    ),
    path(
        "model-versions/<int:pk>/model-card/",
        evidence_views.EvidenceViewSet.as_view({"get": "card"}),
        name="model-version-model-card",
    ),
    path(
        "model-versions/<int:pk>/evidence-packs/",
        evidence_views.EvidencePackGenerateViewSet.as_view({"post": "generate"}),
        name="model-version-evidence-pack",
    ),
    path(
        "models/<int:pk>/evidence-packs/",
        evidence_views.ModelEvidencePackViewSet.as_view({"get": "list", "post": "generate"}),
        name="model-evidence-packs",
    ),
    path(
        "processing-records/<slug:slug>/",
        evidence_views.ProcessingRecordViewSet.as_view({"get": "record"}),
        name="processing-record",
    ),
    path(
        "processing-records/<slug:slug>/csv/",
        evidence_views.ProcessingRecordViewSet.as_view({"get": "record_csv"}),
        name="processing-record-csv",
    ),
    *router.urls,
]
