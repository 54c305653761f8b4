from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = "Governance"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from governance.erasure import obligations_check
        from registry.hooks import on_model_version_registered

        on_model_version_registered(lambda actor, version: obligations_check(actor=actor, model_version=version))
