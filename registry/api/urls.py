from django.urls import path
from rest_framework.routers import DefaultRouter

from registry.api import audit_views, job_views, views

router = DefaultRouter(trailing_slash=True)
router.register("projects", views.ProjectViewSet, basename="project")
router.register("datasets", views.DatasetViewSet, basename="dataset")
router.register("data-versions", views.DataVersionViewSet, basename="data-version")
router.register("runs", views.RunViewSet, basename="run")
router.register("models", views.ModelViewSet, basename="model")
router.register("model-versions", views.ModelVersionViewSet, basename="model-version")
router.register("deployments", views.DeploymentViewSet, basename="deployment")
router.register("audit-events", audit_views.AuditEventViewSet, basename="audit-event")
router.register("jobs", job_views.JobViewSet, basename="job")

urlpatterns = [
    path("whoami/", views.WhoAmIView.as_view({"get": "whoami"}), name="whoami"),
    *router.urls,
]
