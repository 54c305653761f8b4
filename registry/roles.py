"""Django groups named after the roles, with the model permissions each role has in admin.

This table is also what scopes admin per project: a user sees a record in admin only in the projects where
the role they hold there has the model's view permission here (`roles_with_permission`), whatever else their
groups grant through roles held in other projects. Keep it in step with the API's `read_roles`.

Later apps add their models here and a migration that calls `sync_role_groups` again.
"""

from __future__ import annotations

REGISTRY_MODELS = [
    "auditevent",
    "suppressedsubject",
    "project",
    "dataset",
    "dataversion",
    "dataversionparent",
    "subjectindex",
    "run",
    "runinput",
    "model",
    "modelversion",
    "stagetransition",
    "deployment",
]
GOVERNANCE_MODELS = ["decision", "fairnessaudit", "policy", "driftreport", "performancereport", "modelversionapproval"]
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
]


def _view_all() -> set[str]:
    return (
        {f"registry.view_{m}" for m in REGISTRY_MODELS}
        | {f"governance.view_{m}" for m in GOVERNANCE_MODELS}
        | {f"llmops.view_{m}" for m in LLMOPS_MODELS}
    )


ROLE_PERMISSIONS: dict[str, set[str]] = {
    # Data scientists see the retraining obligations they must meet, not the erasure requests.
    "data_scientist": _view_all()
    | {"governance.view_retrainingobligation"}
    | {
        f"registry.{action}_{m}"
        for action in ("add", "change")
        for m in ("dataset", "dataversion", "run", "model", "modelversion", "deployment")
    }
    | {"llmops.add_prompttemplate", "llmops.add_promptversion", "llmops.add_evaluationdataset"},
    # Reads everything, moves versions between stages (approvals), handles erasure requests and the
    # project's policy and webhooks; never edits decisions.
    "compliance_officer": _view_all()
    | {
        "registry.view_apikey",
        "registry.change_modelversion",
        "governance.view_erasurerequest",
        "governance.add_erasurerequest",
        "governance.change_erasurerequest",
        "governance.view_retrainingobligation",
        "governance.change_policy",
        "governance.view_webhook",
        "governance.view_webhookdelivery",
        "llmops.add_budget",
        "llmops.change_budget",
    },
    "risk_analyst": _view_all(),
    # An application's key or user: it writes decisions and calls through the API and reads nothing in admin,
    # as the API answers its reads of decisions and LLM calls (their inputs, outputs and subjects) with 403.
    "ingest": set(),
}


def roles_with_permission(permission: str) -> frozenset[str]:
    """The roles whose permissions include ``permission`` ("app_label.codename")."""
    return frozenset(role for role, codes in ROLE_PERMISSIONS.items() if permission in codes)


def sync_role_groups(apps, schema_editor=None) -> None:
    """Create or update one group per role with exactly its permissions (idempotent).

    Permissions of models that are not migrated yet are skipped: the migration adding them runs this again."""
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codes in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = []
        for code in sorted(codes):
            app_label, codename = code.split(".")
            permission = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if permission is not None:
                wanted.append(permission)
        group.permissions.set(wanted)
