from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from governance.demo import DEMO_PROJECT, demo_load
from registry.models import Role

DEMO_KEY_ROLE = Role.RISK_ANALYST
DEMO_KEY_LINE = re.compile(r"^\s*(export\s+)?DEMO_API_KEY=")


class Command(BaseCommand):
    help = (
        f"Load the demo project `{DEMO_PROJECT}` (scikit-lego's arrests data, a scikit-learn model, its decisions "
        "and outcomes) unless it is already there."
    )

    def handle(self, *args, **options):
        result = demo_load(stdout=self.stdout)
        if not result.loaded:
            self.stdout.write(f"demo already loaded (project {result.project.slug!r})")
            return
        version = result.model_version
        self.stdout.write(
            self.style.SUCCESS(
                f"demo loaded in {result.seconds:.1f} s: project {result.project.slug!r}, "
                f"{len(result.data_versions)} data versions, {result.subjects_indexed} subject index rows, "
                f"run {result.run.pk}, {version} in {version.stage} "
                f"(accuracy {version.metrics['accuracy']:.3f}), {result.decisions} decisions, "
                f"{result.outcomes} outcomes"
            )
        )
        self._remember_key(result.api_keys[DEMO_KEY_ROLE])

    def _remember_key(self, raw_key: str) -> None:
        # A local development convenience only: the service stores API keys as hashes and cannot show one
        # again, so the demo's read-only key is kept in the private var/local.env that `make run` writes,
        # next to the other local secrets, for `ensure_admin` to print on every run.
        env_file = Path(settings.VAR_DIR) / "local.env"
        if not env_file.exists():
            self.stdout.write(f"{DEMO_KEY_ROLE} API key of the demo (shown once): {raw_key}")
            return
        lines = env_file.read_text().splitlines()
        line = f"DEMO_API_KEY={raw_key}"
        if any(DEMO_KEY_LINE.match(old) for old in lines):
            # The demo was just created, so a key kept from an earlier database cannot work any more.
            lines = [line if DEMO_KEY_LINE.match(old) else old for old in lines]
        else:
            lines.append(line)
        env_file.write_text("\n".join(lines) + "\n")
