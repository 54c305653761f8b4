"""Role groups see the records OpenLineage's events write (jobs, pipeline runs, run outputs, the events)."""

from django.db import migrations

from registry.roles import sync_role_groups


class Migration(migrations.Migration):
    dependencies = [("registry", "0012_openlineage_records")]

    operations = [migrations.RunPython(sync_role_groups, migrations.RunPython.noop)]
