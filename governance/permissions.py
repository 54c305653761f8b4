"""Who may do what in governance, per operation: the API views, the services and the admin read these sets, and
the role groups get the model permissions declared here (registered with registry.roles in apps.py)."""

from __future__ import annotations

from registry.models import Role
from registry.roles import view_permissions

CO, DS, RA = Role.COMPLIANCE_OFFICER, Role.DATA_SCIENTIST, Role.RISK_ANALYST

DECISION_INGESTERS = frozenset({Role.INGEST})  # decisions and outcomes, in bulk
LOG_VERIFIERS = frozenset({CO, RA})  # decisions/verify
ERASURE_OFFICERS = frozenset({CO})  # erasure requests: receive, trace, execute, reject
AUDITORS = frozenset({CO, RA})  # run fairness audits
POLICY_EDITORS = frozenset({CO})
APPROVERS = frozenset({CO})  # the four-eyes approval of a model version
WEBHOOK_READERS = frozenset({CO, DS})
WEBHOOK_EDITORS = frozenset({CO})

GOVERNANCE_MODELS = ["decision", "fairnessaudit", "policy", "driftreport", "performancereport", "modelversionapproval"]
_view = view_permissions("governance", GOVERNANCE_MODELS)

ROLE_GROUP_PERMISSIONS: dict[str, set[str]] = {
    # data scientists see the retraining obligations they must meet, not the erasure requests
    DS: _view | {"governance.view_retrainingobligation"},
    # reads everything, handles erasure requests, the project's policy and webhooks; never edits decisions
    CO: _view
    | {
        "governance.view_erasurerequest",
        "governance.add_erasurerequest",
        "governance.change_erasurerequest",
        "governance.view_retrainingobligation",
        "governance.change_policy",
        "governance.view_webhook",
        "governance.view_webhookdelivery",
    },
    RA: _view,
}
