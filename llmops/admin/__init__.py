"""Admin for LLMOps: prompts with their version history, label moves and diffs; LLM calls with their tokens
and cost; a cost dashboard; the price catalog; budgets with their state; evaluation datasets and runs, with
two runs compared item by item.

Every write goes through llmops.services: a prompt through prompt_create, a label move through
prompt_label_move (data scientists of the prompt's project), a budget through budget_create (compliance
officers), a price row through prices_import (superusers). Prompt versions, calls, prices once added and
evaluation runs are read-only for everyone, superusers included. As everywhere in admin, people see only the
records of the projects they are members of. Subject keys are never shown: whether a call is linked to a
subject is.

One module per record family, on the registry's kit (registry.admin.kit); importing them here registers them
(Django's autodiscover imports this package). What a custom page shows is computed by llmops.presenters.
"""

from __future__ import annotations

from llmops.admin import budgets, calls, evaluation, prices, prompts, traces  # noqa: F401 - registers the admins
from registry.admin.audit import audit_target_links

audit_target_links(
    "llmops.prompttemplate", "llmops.promptversion", "llmops.budget", "llmops.evaluationdataset", "llmops.evaluationrun"
)
