"""The foreign protocols' routes, at the service root where their clients send them."""

from django.urls import include, path

urlpatterns = [
    path("", include("interop.mlflow.urls")),
    path("", include("interop.otlp.urls")),
    path("", include("interop.openlineage.urls")),
]
