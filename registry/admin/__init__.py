"""Admin for the registry. Compliance officers read here; every write goes through registry.services.

Three kinds of admin, all on the kit (registry.admin.kit) that governance and llmops build on too:
- read-only (background jobs, with a retry action; data versions, subject index, runs, experiments, logged
  models, alias moves, jobs, lineage events, stage transitions, audit events, suppressed subjects):
  written by services only (the audit event list has a "verify chain" button);
- create-only (projects, datasets, models, model versions, deployments, API keys): the add form calls
  the service, an existing record is shown read-only, and operations that are not edits (a stage
  transition, ending a deployment, revoking a key) are admin actions calling their service;
- memberships: added and changed through `membership_set`.
Nothing is deleted from admin. Every admin is scoped to the projects the user is a member of.

One module per record family; importing them here registers them (Django's autodiscover imports this package).
"""

from __future__ import annotations

from registry.admin import (  # noqa: F401 - registers the admins
    audit,
    data,
    deployments,
    experiments,
    jobs,
    models,
    pipelines,
    projects,
    runs,
)
