from rest_framework.routers import DefaultRouter

from registry.api import views

router = DefaultRouter(trailing_slash=True)
router.register("projects", views.ProjectViewSet, basename="project")
router.register("datasets", views.DatasetViewSet, basename="dataset")
router.register("data-versions", views.DataVersionViewSet, basename="data-version")
router.register("runs", views.RunViewSet, basename="run")
router.register("models", views.ModelViewSet, basename="model")
router.register("model-versions", views.ModelVersionViewSet, basename="model-version")
router.register("deployments", views.DeploymentViewSet, basename="deployment")

urlpatterns = router.urls
