from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

api_v1 = [
    path("", include("registry.api.urls")),
    path("", include("governance.api.urls")),
    path("llm/", include("llmops.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
]

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("", include("interop.urls")),  # MLflow's /api/2.0/mlflow/..., at the root where its client sends them
]

handler404 = "registry.api.errors.not_found"
handler500 = "registry.api.errors.server_error"
