from django.core.management.base import BaseCommand, CommandError

from registry import services
from registry.actors import Actor
from registry.errors import ServiceError


class Command(BaseCommand):
    help = "Create a project (the tenant boundary of keys, roles and records)."

    def add_arguments(self, parser):
        parser.add_argument("--slug", required=True)
        parser.add_argument("--name", required=True)

    def handle(self, *args, slug: str, name: str, **options):
        try:
            project = services.project_create(actor=Actor.system(), slug=slug, name=name)
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"created project {project.slug} (id {project.pk})")
