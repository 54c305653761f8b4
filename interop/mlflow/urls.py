"""MLflow's routes, exactly where the stock client sends them (no trailing slashes); anything else under
/api/2.0/ and /api/3.0/ is ENDPOINT_NOT_FOUND, never retried."""

from django.urls import path, re_path
from django.views.decorators.csrf import csrf_exempt

from interop.mlflow.views import artifacts, common, experiments, logged_models, registry, runs

M = "api/2.0/mlflow/"

urlpatterns = [
    path(M + "experiments/get-by-name", experiments.experiment_get_by_name),
    path(M + "experiments/get", experiments.experiment_get),
    path(M + "experiments/create", experiments.experiment_create),
    path(M + "experiments/set-experiment-tag", experiments.experiment_set_tag),
    path(M + "experiments/search", experiments.experiment_search),
    path(M + "runs/create", runs.run_create),
    path(M + "runs/get", runs.run_get),
    path(M + "runs/update", runs.run_update),
    path(M + "runs/log-parameter", runs.run_log_parameter),
    path(M + "runs/log-metric", runs.run_log_metric),
    path(M + "runs/log-batch", runs.run_log_batch),
    path(M + "runs/set-tag", runs.run_set_tag),
    path(M + "runs/delete-tag", runs.run_delete_tag),
    path(M + "runs/log-inputs", runs.run_log_inputs),
    path(M + "runs/outputs", runs.run_outputs),
    path(M + "runs/search", runs.run_search),
    path(M + "metrics/get-history", runs.metric_history),
    path(M + "logged-models", logged_models.logged_model_create),
    path(M + "logged-models/search", logged_models.logged_model_search),
    path(M + "logged-models/<str:model_id>", logged_models.logged_model),
    path(M + "logged-models/<str:model_id>/tags", logged_models.logged_model_tags),
    path(M + "logged-models/<str:model_id>/tags/<path:tag_key>", logged_models.logged_model_delete_tag),
    path(M + "logged-models/<str:model_id>/params", logged_models.logged_model_params),
    path(M + "registered-models/create", registry.registered_model_create),
    path(M + "registered-models/get", registry.registered_model_get),
    path(M + "registered-models/search", registry.registered_model_search),
    path(M + "registered-models/get-latest-versions", registry.registered_model_latest_versions),
    path(M + "registered-models/alias", registry.registered_model_alias),
    path(M + "model-versions/create", registry.model_version_create),
    path(M + "model-versions/get", registry.model_version_get),
    path(M + "model-versions/get-download-uri", registry.model_version_download_uri),
    path(M + "model-versions/search", registry.model_version_search),
    path(M + "model-versions/transition-stage", registry.model_version_transition_stage),
    path("api/2.0/mlflow-artifacts/artifacts", artifacts.artifact_list),
    path("api/2.0/mlflow-artifacts/artifacts/<path:path>", artifacts.artifact),
    path("api/3.0/mlflow/server-info", artifacts.server_info),
    re_path(r"^api/[23]\.0/(?P<rest>.*)$", csrf_exempt(common.not_built)),
]
