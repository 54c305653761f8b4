"""MLflow's routes, exactly where the stock client sends them (no trailing slashes); anything else under
/api/2.0/ and /api/3.0/ is ENDPOINT_NOT_FOUND, never retried."""

from django.urls import path, re_path
from django.views.decorators.csrf import csrf_exempt

from interop.mlflow import views

M = "api/2.0/mlflow/"

urlpatterns = [
    path(M + "experiments/get-by-name", views.experiment_get_by_name),
    path(M + "experiments/get", views.experiment_get),
    path(M + "experiments/create", views.experiment_create),
    path(M + "experiments/set-experiment-tag", views.experiment_set_tag),
    path(M + "experiments/search", views.experiment_search),
    path(M + "runs/create", views.run_create),
    path(M + "runs/get", views.run_get),
    path(M + "runs/update", views.run_update),
    path(M + "runs/log-parameter", views.run_log_parameter),
    path(M + "runs/log-metric", views.run_log_metric),
    path(M + "runs/log-batch", views.run_log_batch),
    path(M + "runs/set-tag", views.run_set_tag),
    path(M + "runs/delete-tag", views.run_delete_tag),
    path(M + "runs/log-inputs", views.run_log_inputs),
    path(M + "runs/outputs", views.run_outputs),
    path(M + "runs/search", views.run_search),
    path(M + "metrics/get-history", views.metric_history),
    path(M + "logged-models", views.logged_model_create),
    path(M + "logged-models/search", views.logged_model_search),
    path(M + "logged-models/<str:model_id>", views.logged_model),
    path(M + "logged-models/<str:model_id>/tags", views.logged_model_tags),
    path(M + "logged-models/<str:model_id>/tags/<path:tag_key>", views.logged_model_delete_tag),
    path(M + "logged-models/<str:model_id>/params", views.logged_model_params),
    path(M + "registered-models/create", views.registered_model_create),
    path(M + "registered-models/get", views.registered_model_get),
    path(M + "registered-models/search", views.registered_model_search),
    path(M + "registered-models/get-latest-versions", views.registered_model_latest_versions),
    path(M + "registered-models/alias", views.registered_model_alias),
    path(M + "model-versions/create", views.model_version_create),
    path(M + "model-versions/get", views.model_version_get),
    path(M + "model-versions/get-download-uri", views.model_version_download_uri),
    path(M + "model-versions/search", views.model_version_search),
    path(M + "model-versions/transition-stage", views.model_version_transition_stage),
    path("api/2.0/mlflow-artifacts/artifacts", views.artifact_list),
    path("api/2.0/mlflow-artifacts/artifacts/<path:path>", views.artifact),
    path("api/3.0/mlflow/server-info", views.server_info),
    re_path(r"^api/[23]\.0/(?P<rest>.*)$", csrf_exempt(views.not_built)),
]
