"""Who may do what in governance, per operation: the API views, the services and the admin read these sets, and
the role groups get the model permissions declared here (registered with registry.roles in apps.py)."""

from __future__ import annotations

from registry.models import Role
from registry.roles import view_permissions

CO, DS, RA, RV = Role.COMPLIANCE_OFFICER, Role.DATA_SCIENTIST, Role.RISK_ANALYST, Role.REVIEWER

DECISION_INGESTERS = frozenset({Role.INGEST})  # decisions and outcomes, in bulk
LOG_VERIFIERS = frozenset({CO, RA})  # decisions/verify
ERASURE_OFFICERS = frozenset({CO})  # erasure requests: receive, trace, execute, reject
AUDITORS = frozenset({CO, RA})  # run fairness audits
POLICY_EDITORS = frozenset({CO})
APPROVERS = frozenset({CO})  # the four-eyes approval of a model version
REVIEWERS = frozenset({CO, RV})  # record a verdict on a queued decision
REVIEW_RESOLVERS = frozenset({CO})  # decide an escalated decision
REVIEW_READERS = frozenset({CO, RV, RA})  # the queue, the reviews, the override rates
REVIEW_IMPORTERS = frozenset({Role.INGEST, CO})  # reviews done in another system, in bulk
INCIDENT_OFFICERS = frozenset({CO})  # open, report, close, roll back
INCIDENT_READERS = frozenset({CO, DS, RA})
EVIDENCE_AUTHORS = frozenset({CO, RA})  # generate a technical documentation pack
ACCESS_OFFICERS = frozenset({CO})  # subject access requests: receive, read the report, extend, answer
CONTEST_OFFICERS = frozenset({CO})  # contests of automated decisions: receive, extend (the review decides)
HOLD_OFFICERS = frozenset({CO})  # legal holds: place, release
HOLD_READERS = frozenset({CO, RA})  # the holds and the sealed months
WEBHOOK_READERS = frozenset({CO, DS})
WEBHOOK_EDITORS = frozenset({CO})

GOVERNANCE_MODELS = [
    "decision",
    "fairnessaudit",
    "policy",
    "driftreport",
    "performancereport",
    "modelversionapproval",
    "reviewitem",
    "review",
    "incident",
    "incidentreport",
    "evidencepack",
    "sealedmonth",
]
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
        "governance.view_contest",
        "governance.add_contest",
        "governance.view_accessrequest",
        "governance.add_accessrequest",
        "governance.add_incident",
        "governance.view_legalhold",
        "governance.add_legalhold",
        "governance.change_legalhold",
        "governance.view_webhook",
        "governance.view_webhookdelivery",
    },
    RA: _view | {"governance.view_legalhold"},
    # reviewers see the decisions and the queue they work through, nothing of erasure or webhooks
    RV: view_permissions("governance", ["decision", "reviewitem", "review", "policy"]),
}
