"""MLflow's routes, one module per family: each parses its request message, finds our records in the key's
project, calls a registry service and answers MLflow's JSON. Route names follow MLflow's service definitions
(mlflow/protos)."""
