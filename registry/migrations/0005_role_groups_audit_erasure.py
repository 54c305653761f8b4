from django.db import migrations

from registry.roles import sync_role_groups


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0004_audit_append_only"),
        ("governance", "0001_initial"),
    ]

    operations = [migrations.RunPython(sync_role_groups, migrations.RunPython.noop)]
