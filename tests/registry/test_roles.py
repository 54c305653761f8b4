"""Each app declares its own roles' model permissions; the role groups hold exactly their union."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from governance import permissions as governance_permissions
from llmops import permissions as llmops_permissions
from registry.models import Role
from registry.roles import declare_role_permissions, role_permissions, roles_with_permission


def test_every_role_has_the_union_of_what_each_app_declared():
    union = role_permissions()
    assert set(union) == set(Role.values)
    assert union[Role.INGEST] == frozenset()  # reads nothing in admin
    for app in (governance_permissions, llmops_permissions):
        for role, codes in app.ROLE_GROUP_PERMISSIONS.items():
            assert codes <= union[role]
    by_app = {code.split(".")[0] for codes in union.values() for code in codes}
    assert by_app == {"registry", "governance", "llmops"}
    assert roles_with_permission("governance.change_erasurerequest") == {Role.COMPLIANCE_OFFICER}
    assert roles_with_permission("llmops.add_promptversion") == {Role.DATA_SCIENTIST}
    assert roles_with_permission("registry.view_apikey") == {Role.COMPLIANCE_OFFICER}


def test_an_app_may_not_grant_another_apps_models_or_unknown_roles():
    with pytest.raises(ValueError, match="only grant its own"):
        declare_role_permissions("llmops", {Role.DATA_SCIENTIST: {"governance.change_erasurerequest"}})
    with pytest.raises(ValueError, match="unknown roles"):
        declare_role_permissions("llmops", {"superhero": {"llmops.view_llmcall"}})
    assert "governance.change_erasurerequest" not in role_permissions()[Role.DATA_SCIENTIST]


@pytest.mark.django_db
def test_the_migrated_groups_hold_exactly_the_declared_permissions():
    for role, codes in role_permissions().items():
        group = Group.objects.get(name=role)
        held = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}
        assert held == codes, role
