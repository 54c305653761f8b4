from django.apps import AppConfig


class InteropConfig(AppConfig):
    name = "interop"
    verbose_name = "Interop"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from interop.mlflow.protocol import PROTOCOL_PREFIXES, error_for_status
        from interop.otlp import protocol as otlp_protocol
        from registry.middleware import register_protocol_prefix

        for prefix in PROTOCOL_PREFIXES:
            register_protocol_prefix(prefix, error_for_status)
        register_protocol_prefix(otlp_protocol.PREFIX, otlp_protocol.error_for_status)
