from __future__ import annotations

import os
import secrets
import shlex
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from config.envfile import read_env_file
from registry.auth import key_lookup
from registry.models import ModelVersion, Project, Stage

ADMIN_USERNAME = "admin"
DEMO_PROJECT = "demo"


class Command(BaseCommand):
    help = (
        "Make sure the `admin` superuser exists (password from ADMIN_PASSWORD, else generated once and kept in "
        "var/local.env) and print where to go: admin, API docs and the demo API key."
    )

    def add_arguments(self, parser):
        parser.add_argument("--base-url", default="http://127.0.0.1:8000", help="where the server answers")

    def handle(self, *args, base_url: str, **options):
        env_file = Path(settings.VAR_DIR) / "local.env"
        # The environment wins; var/local.env is read here too because `make run` appends to it between
        # steps (DEMO_API_KEY is written by load_demo) and the command may be run outside `make run`.
        local = read_env_file(env_file)

        def setting(name: str) -> str:
            return os.environ.get(name) or local.get(name) or ""

        password = setting("ADMIN_PASSWORD")
        User = get_user_model()
        user = User.objects.filter(username=ADMIN_USERNAME).first()
        if user is None:
            if not password:
                password = secrets.token_urlsafe(12)
                if env_file.exists():
                    text = env_file.read_text()
                    with env_file.open("a") as fh:
                        fh.write(("" if not text or text.endswith("\n") else "\n") + f"ADMIN_PASSWORD={password}\n")
            User.objects.create_superuser(ADMIN_USERNAME, "admin@example.invalid", password)
        elif password and not user.check_password(password):
            user.set_password(password)
            user.save(update_fields=["password"])

        base = base_url.rstrip("/")
        shown = password or "(unchanged; set ADMIN_PASSWORD to reset it)"
        lines = [
            f"Admin:     {base}/admin/   user {ADMIN_USERNAME}, password {shown}",
            f"API docs:  {base}/api/v1/docs/   (schema: {base}/api/v1/schema/)",
        ]
        lines += self._demo_key_lines(setting("DEMO_API_KEY"), base)
        rule = "-" * 100
        self.stdout.write("\n".join(["", rule, *(f"  {line}" for line in lines), rule, ""]))

    def _demo_key_lines(self, raw: str, base: str) -> list[str]:
        demo = Project.objects.filter(slug=DEMO_PROJECT).first()
        if not raw:
            if demo is None:
                return []
            return [
                "API key:   none kept for the demo; make one with",
                "           .venv/bin/python scripts/local_env.py .venv/bin/python manage.py create_api_key "
                f"--project {demo.slug} --role risk_analyst --name me",
            ]
        key = key_lookup(raw)
        if key is None:
            return [f"API key:   DEMO_API_KEY in {Path(settings.VAR_DIR) / 'local.env'} is not valid in this database"]
        header = shlex.quote(f"Authorization: Bearer {raw}")
        lines = [
            f"API key:   {raw}   ({key.role} in {key.project.slug})",
            f"           curl -H {header} {base}/api/v1/model-versions/",
        ]
        version = (
            ModelVersion.objects.filter(project=key.project, stage=Stage.PRODUCTION).order_by("-created_at").first()
        )
        if version is not None:
            url = shlex.quote(f"{base}/api/v1/decisions/?model_version={version.pk}")
            lines.append(f"           curl -H {header} {url}")
        return lines
