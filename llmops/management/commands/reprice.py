from datetime import datetime

from django.core.management.base import BaseCommand, CommandError

from llmops.services.pricing import calls_reprice
from registry.actors import Actor
from registry.models import Project


def _when(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise CommandError(f"--{name} needs a timezone (e.g. 2026-01-01T00:00:00Z)")
    return parsed


class Command(BaseCommand):
    help = (
        "Price a project's LLM calls again with the catalog as it is now (e.g. after adding a missing model). Audited."
    )

    def add_arguments(self, parser):
        parser.add_argument("--project", required=True, help="project slug")
        parser.add_argument("--start", help="ISO 8601: calls at or after")
        parser.add_argument("--end", help="ISO 8601: calls before")

    def handle(self, *args, project: str, start: str | None, end: str | None, **options):
        found = Project.objects.filter(slug=project).first()
        if found is None:
            raise CommandError(f"no project {project!r}")
        result = calls_reprice(
            actor=Actor.system(), project_id=found.pk, start=_when(start, "start"), end=_when(end, "end")
        )
        self.stdout.write(
            f"{result.calls} calls repriced: {result.priced} priced, {result.unpriced} still unpriced; "
            f"cost {result.cost_before} -> {result.cost_after} USD"
        )
