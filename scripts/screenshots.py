"""Screenshots of the admin for docs/, taken by hand (not a test): a scratch SQLite database with a story loaded
through the services, runserver on a free loopback port, and Debian's Chromium driven by Playwright.

    .venv/bin/python scripts/screenshots.py [admin|erasure|llmops|all] [--out DIR] [--all]

- `admin`: a small credit-model story; docs/admin-model-version.png and docs/admin-decisions.png;
- `erasure`: the same story plus erasure requests in every state; docs/admin-erasure-list.png and
  docs/admin-erasure-report.png;
- `llmops`: the LLM demo (llmops.demo: a support assistant's prompt versions, a few hundred calls with documents,
  prices, a budget and an evaluation of two prompt versions); docs/admin-llm-costs.png, docs/admin-llm-prompt.png
  and docs/admin-llm-compare.png;
- `all` (the default): the three, each in a process of its own (each has its own scratch database).

`--out DIR` writes the docs images to DIR instead of docs/ (to look before replacing them); `--all` also writes
more pages to the temporary folder (/tmp) for a look before a change is handed in (the erasure report as printed
among them). Each run stops the server it started.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.browser import CHROMIUM, CHROMIUM_ARGS  # noqa: E402  (the flags the browser tests use too)

PASSWORD = "screenshot-password-not-secret"
ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings",
    "SUBJECT_HMAC_KEY": "screenshot-subject-hmac-key-0123456789abcdef0123",
    "DJANGO_DEBUG": "true",
}
SCRATCH = Path(tempfile.gettempdir())  # the scratch databases and the --all pages (/tmp)
# The story's database (admin and erasure) and the LLM demo's.
DATABASES = {
    "admin": SCRATCH / "admin_shot.sqlite3",
    "erasure": SCRATCH / "admin_shot.sqlite3",
    "llmops": SCRATCH / "llm_admin_shot.sqlite3",
}

ADMIN_EXTRA_PAGES = [
    ("transition", "/admin/registry/modelversion/{version}/transition/"),
    ("decision", "/admin/governance/decision/1/change/"),
    ("decisions-of-version", "/admin/governance/decision/?model_version__id__exact={version}"),
    ("data-version", "/admin/registry/dataversion/4/change/"),
    ("data-versions", "/admin/registry/dataversion/"),
    ("dataset", "/admin/registry/dataset/1/change/"),
    ("run", "/admin/registry/run/2/change/"),
    ("model-versions", "/admin/registry/modelversion/"),
    ("deployments", "/admin/registry/deployment/"),
    ("subjects", "/admin/registry/subjectindex/"),
    ("api-key-add", "/admin/registry/apikey/add/"),
    ("transitions", "/admin/registry/stagetransition/"),
    ("model", "/admin/registry/model/1/change/"),
]

LLM_DOCS = {
    "admin-llm-costs.png": "/admin/llmops/llmcall/costs/?project={project}",
    "admin-llm-prompt.png": "/admin/llmops/prompttemplate/{template}/change/",
    "admin-llm-compare.png": "/admin/llmops/evaluationrun/compare/?a={run_a}&b={run_b}",
}
LLM_EXTRA_PAGES = [
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


def seed_story() -> int:
    """The story: raw applications -> cleaned -> train/validation splits (joined with bureau scores)
    -> a training run -> credit-approval v2 in production after a canary -> decisions. Returns v2's pk."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from governance.models import Decision
    from governance.services import decisions_ingest, outcomes_record
    from registry import services
    from registry.actors import Actor

    call_command("migrate", verbosity=0)
    admin_user = get_user_model().objects.create_superuser("admin", "admin@example.invalid", PASSWORD)
    actor = Actor.for_user(admin_user)
    project = services.project_create(actor=actor, slug="acme", name="Acme Bank")
    services.project_create(actor=actor, slug="globex", name="Globex Insurance")
    schema = {"age": "int64", "income": "float64", "loan_amount": "float64", "employment": "object"}

    applications = services.dataset_create(
        actor=actor,
        project=project,
        name="loan_applications",
        contains_personal_data=True,
        legal_basis="contract, GDPR Art. 6(1)(b)",
        description="Consumer loan applications from the branch and web channels.",
    )
    bureau = services.dataset_create(
        actor=actor,
        project=project,
        name="bureau_scores",
        contains_personal_data=True,
        legal_basis="legitimate interest, GDPR Art. 6(1)(f)",
    )

    def version(dataset, name, rows, parents=(), transformation=""):
        return services.data_version_register(
            actor=actor,
            dataset=dataset,
            version=name,
            content_sha256=f"{abs(hash((dataset.name, name))):x}".ljust(64, "0")[:64],
            row_count=rows,
            schema=schema,
            storage_uri=f"s3://acme-ml/{dataset.name}/{name}.parquet",
            parents=parents,
            transformation=transformation,
        )

    raw = version(applications, "2025-12-raw", 120_412)
    clean = version(applications, "2025-12-clean", 117_960, [raw], "deduplicated, incomplete rows dropped")
    scores = version(bureau, "2025-Q4", 2_304_118)
    train = version(applications, "2025-12-train", 82_572, [clean, scores], "joined with bureau scores, 70% split")
    valid = version(applications, "2025-12-valid", 17_694, [clean, scores], "joined with bureau scores, 15% split")
    services.subjects_index(actor=Actor.system(), data_version=train, subject_ids=[f"customer-{i}" for i in range(400)])

    old_run = services.run_register(
        actor=actor,
        project=project,
        name="logreg-baseline",
        params={"C": 1.0},
        metrics={"auc": 0.812},
        inputs=[{"data_version": train, "role": "train"}],
    )
    run = services.run_register(
        actor=actor,
        project=project,
        name="xgb-credit-2026-01",
        params={"max_depth": 6, "learning_rate": 0.1, "n_estimators": 400},
        metrics={"auc": 0.874, "accuracy": 0.812, "log_loss": 0.402},
        inputs=[{"data_version": train, "role": "train"}, {"data_version": valid, "role": "validation"}],
        git_commit="9f2c41d7e0b35a8c6d1e4f7a2b9c0d3e5f6a7b8c",
        git_branch="main",
        git_dirty=False,
        notebook_path="notebooks/credit/train_xgb.ipynb",
        environment={"python": "3.11.7", "xgboost": "2.1.3", "scikit-learn": "1.6.1"},
        source="notebook",
    )
    model = services.model_create(
        actor=actor,
        project=project,
        name="credit-approval",
        risk_tier="high",
        description="Approves or refers consumer loan applications.",
    )
    v1 = services.model_version_register(
        actor=actor,
        model=model,
        run=old_run,
        artifact_uri="s3://acme-ml/models/credit-approval/1/model.pkl",
        artifact_sha256="1" * 64,
        framework="sklearn",
    )
    v2 = services.model_version_register(
        actor=actor,
        model=model,
        run=run,
        artifact_uri="s3://acme-ml/models/credit-approval/2/model.ubj",
        artifact_sha256="7c4a9e" + "0" * 58,
        framework="xgboost",
        signature={"inputs": schema},
        intended_use="Decide consumer loan applications up to EUR 50,000; refer the rest to an underwriter.",
        limitations="Not validated for applicants under 21 or for business loans.",
    )
    services.model_version_transition(actor=actor, model_version=v1, to_stage="production", reason="baseline")
    start = datetime(2026, 1, 5, 9, tzinfo=UTC)  # history: backfilled (the API refuses a past start)
    services.deployment_create(actor=actor, model_version=v1, environment="production", started_at=start, backfill=True)
    services.model_version_transition(
        actor=actor, model_version=v2, to_stage="staging", reason="AUC +0.06 on the validation split"
    )
    services.model_version_transition(
        actor=actor, model_version=v2, to_stage="production", reason="canary clean for 10 days; approved by risk"
    )
    canary = services.deployment_create(
        actor=actor,
        model_version=v2,
        environment="production",
        strategy="canary",
        traffic_percent=10,
        started_at=datetime(2026, 1, 20, 9, tzinfo=UTC),
        ended_at=datetime(2026, 2, 1, 9, tzinfo=UTC),
        backfill=True,
    )
    live = services.deployment_create(
        actor=actor,
        model_version=v2,
        environment="production",
        started_at=datetime(2026, 2, 1, 9, tzinfo=UTC),
        backfill=True,
    )
    services.deployment_create(
        actor=actor,
        model_version=v2,
        environment="shadow-eu",
        strategy="shadow",
        started_at=datetime(2026, 2, 3, 9, tzinfo=UTC),
        backfill=True,
    )

    rng = random.Random(7)
    items = []
    for i in range(180):
        deployment = canary if i < 30 else live
        at = deployment.started_at + timedelta(hours=3 * i + rng.randint(0, 2), minutes=rng.randint(0, 59))
        score = round(rng.random(), 3)
        items.append(
            {
                "model_version": v2.pk,
                "deployment": deployment.pk,
                "request_id": f"app-2026-{10_000 + i}",
                "subject_id": f"customer-{rng.randint(0, 399)}",
                "features": {"age": rng.randint(21, 70), "income": rng.randint(18, 140) * 1000},
                "sensitive": {"sex": rng.choice("FM"), "age_band": rng.choice(["21-34", "35-54", "55+"])},
                "prediction": "approve" if score >= 0.5 else "refer",
                "score": score,
                "occurred_at": at.isoformat(),
            }
        )
    decisions_ingest(actor=Actor.system(), items=items)
    outcomes_record(
        actor=Actor.system(),
        items=[
            {
                "model_version": v2.pk,
                "request_id": item["request_id"],
                "outcome": rng.choice(["repaid", "repaid", "repaid", "defaulted"]),
                "outcome_at": "2026-04-01T00:00:00Z",
            }
            for item in items
            if rng.random() < 0.6  # ground truth arrives for some decisions only
        ],
    )
    # Scratch data only: what an executed erasure leaves of two decisions (there is no erasure service yet).
    erased = Decision.objects.filter(request_id__in=["app-2026-10003", "app-2026-10177"])
    erased.update(subject_key=None, features={}, sensitive={}, erased_at=datetime(2026, 3, 2, tzinfo=UTC))
    return v2.pk


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


