"""Role groups see the records MLflow's protocol writes (experiments, metric points, logged models,
artifacts, aliases and their moves)."""

from django.db import migrations

from registry.roles import sync_role_groups


class Migration(migrations.Migration):
    dependencies = [("registry", "0010_mlflow_records")]

    operations = [migrations.RunPython(sync_role_groups, migrations.RunPython.noop)]
