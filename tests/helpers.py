"""Helpers shared by test modules (fixtures live in conftest.py)."""

from __future__ import annotations

from io import StringIO

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client


def staff_client(username: str, role: str, project) -> Client:
    """A person made the way operators make them (`manage.py create_user`), logged in."""
    call_command("create_user", username=username, role=role, project=project.slug, stdout=StringIO())
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return client
