from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from registry import services
from registry.actors import Actor
from registry.errors import ServiceError
from registry.models import Project, Role


class Command(BaseCommand):
    help = "Create an API key scoped to one project and one role; the key is printed once, never stored."

    def add_arguments(self, parser):
        parser.add_argument("--project", required=True, help="project slug")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--name", required=True, help="what the key is for, e.g. 'credit-scoring service'")
        parser.add_argument(
            "--owner", default="", help="username of the person who holds the key; leave out for a service key"
        )

    def handle(self, *args, project: str, role: str, name: str, owner: str = "", **options):
        try:
            target = Project.objects.get(slug=project)
        except Project.DoesNotExist:
            raise CommandError(f"no project with slug {project!r}") from None
        person = None
        if owner:
            users = get_user_model()
            try:
                person = users.objects.get(**{users.USERNAME_FIELD: owner})
            except users.DoesNotExist:
                raise CommandError(f"no user {owner!r}") from None
        try:
            key, raw = services.api_key_create(actor=Actor.system(), project=target, role=role, name=name, owner=person)
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        held = f", held by {owner}" if owner else " (a service key: it never counts as a second person)"
        self.stderr.write(f"API key {key.prefix} for {role} in {target.slug}{held}; shown once, store it now:")
        self.stdout.write(raw)
