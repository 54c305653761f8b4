"""Governance writes, one module per operation family; each public service takes keyword arguments, runs in
its own transaction and appends its audit event in it.

- `decisions`: the decision log's bulk ingest and outcomes
- `erasure`: GDPR erasure requests (receive, trace, execute, reject) and retraining obligations
- `fairness`, `drift`, `performance`: the reports (compute, store, audit, alert)
- `policies`: each project's policy
- `gate`: the promotion gate and approvals
- `alerts`: alerts and webhook deliveries
- `drift_counts`: the hourly drift counts ingest and erasure keep in their transactions

The public service names are re-exported here (`from governance.services import decisions_ingest`); the
constants and helpers stay in their modules.
"""

from __future__ import annotations

from governance.services.alerts import alert_raise, deliveries_run, delivery_attempt, webhook_create
from governance.services.decisions import IngestResult, OutcomeResult, decisions_ingest, outcomes_record
from governance.services.drift import drift_report_run
from governance.services.drift_counts import decisions_counted
from governance.services.erasure import (
    erasure_request_create,
    erasure_request_execute,
    erasure_request_extend,
    erasure_request_reject,
    erasure_request_trace,
    obligations_check,
)
from governance.services.fairness import fairness_audit_run
from governance.services.gate import gate_evaluate, model_version_approve, promotion_checks
from governance.services.performance import performance_report_run
from governance.services.policies import policies_ensure, policy_for_project, policy_update

__all__ = [
    "IngestResult",
    "OutcomeResult",
    "alert_raise",
    "decisions_counted",
    "decisions_ingest",
    "deliveries_run",
    "delivery_attempt",
    "drift_report_run",
    "erasure_request_create",
    "erasure_request_execute",
    "erasure_request_extend",
    "erasure_request_reject",
    "erasure_request_trace",
    "fairness_audit_run",
    "gate_evaluate",
    "model_version_approve",
    "obligations_check",
    "outcomes_record",
    "performance_report_run",
    "policies_ensure",
    "policy_for_project",
    "policy_update",
    "promotion_checks",
    "webhook_create",
]
