import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from registry import services
from registry.actors import Actor
from registry.models import Project, Role


class Command(BaseCommand):
    help = (
        "Create (or update) a person who logs into admin with one role in one project. "
        "The password comes from --password-env VAR, or is generated and printed once."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", required=True)
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--project", required=True, help="project slug")
        parser.add_argument("--email", default="")
        parser.add_argument("--password-env", help="name of an environment variable holding the password")

    def handle(self, *args, username: str, role: str, project: str, email: str, password_env: str | None, **opts):
        try:
            target = Project.objects.get(slug=project)
        except Project.DoesNotExist:
            raise CommandError(f"no project with slug {project!r}") from None
        if password_env:
            password = os.environ.get(password_env)
            if not password:
                raise CommandError(f"environment variable {password_env} is empty or unset")
            generated = False
        else:
            password, generated = secrets.token_urlsafe(12), True
        User = get_user_model()
        with transaction.atomic():
            user, created = User.objects.get_or_create(username=username, defaults={"email": email})
            user.is_staff = True  # may log into admin; what they see is their group's permissions
            user.set_password(password)
            user.save()
            services.membership_set(actor=Actor.system(), user=user, project=target, role=role)
        verb = "created" if created else "updated"
        self.stdout.write(f"{verb} user {username}: {role} in {target.slug}")
        if generated:
            self.stdout.write(f"password (shown once): {password}")
