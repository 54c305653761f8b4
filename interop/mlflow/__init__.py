"""MLflow's REST protocol (tracking, logged models, model registry, artifact proxy), as the stock client 3.17
speaks it (../shared/specs/mlflow-protocol.md): `mlflow.set_tracking_uri("http://<service>")` and an API key as
`MLFLOW_TRACKING_TOKEN` are all a notebook needs. Experiments, runs, metric history, datasets, logged models,
artifacts, registered models, versions and aliases are our records, written through the registry's services;
a protected alias moves only through the promotion gate."""
