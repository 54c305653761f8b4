import json
from datetime import UTC, datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from llmops.services.pricing import litellm_rows, prices_import, prices_seed
from registry.actors import Actor
from registry.errors import ServiceError


class Command(BaseCommand):
    help = (
        "Add prices to the catalog: the shipped seed table (--seed), or a LiteLLM-format JSON file "
        "(model_prices_and_context_window.json). Rows already present are left as they are; audited."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", help="LiteLLM-format JSON file")
        parser.add_argument("--seed", action="store_true", help="load the shipped seed table (llmops/data/prices.json)")
        parser.add_argument(
            "--effective-from",
            help="ISO 8601 time the file's prices apply from (default: now); a call is priced at its own time",
        )

    def handle(self, *args, file: str | None, seed: bool, effective_from: str | None, **options):
        if bool(file) == bool(seed):
            raise CommandError("give a FILE or --seed")
        actor = Actor.system()
        try:
            if seed:
                result = prices_seed(actor=actor)
                skipped: list[str] = []
            else:
                path = Path(file)
                try:
                    data = json.loads(path.read_text())
                except (OSError, ValueError) as exc:
                    raise CommandError(f"{file}: {exc}") from None
                if not isinstance(data, dict):
                    raise CommandError(f"{file}: expected a JSON object of model name -> prices")
                when = datetime.fromisoformat(effective_from) if effective_from else datetime.now(UTC)
                if when.tzinfo is None:
                    raise CommandError("--effective-from needs a timezone (e.g. 2026-01-01T00:00:00Z)")
                rows, skipped = litellm_rows(data, effective_from=when, source=f"litellm:{path.name}")
                result = prices_import(actor=actor, rows=rows, what=f"litellm {path.name}")
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        for reason in skipped:
            self.stdout.write(f"skipped {reason}")
        self.stdout.write(f"{result.created} prices added, {result.unchanged} already in the catalog")
