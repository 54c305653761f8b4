from django.urls import path
from rest_framework.routers import DefaultRouter

from llmops.api import views

router = DefaultRouter(trailing_slash=True)
router.register("prompts", views.PromptViewSet, basename="llm-prompt")
router.register("prompt-versions", views.PromptVersionViewSet, basename="llm-prompt-version")
router.register("calls", views.LLMCallViewSet, basename="llm-call")
router.register("prices", views.PriceViewSet, basename="llm-price")
router.register("budgets", views.BudgetViewSet, basename="llm-budget")
router.register("evaluation-datasets", views.EvaluationDatasetViewSet, basename="llm-evaluation-dataset")
router.register("evaluation-runs", views.EvaluationRunViewSet, basename="llm-evaluation-run")

urlpatterns = [
    path("costs/", views.CostViewSet.as_view({"get": "rollup"}), name="llm-costs"),
    path("evaluators/", views.EvaluatorKindsView.as_view({"get": "kinds"}), name="llm-evaluators"),
    *router.urls,
]
