"""OpenLineage: pipelines (Airflow, Spark, dbt, any openlineage-python client) report their runs, the tables
they read and the tables they wrote at `POST /api/v1/lineage`, the client's default path. This package decodes
and checks the events; registry.services.pipelines records them."""
