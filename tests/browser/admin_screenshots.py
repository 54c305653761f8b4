"""Screenshots of the admin for docs/: a scratch SQLite database, a small credit-model story, runserver,
and Chromium driven by Playwright. Not a test; run it by hand:

    .venv/bin/python -m tests.browser.admin_screenshots [--all]

It writes docs/admin-model-version.png and docs/admin-decisions.png, and stops the server it started.
"""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.browser import CHROMIUM, CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parents[2]
DATABASE = Path("/tmp/admin_shot.sqlite3")
PASSWORD = "screenshot-password-not-secret"
ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings",
    "DATABASE_URL": f"sqlite:///{DATABASE}",
    "SUBJECT_HMAC_KEY": "screenshot-subject-hmac-key-0123456789abcdef0123",
    "DJANGO_DEBUG": "true",
}


EXTRA_PAGES = [
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


def seed() -> int:
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


def main() -> None:
    os.environ.update(ENV)
    sys.path.insert(0, str(ROOT))
    DATABASE.unlink(missing_ok=True)
    import django

    django.setup()
    version_pk = seed()

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
            page.goto(f"{base}/admin/registry/modelversion/{version_pk}/change/")
            page.screenshot(path=str(ROOT / "docs/admin-model-version.png"), full_page=True)
            page.goto(f"{base}/admin/governance/decision/")
            page.screenshot(path=str(ROOT / "docs/admin-decisions.png"), full_page=False)
            if "--all" in sys.argv:  # more pages, for a look before a change is handed in
                for name, path in EXTRA_PAGES:
                    page.goto(base + path.format(version=version_pk))
                    page.screenshot(path=f"/tmp/admin-{name}.png", full_page=True)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
