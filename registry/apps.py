from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "registry"
    verbose_name = "Registry"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db import models
        from rest_framework.serializers import ModelSerializer

        from registry.api import schema  # noqa: F401  (registers the OpenAPI auth extension)
        from registry.inputs import SaneDateTimeField

        # every model serializer's datetime fields go through the input gate's year range
        ModelSerializer.serializer_field_mapping[models.DateTimeField] = SaneDateTimeField
