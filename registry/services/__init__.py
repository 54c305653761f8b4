"""Write operations of the registry, one module per operation family. Views, admin and commands call these;
nothing else writes.

Callers use the package (`from registry import services; services.project_create(...)`); the modules are
where a service lives, this is what the registry offers. Private helpers stay in their modules; the helpers
other apps' services share (`created_by`, `unique_or_conflict`) are imported from `registry.services.common`.
"""

from __future__ import annotations

from registry.services.data import (
    MAX_SUBJECTS_PER_REQUEST,
    IndexResult,
    data_version_register,
    dataset_create,
    subjects_index,
    suppressed_keys,
)
from registry.services.deployments import REPLACING_STRATEGIES, deployment_create, deployment_end, serves_production
from registry.services.gate import gate_enforce
from registry.services.models import ALLOWED_TRANSITIONS, model_create, model_version_register, model_version_transition
from registry.services.projects import api_key_create, api_key_revoke, membership_set, project_create
from registry.services.runs import RunInputSpec, run_register

__all__ = [
    "ALLOWED_TRANSITIONS",
    "MAX_SUBJECTS_PER_REQUEST",
    "REPLACING_STRATEGIES",
    "IndexResult",
    "RunInputSpec",
    "api_key_create",
    "api_key_revoke",
    "data_version_register",
    "dataset_create",
    "deployment_create",
    "deployment_end",
    "gate_enforce",
    "membership_set",
    "model_create",
    "model_version_register",
    "model_version_transition",
    "project_create",
    "run_register",
    "serves_production",
    "subjects_index",
    "suppressed_keys",
]
