from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = "Governance"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib import admin

        from governance.events import GovernanceEvent
        from governance.jobs import register_jobs
        from governance.permissions import ROLE_GROUP_PERMISSIONS
        from governance.review_integrity import reviews_check
        from governance.services.contests import contests_decide
        from governance.services.erasure import obligations_check
        from governance.services.gate import promotion_checks
        from governance.services.incidents import incident_change_refusals, incident_freeze_checks
        from governance.services.policies import protected_aliases
        from governance.services.retention import sealed_months_check
        from governance.services.reviews import on_review_closed
        from registry.audit import register_event_types
        from registry.hooks import (
            add_alias_protection,
            add_change_guard,
            add_gate_check,
            add_record_check,
            on_model_version_registered,
        )
        from registry.roles import declare_role_permissions

        admin.site.index_template = "admin/governance/home.html"  # the compliance home above the records
        register_event_types(GovernanceEvent)
        register_jobs()
        declare_role_permissions("governance", ROLE_GROUP_PERMISSIONS)
        add_gate_check(promotion_checks)
        add_gate_check(incident_freeze_checks)
        add_change_guard(incident_change_refusals)
        add_alias_protection(protected_aliases)
        add_record_check(reviews_check)
        add_record_check(sealed_months_check)
        on_review_closed(contests_decide)
        on_model_version_registered(lambda actor, version: obligations_check(actor=actor, model_version=version))
