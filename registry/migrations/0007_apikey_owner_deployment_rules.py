"""API keys get an owner (four eyes compares people); deployments get their model, denormalised, so that the
database holds at most one live direct or blue-green deployment per model and environment."""

from datetime import timedelta

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

REPLACING = ["direct", "blue_green"]


def fill_model_and_end_overlaps(apps, schema_editor):
    Deployment = apps.get_model("registry", "Deployment")
    for deployment in Deployment.objects.select_related("model_version").filter(model__isnull=True).iterator():
        Deployment.objects.filter(pk=deployment.pk).update(model_id=deployment.model_version.model_id)
    # Before this rule two replacing deployments could be live at once: the later one replaces the earlier ones,
    # as the service does now (each ends at the start of the next).
    live = Deployment.objects.filter(ended_at__isnull=True, strategy__in=REPLACING).order_by(
        "model_id", "environment", "started_at", "id"
    )
    previous = None
    for deployment in live:
        if previous is not None and (previous.model_id, previous.environment) == (
            deployment.model_id,
            deployment.environment,
        ):
            end = max(deployment.started_at, previous.started_at + timedelta(microseconds=1))
            Deployment.objects.filter(pk=previous.pk).update(ended_at=end)
        previous = deployment


class Migration(migrations.Migration):
    atomic = False  # PostgreSQL refuses ALTER TABLE after updates with pending deferred FK checks
    dependencies = [
        ("registry", "0006_role_groups_fairness"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="apikey",
            name="owner",
            field=models.ForeignKey(
                blank=True,
                help_text="the person who holds the key (four eyes compares people); empty for a service key",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="api_keys",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="deployment",
            name="model",
            field=models.ForeignKey(
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="deployments",
                to="registry.model",
            ),
        ),
        migrations.RunPython(fill_model_and_end_overlaps, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="deployment",
            name="model",
            field=models.ForeignKey(
                editable=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="deployments",
                to="registry.model",
            ),
        ),
        migrations.AddConstraint(
            model_name="deployment",
            constraint=models.UniqueConstraint(
                condition=models.Q(("ended_at__isnull", True), ("strategy__in", REPLACING)),
                fields=("model", "environment"),
                name="deployment_one_live_replacing",
                violation_error_message="another direct or blue-green deployment of this model is live there",
            ),
        ),
    ]