def seed_llm() -> dict:
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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)  # noqa: S310 - loopback only
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {timeout}s")


def serve_and_shoot(database: Path, shoot: Callable[[object, str], None]) -> None:
    """Runserver on the scratch database, a logged-in admin page in Chromium for `shoot(page, base_url)`."""
    from playwright.sync_api import sync_playwright

    env = {**ENV, "DATABASE_URL": f"sqlite:///{database}"}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(  # noqa: S603
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env={**os.environ, **env},
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
            shoot(page, base)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)


def shoot_admin(out: Path, extra: bool) -> None:
    version_pk = seed_story()

    def shoot(page, base: str) -> None:
        page.goto(f"{base}/admin/registry/modelversion/{version_pk}/change/")
        page.screenshot(path=str(out / "admin-model-version.png"), full_page=True)
        page.goto(f"{base}/admin/governance/decision/")
        page.screenshot(path=str(out / "admin-decisions.png"), full_page=False)
        if extra:
            for name, path in ADMIN_EXTRA_PAGES:
                page.goto(base + path.format(version=version_pk))
                page.screenshot(path=str(SCRATCH / f"admin-{name}.png"), full_page=True)

    serve_and_shoot(DATABASES["admin"], shoot)


def shoot_erasure(out: Path, extra: bool) -> None:
    version_pk = seed_story()
    executed_pk = seed_erasures()

    def shoot(page, base: str) -> None:
        requests = f"{base}/admin/governance/erasurerequest"
        page.goto(f"{requests}/")
        page.screenshot(path=str(out / "admin-erasure-list.png"), full_page=True)
        page.goto(f"{requests}/{executed_pk}/report/")
        page.screenshot(path=str(out / "admin-erasure-report.png"), full_page=True)
        if extra:
            page.emulate_media(media="print")
            page.screenshot(path=str(SCRATCH / "admin-erasure-report-print.png"), full_page=True)
            page.pdf(path=str(SCRATCH / "admin-erasure-report.pdf"), format="A4")
            page.emulate_media(media="screen")
            traced = f"{requests}/?status__exact=traced"
            pages = [
                ("erasure-change", f"{requests}/{executed_pk}/change/"),
                ("erasure-add", f"{requests}/add/"),
                ("erasure-traced", traced),
                ("audit-events", f"{base}/admin/registry/auditevent/"),
                ("audit-verified", f"{base}/admin/registry/auditevent/verify/"),
                ("suppressed", f"{base}/admin/registry/suppressedsubject/"),
                ("audit-event", f"{base}/admin/registry/auditevent/1/change/"),
            ]
            for name, url in pages:
                page.goto(url)
                page.screenshot(path=str(SCRATCH / f"admin-{name}.png"), full_page=True)
            # The execute confirmation page of a traced request, from the list's action.
            page.goto(traced)
            page.check("#result_list tbody input.action-select")
            page.select_option("select[name=action]", "execute_requests")
            page.click("button[name=index]")
            page.wait_for_load_state()
            page.screenshot(path=str(SCRATCH / "admin-erasure-execute.png"), full_page=True)
            page.goto(f"{requests}/{executed_pk - 1}/change/")
            page.screenshot(path=str(SCRATCH / "admin-erasure-change-traced.png"), full_page=True)

    serve_and_shoot(DATABASES["erasure"], shoot)
    print(f"model version {version_pk}, executed erasure request {executed_pk}")


