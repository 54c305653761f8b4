"""The decision table's columns as decision ingest COPYs them, in the order of each row it builds. A module
without Django imports, so that the benches (bench/ingest.py, bench/common.py), which compare the service with
a raw COPY of the same rows and never set Django up, import the list they measure instead of copying it."""

from __future__ import annotations

COPY_COLUMNS = (
    "project_id",
    "model_version_id",
    "deployment_id",
    "request_id",
    "subject_key",
    "subject_key_id",
    "features",
    "sensitive",
    "prediction",
    "score",
    "occurred_at",
    "created_at",
    "created_by_key_id",
    "created_by_user_id",
    "salt",
    "commitment",
    "batch_id",
    "skeleton_commitment",
    "erased_at",
    "explanation",
)
