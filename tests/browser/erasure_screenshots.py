"""Screenshots of the erasure admin for docs/: the story of admin_screenshots.py, plus erasure requests in
every state. Not a test; run it by hand:

    .venv/bin/python -m tests.browser.erasure_screenshots [--all]

It writes docs/admin-erasure-list.png and docs/admin-erasure-report.png (with --all, more pages to /tmp for
a look, the report as printed among them), and stops the server it started.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

from tests.browser import CHROMIUM, CHROMIUM_ARGS
from tests.browser.admin_screenshots import (
    DATABASE,
    ENV,
    PASSWORD,
    ROOT,
    free_port,
    seed,
    wait_for,
)


def seed_erasures() -> int:
    """Requests received, traced, executed (with retraining obligations on both credit versions), completed,
    rejected and overdue. Returns the pk of the executed one."""
    from django.contrib.auth import get_user_model
    from django.db.models import Count
    from django.utils import timezone

    from governance.models import Decision
    from governance.services.erasure import (
        erasure_request_create,
        erasure_request_execute,
        erasure_request_reject,
        erasure_request_trace,
    )
    from registry.actors import Actor
    from registry.models import Project
    from registry.subjects import subject_key

    officer = get_user_model().objects.create_user("olga.berg", "olga@example.invalid", PASSWORD, is_staff=True)
    actor = Actor.for_user(get_user_model().objects.get(username="admin"))
    acme, globex = Project.objects.get(slug="acme"), Project.objects.get(slug="globex")
    now = timezone.now()

    # The customer of the story with the most decisions.
    keys = {subject_key(f"customer-{i}"): f"customer-{i}" for i in range(400)}
    busiest = (
        Decision.objects.filter(subject_key__in=keys)
        .values("subject_key")
        .annotate(n=Count("id"))
        .order_by("-n", "subject_key")
        .first()
    )

    def receive(project, subject, reference, days_ago):
        return erasure_request_create(
            actor=actor,
            project=project,
            subject_id=subject,
            reference=reference,
            received_at=now - timedelta(days=days_ago, hours=3),
        )

    done = receive(acme, "customer-9001", "DSR-2026-001", 44)
    erasure_request_trace(actor=actor, request=done)
    erasure_request_execute(actor=actor, request=done)  # holds nothing retrained: completes at once
    rejected = receive(acme, "customer-77", "DSR-2026-003", 40)
    erasure_request_trace(actor=actor, request=rejected)
    erasure_request_reject(
        actor=actor, request=rejected, reason="Open loan: the contract data must be kept until repayment."
    )
    receive(acme, "customer-12", "DSR-2026-009", 34)
    late = receive(acme, "customer-33", "DSR-2026-011", 31)
    erasure_request_trace(actor=actor, request=late)
    executed = receive(acme, keys[busiest["subject_key"]], "DSR-2026-014", 12)
    officer_actor = Actor.for_user(officer)
    erasure_request_trace(actor=officer_actor, request=executed)
    erasure_request_execute(actor=officer_actor, request=executed)
    receive(acme, "customer-250", "DSR-2026-018", 26)
    receive(acme, "customer-301", "DSR-2026-021", 3)
    receive(globex, "policy-88123", "GLX-0042", 8)
    return executed.pk


def main() -> None:
    os.environ.update(ENV)
    sys.path.insert(0, str(ROOT))
    DATABASE.unlink(missing_ok=True)
    import django

    django.setup()
    version_pk = seed()
    executed_pk = seed_erasures()

    from playwright.sync_api import sync_playwright

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(  # noqa: S603
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env={**os.environ, **ENV},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(f"{base}/admin/login/")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.goto(f"{base}/admin/login/")
            page.fill("#id_username", "admin")
            page.fill("#id_password", PASSWORD)
            page.click("input[type=submit]")
            page.wait_for_url(f"{base}/admin/")
            requests = f"{base}/admin/governance/erasurerequest"
            page.goto(f"{requests}/")
            page.screenshot(path=str(ROOT / "docs/admin-erasure-list.png"), full_page=True)
            page.goto(f"{requests}/{executed_pk}/report/")
            page.screenshot(path=str(ROOT / "docs/admin-erasure-report.png"), full_page=True)
            if "--all" in sys.argv:
                page.emulate_media(media="print")
                page.screenshot(path="/tmp/admin-erasure-report-print.png", full_page=True)
                page.pdf(path="/tmp/admin-erasure-report.pdf", format="A4")
                page.emulate_media(media="screen")
                traced = f"{requests}/?status__exact=traced"
                extra = [
                    ("erasure-change", f"{requests}/{executed_pk}/change/"),
                    ("erasure-add", f"{requests}/add/"),
                    ("erasure-traced", traced),
                    ("audit-events", f"{base}/admin/registry/auditevent/"),
                    ("audit-verified", f"{base}/admin/registry/auditevent/verify/"),
                    ("suppressed", f"{base}/admin/registry/suppressedsubject/"),
                    ("audit-event", f"{base}/admin/registry/auditevent/1/change/"),
                ]
                for name, url in extra:
                    page.goto(url)
                    page.screenshot(path=f"/tmp/admin-{name}.png", full_page=True)
                # The execute confirmation page of a traced request, from the list's action.
                page.goto(traced)
                page.check("#result_list tbody input.action-select")
                page.select_option("select[name=action]", "execute_requests")
                page.click("button[name=index]")
                page.wait_for_load_state()
                page.screenshot(path="/tmp/admin-erasure-execute.png", full_page=True)
                page.goto(f"{requests}/{executed_pk - 1}/change/")
                page.screenshot(path="/tmp/admin-erasure-change-traced.png", full_page=True)
            browser.close()
        print(f"model version {version_pk}, executed erasure request {executed_pk}")
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
