from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "registry"
    verbose_name = "Registry"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from datetime import timedelta

        from django.db import models
        from rest_framework.serializers import ModelSerializer

        from registry.api import schema  # noqa: F401  (registers the OpenAPI auth extension)
        from registry.inputs import SaneDateTimeField
        from registry.jobs import register_periodic_task

        # every model serializer's datetime fields go through the input gate's year range
        ModelSerializer.serializer_field_mapping[models.DateTimeField] = SaneDateTimeField

        # a job whose worker died while running it is sent again (registry.services.jobs.jobs_recover)
        register_periodic_task("recover stale jobs", task="registry.recover_jobs", schedule=timedelta(minutes=1))