def shoot_llmops(out: Path, extra: bool) -> None:
    ids = seed_llm()

    def shoot(page, base: str) -> None:
        for name, path in LLM_DOCS.items():
            page.goto(base + path.format(**ids))
            page.screenshot(path=str(out / name), full_page=True)
        if extra:
            for name, path in LLM_EXTRA_PAGES:
                page.goto(base + path.format(**ids))
                page.screenshot(path=str(SCRATCH / f"llm-admin-{name}.png"), full_page=True)

    serve_and_shoot(DATABASES["llmops"], shoot)


SETS = {"admin": shoot_admin, "erasure": shoot_erasure, "llmops": shoot_llmops}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("set", nargs="?", choices=[*SETS, "all"], default="all")
    parser.add_argument("--out", type=Path, default=ROOT / "docs", help="where the docs images go (default docs/)")
    parser.add_argument("--all", action="store_true", help="also more pages to /tmp, for a look")
    args = parser.parse_args(argv)
    if args.set == "all":  # one process each: each set has its own scratch database and Django set up once
        for name in SETS:
            command = [sys.executable, __file__, name, "--out", str(args.out)] + (["--all"] if args.all else [])
            subprocess.run(command, check=True)  # noqa: S603
        return
    args.out.mkdir(parents=True, exist_ok=True)
    database = DATABASES[args.set]
    os.environ.update({**ENV, "DATABASE_URL": f"sqlite:///{database}"})
    database.unlink(missing_ok=True)
    import django

    django.setup()
    SETS[args.set](args.out.resolve(), args.all)


if __name__ == "__main__":
    main()
