import os

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from registry.models import ApiKey


class Command(BaseCommand):
    help = (
        "Make sure the `admin` superuser exists (password from ADMIN_PASSWORD, else generated once and kept in "
        "var/local.env) and print where to go: admin, API docs and the demo API key."
    )

    def handle(self, *args, **options):
        from pathlib import Path

        from django.conf import settings

        env_file = Path(settings.VAR_DIR) / "local.env"
        password = os.environ.get("ADMIN_PASSWORD")
        User = get_user_model()
        user = User.objects.filter(username="admin").first()
        if user is None:
            if not password:
                import secrets

                password = secrets.token_urlsafe(12)
                if env_file.exists():
                    with env_file.open("a") as fh:
                        fh.write(f"ADMIN_PASSWORD={password}\n")
            User.objects.create_superuser("admin", "admin@example.invalid", password)
        elif password and not user.check_password(password):
            user.set_password(password)
            user.save(update_fields=["password"])

        base = "http://127.0.0.1:8000"
        self.stdout.write("")
        self.stdout.write(
            f"  Admin:     {base}/admin/   user admin, password {password or '(unchanged; see ADMIN_PASSWORD)'}"
        )
        self.stdout.write(f"  API docs:  {base}/api/v1/docs/")
        demo_key = os.environ.get("DEMO_API_KEY")
        if demo_key:
            key = ApiKey.objects.filter(prefix=demo_key.split("_")[1] if demo_key.count("_") >= 2 else "").first()
            role = f" ({key.role} in {key.project.slug})" if key else ""
            self.stdout.write(f"  API key:   {demo_key}{role}")
            self.stdout.write(f"             curl -H 'Authorization: Bearer {demo_key}' {base}/api/v1/model-versions/")
        self.stdout.write("")
