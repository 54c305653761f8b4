"""OTLP/HTTP's paths under OTEL_EXPORTER_OTLP_ENDPOINT=http://<service>/api/v1/otlp (the exporter appends
/v1/traces, /v1/logs, /v1/metrics): no trailing slash, never a redirect."""

from django.urls import path

from interop.otlp import views

OTLP = "api/v1/otlp/"

urlpatterns = [
    path(OTLP + "v1/traces", views.traces, name="otlp-traces"),
    path(OTLP + "v1/logs", views.logs, name="otlp-logs"),
    path(OTLP + "v1/metrics", views.metrics, name="otlp-metrics"),
]
