"""Write operations of the registry, one module per operation family. Views, admin and commands call these;
nothing else writes.

Callers use the package (`from registry import services; services.project_create(...)`); the modules are
where a service lives, this is what the registry offers. Private helpers stay in their modules; the helpers
other apps' services share (`created_by`, `unique_or_conflict`) are imported from `registry.services.common`.
"""

from __future__ import annotations

from registry.services.aliases import model_alias_set
from registry.services.artifacts import (
    artifact_file,
    artifact_path_clean,
    artifact_store,
    artifact_tree_digest,
    logged_model_create,
    logged_model_digest,
    logged_model_prefix,
    logged_model_update,
)
from registry.services.data import (
    MAX_SUBJECTS_PER_REQUEST,
    IndexResult,
    data_version_ensure,
    data_version_register,
    dataset_create,
    dataset_ensure,
    subjects_index,
    suppressed_keys,
)
from registry.services.deployments import REPLACING_STRATEGIES, deployment_create, deployment_end, serves_production
from registry.services.experiments import experiment_create, experiment_default, experiment_tags_set
from registry.services.gate import gate_enforce
from registry.services.models import (
    ALLOWED_TRANSITIONS,
    CARD_FIELDS,
    model_create,
    model_version_card_frozen,
    model_version_card_update,
    model_version_register,
    model_version_transition,
)
from registry.services.pipelines import (
    DatasetReport,
    JobReport,
    LineageReport,
    LineageResult,
    ParentReport,
    dataset_uri,
    lineage_event_record,
)
from registry.services.projects import api_key_create, api_key_revoke, membership_set, project_create
from registry.services.runs import (
    MetricSpec,
    RunInputSpec,
    run_inputs_log,
    run_log,
    run_register,
    run_start,
    run_update,
)

__all__ = [
    "ALLOWED_TRANSITIONS",
    "CARD_FIELDS",
    "MAX_SUBJECTS_PER_REQUEST",
    "REPLACING_STRATEGIES",
    "DatasetReport",
    "IndexResult",
    "JobReport",
    "LineageReport",
    "LineageResult",
    "ParentReport",
    "MetricSpec",
    "RunInputSpec",
    "api_key_create",
    "api_key_revoke",
    "artifact_file",
    "artifact_path_clean",
    "artifact_store",
    "artifact_tree_digest",
    "data_version_ensure",
    "data_version_register",
    "dataset_create",
    "dataset_ensure",
    "dataset_uri",
    "experiment_create",
    "experiment_default",
    "experiment_tags_set",
    "lineage_event_record",
    "logged_model_create",
    "logged_model_digest",
    "logged_model_prefix",
    "logged_model_update",
    "model_alias_set",
    "deployment_create",
    "deployment_end",
    "gate_enforce",
    "membership_set",
    "model_create",
    "model_version_register",
    "model_version_card_frozen",
    "model_version_card_update",
    "model_version_transition",
    "project_create",
    "run_inputs_log",
    "run_log",
    "run_register",
    "run_start",
    "run_update",
    "serves_production",
    "subjects_index",
    "suppressed_keys",
]
