"""Who may do what in llmops, per operation: the API views, the services and the admin read these sets, and the
role groups get the model permissions declared here (registered with registry.roles in apps.py)."""

from __future__ import annotations

from registry.models import Role
from registry.permissions import ALL_HUMAN_ROLES
from registry.roles import view_permissions

CO, DS = Role.COMPLIANCE_OFFICER, Role.DATA_SCIENTIST

PROMPT_AUTHORS = frozenset({DS})  # prompts, their versions and label moves
EVALUATORS = frozenset({DS})  # evaluation datasets and runs
BUDGET_OFFICERS = frozenset({CO})
CALL_INGESTERS = frozenset({Role.INGEST})  # also OTLP trace exports (interop/otlp)
TRACE_SETTERS = frozenset({CO})  # which span attribute names the end user
CALL_SCORERS = frozenset({DS, CO})
RUNNING_APPS = ALL_HUMAN_ROLES | {Role.INGEST}  # what an application fetches at run time (a prompt version)

LLMOPS_MODELS = [
    "prompttemplate",
    "promptversion",
    "promptlabel",
    "promptlabelmove",
    "price",
    "llmcall",
    "retrieveddocument",
    "budget",
    "budgetalert",
    "evaluationdataset",
    "evaluationitem",
    "evaluationrun",
    "evaluationresult",
    "callscore",
    "tracespan",
    "tracesettings",
]
_view = view_permissions("llmops", LLMOPS_MODELS)

ROLE_GROUP_PERMISSIONS: dict[str, set[str]] = {
    DS: _view | {"llmops.add_prompttemplate", "llmops.add_promptversion", "llmops.add_evaluationdataset"},
    CO: _view
    | {"llmops.add_budget", "llmops.change_budget", "llmops.add_tracesettings", "llmops.change_tracesettings"},
    Role.RISK_ANALYST: _view,
}
