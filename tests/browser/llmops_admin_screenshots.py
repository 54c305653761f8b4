"""Screenshots of the LLMOps admin for docs/: a scratch SQLite database with the LLM demo (llmops.demo: a
support assistant's prompt versions, a few hundred calls with documents, prices, a budget and an evaluation
of two prompt versions), runserver on a free loopback port, and Chromium driven by Playwright. Not a test;
run it by hand:

    .venv/bin/python -m tests.browser.llmops_admin_screenshots [--all]

It writes docs/admin-llm-costs.png, docs/admin-llm-prompt.png and docs/admin-llm-compare.png (with --all,
more pages to /tmp for a look), and stops the server it started.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.browser import CHROMIUM, CHROMIUM_ARGS
from tests.browser.admin_screenshots import ENV, PASSWORD, ROOT, free_port, wait_for

DATABASE = Path("/tmp/llm_admin_shot.sqlite3")
LLM_ENV = {**ENV, "DATABASE_URL": f"sqlite:///{DATABASE}"}
DOCS = {
    "admin-llm-costs.png": "/admin/llmops/llmcall/costs/?project={project}",
    "admin-llm-prompt.png": "/admin/llmops/prompttemplate/{template}/change/",
    "admin-llm-compare.png": "/admin/llmops/evaluationrun/compare/?a={run_a}&b={run_b}",
}
EXTRA_PAGES = [
    ("index", "/admin/llmops/"),
    ("calls", "/admin/llmops/llmcall/"),
    ("calls-unpriced", "/admin/llmops/llmcall/?cost_status__exact=unpriced"),
    ("call", "/admin/llmops/llmcall/{call}/change/"),
    ("call-unpriced", "/admin/llmops/llmcall/{unpriced_call}/change/"),
    ("costs-by-tag", "/admin/llmops/llmcall/costs/?project={project}&group_by=tag"),
    ("diff", "/admin/llmops/prompttemplate/{template}/diff/"),
    ("move-label", "/admin/llmops/prompttemplate/{template}/move-label/"),
    ("prompts", "/admin/llmops/prompttemplate/"),
    ("versions", "/admin/llmops/promptversion/"),
    ("version", "/admin/llmops/promptversion/{version}/change/"),
    ("prices", "/admin/llmops/price/"),
    ("price-add", "/admin/llmops/price/add/"),
    ("budgets", "/admin/llmops/budget/"),
    ("budget", "/admin/llmops/budget/{budget}/change/"),
    ("budget-add", "/admin/llmops/budget/add/"),
    ("runs", "/admin/llmops/evaluationrun/"),
    ("run", "/admin/llmops/evaluationrun/{run_a}/change/"),
    ("datasets", "/admin/llmops/evaluationdataset/"),
    ("dataset", "/admin/llmops/evaluationdataset/{dataset}/change/"),
]


def seed() -> dict:
    """The LLM demo, loaded through the services as `make run` loads it; answers the ids the pages need."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from llmops.demo import llm_demo_load
    from llmops.models import Budget, EvaluationRun, LLMCall, PromptTemplate
    from llmops.services import prompts
    from registry import services
    from registry.actors import Actor
    from registry.models import Role

    call_command("migrate", verbosity=0)
    get_user_model().objects.create_superuser("admin", "admin@example.invalid", PASSWORD)
    result = llm_demo_load()
    run_a, run_b = result.evaluation_runs
    template = PromptTemplate.objects.get(project=result.project)
    # After the evaluation, a data scientist registers a third version and moves staging to it: the label
    # history then shows a move by a person, not only the demo's first labels.
    scientist = get_user_model().objects.create_user("dana.kim", "dana@example.invalid", PASSWORD, is_staff=True)
    services.membership_set(actor=Actor.system(), user=scientist, project=result.project, role=Role.DATA_SCIENTIST)
    prompts.prompt_version_create(
        actor=Actor.for_user(scientist),
        template=template,
        kind="chat",
        messages=[
            {"role": "system", "content": "You are Acme Bank's support assistant. Answer from the context only."},
            {"role": "user", "content": "Context: {{context}}\nQuestion: {{question}}\nAnswer in one sentence."},
        ],
        variables=["context", "question"],
        model="gpt-4o-mini",
        parameters={"temperature": 0, "max_tokens": 120},
        commit_message="Back to context-first; one sentence asked in the user turn",
        labels=["staging"],
    )
    calls = LLMCall.objects.filter(project=result.project)
    return {
        "project": result.project.slug,
        "template": template.pk,
        "version": template.versions.order_by("-version").first().pk,
        "run_a": run_a,
        "run_b": run_b,
        "dataset": EvaluationRun.objects.get(pk=run_a).dataset_id,
        "budget": Budget.objects.get(project=result.project).pk,
        "call": calls.filter(cost_status="priced", input_cache_read__gt=0).order_by("-occurred_at").first().pk,
        "unpriced_call": calls.filter(cost_status="unpriced").order_by("-occurred_at").first().pk,
    }


def main() -> None:
    os.environ.update(LLM_ENV)
    sys.path.insert(0, str(ROOT))
    DATABASE.unlink(missing_ok=True)
    import django

    django.setup()
    ids = seed()

    from playwright.sync_api import sync_playwright

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(  # noqa: S603
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env={**os.environ, **LLM_ENV},
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
            for name, path in DOCS.items():
                page.goto(base + path.format(**ids))
                page.screenshot(path=str(ROOT / "docs" / name), full_page=True)
            if "--all" in sys.argv:  # more pages, for a look before a change is handed in
                for name, path in EXTRA_PAGES:
                    page.goto(base + path.format(**ids))
                    page.screenshot(path=f"/tmp/llm-admin-{name}.png", full_page=True)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
