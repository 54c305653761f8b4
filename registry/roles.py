"""Django groups named after the roles, with the model permissions each role has in admin.

Each app declares what each role may do with its own models (`<app>/permissions.py`, registered with
`declare_role_permissions` when the app is ready); this module holds the registry's share and the union.
That union is also what scopes admin per project: a user sees a record in admin only in the projects where
the role they hold there has the model's view permission (`roles_with_permission`), whatever else their
groups grant through roles held in other projects. An app adding models declares them and adds a migration
that calls `sync_role_groups` again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from registry.models import Role

_declared: dict[str, dict[str, frozenset[str]]] = {}  # app label -> role -> permissions


def view_permissions(app_label: str, models: Iterable[str]) -> set[str]:
    return {f"{app_label}.view_{model}" for model in models}


def declare_role_permissions(app_label: str, grants: Mapping[str, Iterable[str]]) -> None:
    """An app's model permissions per role ("app_label.codename"), each naming only that app's models."""
    foreign = sorted(code for codes in grants.values() for code in codes if not code.startswith(f"{app_label}."))
    if foreign:
        raise ValueError(f"{app_label} may only grant its own models' permissions, not {foreign}")
    unknown = sorted(set(grants) - set(Role.values))
    if unknown:
        raise ValueError(f"unknown roles {unknown}")
    _declared[app_label] = {role: frozenset(codes) for role, codes in grants.items()}


def role_permissions() -> dict[str, frozenset[str]]:
    """Every role (also one no app grants anything: ingest) with the union of what the apps declared."""
    return {role: frozenset().union(*(grants.get(role, ()) for grants in _declared.values())) for role in Role.values}


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
    "experiment",
    "metricpoint",
    "loggedmodel",
    "artifact",
    "modelalias",
    "modelaliasmove",
    "runoutput",
    "job",
    "pipelinerun",
    "lineageevent",
    "chainverificationrun",
    "backgroundjob",  # admin narrows it further by the job's kind (registry.selectors.jobs_visible)
]
_registry_view = view_permissions("registry", REGISTRY_MODELS)
declare_role_permissions(
    "registry",
    {
        # data scientists register data, runs, models and deployments
        Role.DATA_SCIENTIST: _registry_view
        | {
            f"registry.{action}_{model}"
            for action in ("add", "change")
            for model in ("dataset", "dataversion", "run", "model", "modelversion", "deployment")
        },
        # compliance officers also see the API keys and move versions between stages (approvals)
        Role.COMPLIANCE_OFFICER: _registry_view | {"registry.view_apikey", "registry.change_modelversion"},
        Role.RISK_ANALYST: _registry_view,
        # reviewers see which model and version made the decisions they review
        Role.REVIEWER: view_permissions("registry", ["project", "model", "modelversion", "deployment"]),
        # an application's key or user writes through the API and reads nothing in admin
        Role.INGEST: set(),
    },
)


def roles_with_permission(permission: str) -> frozenset[str]:
    """The roles whose permissions include ``permission`` ("app_label.codename")."""
    return frozenset(role for role, codes in role_permissions().items() if permission in codes)


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
    for role, codes in role_permissions().items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = []
        for code in sorted(codes):
            app_label, codename = code.split(".")
            permission = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if permission is not None:
                wanted.append(permission)
        group.permissions.set(wanted)
