"""Browser tests (tests/jupyter/test_browser_sidebar.py) and scripts/screenshots.py drive Debian's chromium (never a
browser downloaded by a test tool), headless, with these flags."""

from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def session_cookie(username: str, role: str, project, live_server) -> dict:
    """A staff user holding `role` in `project`, logged in: the session cookie for the browser."""
    from django.apps import apps
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    from registry.actors import Actor
    from registry.roles import sync_role_groups
    from registry.services import membership_set

    sync_role_groups(apps)  # a transactional test before this one flushed the role groups the migrations made
    user = get_user_model().objects.create_user(username, password="pw", is_staff=True)
    membership_set(actor=Actor.system(), user=user, project=project, role=role)
    client = Client()
    client.force_login(user)
    return {
        "name": settings.SESSION_COOKIE_NAME,
        "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
        "url": live_server.url,
    }
