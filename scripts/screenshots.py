"""Screenshots of the admin for docs/, taken by hand (not a test): a scratch SQLite database with a story loaded
through the services, runserver on a free loopback port, and Debian's Chromium driven by Playwright.

    .venv/bin/python scripts/screenshots.py [admin|erasure|llmops|all] [--out DIR] [--all]

- `admin`: a small credit-model story whose versions reach production through the promotion gate (a policy
  naming `sex`, shadow decisions with outcomes, a passing audit, two officers' approvals);
  docs/admin-model-version.png and docs/admin-decisions.png;
- `erasure`: the same story plus erasure requests in every state; docs/admin-erasure-list.png and
  docs/admin-erasure-report.png;
- `llmops`: the LLM demo (llmops.demo: a support assistant's prompt versions, a few hundred calls with documents,
  prices, a budget and an evaluation of two prompt versions); docs/admin-llm-costs.png, docs/admin-llm-prompt.png
  and docs/admin-llm-compare.png;
- `interop`: what the foreign protocols write (seeded through the services the MLflow and OpenLineage routes
  call): an MLflow run with its metric history, a pipeline run of an OpenLineage job (the spec's captured
  events) that wrote the training table of a model version; docs/admin-mlflow-run.png and
  docs/admin-pipeline-run.png;
- `all` (the default): the four, each in a process of its own (each has its own scratch database).

The compliance officer's home, the review queue, a review page and an incident page are taken by their browser
tests instead (`SAVE_SCREENSHOTS=1 pytest tests/browser` writes docs/admin-home.png, docs/admin-review-queue.png,
docs/admin-review-item.png and docs/admin-incident.png), since those tests drive the pages they show.

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
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # Django is set up in main(), after the scratch database is chosen
    from registry.actors import Actor
    from registry.models import Deployment, ModelVersion

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
    "interop": SCRATCH / "interop_admin_shot.sqlite3",
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


AUDITED = ["sex"]  # the attribute Acme's policy names: the gating fairness audit is by it
OFFICERS = ("olga.berg", "ines.moreau")  # Acme's compliance officers: the four eyes on every promotion


def seed_story() -> int:
    """The story: raw applications -> cleaned -> train/validation splits (joined with bureau scores)
    -> training runs -> credit-approval v1 in production, then v2 after a shadow run and a canary -> decisions.
    Each version reaches production through the promotion gate as the service enforces it (see `_promote`).
    Returns v2's pk."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from governance.models import Decision
    from governance.services.decisions import decisions_ingest, outcomes_record
    from governance.services.policies import policy_for_project, policy_update
    from registry import services
    from registry.actors import Actor
    from registry.models import Role

    call_command("migrate", verbosity=0)
    User = get_user_model()
    admin_user = User.objects.create_superuser("admin", "admin@example.invalid", PASSWORD)
    actor = Actor.for_user(admin_user)
    project = services.project_create(actor=actor, slug="acme", name="Acme Bank")
    services.project_create(actor=actor, slug="globex", name="Globex Insurance")
    for username in OFFICERS:
        person = User.objects.create_user(username, f"{username}@example.invalid", PASSWORD, is_staff=True)
        services.membership_set(actor=actor, user=person, project=project, role=Role.COMPLIANCE_OFFICER)
    officers = [Actor.for_user(User.objects.get(username=username)) for username in OFFICERS]
    # Acme's policy names the attribute its gating audits cover (while it names none, nothing is promoted).
    policy_update(
        actor=officers[0],
        policy=policy_for_project(actor=officers[0], project_id=project.pk),
        changes={"required_sensitive_features": AUDITED},
    )
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
        intended_use="Baseline: decide consumer loan applications up to EUR 50,000; refer the rest.",
        limitations="Application data only, no bureau scores; not validated for applicants under 21.",
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

    def log(decisions: list[tuple[dict, str]], *, share: float, rng: random.Random) -> None:
        """Ingest the decisions, then the ground truth of about `share` of them, four weeks after each."""
        decisions_ingest(actor=Actor.system(), items=[item for item, _ in decisions])
        outcomes_record(
            actor=Actor.system(),
            items=[
                {
                    "model_version": item["model_version"],
                    "request_id": item["request_id"],
                    "outcome": truth,
                    "outcome_at": (datetime.fromisoformat(item["occurred_at"]) + timedelta(days=28)).isoformat(),
                }
                for item, truth in decisions
                if rng.random() < share
            ],
        )

    # History is backfilled (the API refuses a past start); the gate and the stage rules hold even then.
    # v1 runs three days in shadow, is audited over its shadow decisions and goes to production.
    rng = random.Random(11)
    shadow_1 = services.deployment_create(
        actor=actor,
        model_version=v1,
        environment="shadow-eu",
        strategy="shadow",
        started_at=datetime(2026, 1, 2, 9, tzinfo=UTC),
        ended_at=datetime(2026, 1, 5, 9, tzinfo=UTC),
        backfill=True,
    )
    log(
        _decisions(rng, v1.pk, [shadow_1] * 640, "app-2026-{}", first=20_000, every=timedelta(minutes=6)),
        share=0.95,
        rng=rng,
    )
    _promote(promoter=actor, officers=officers, model_version=v1, reason="baseline")
    start = datetime(2026, 1, 5, 9, tzinfo=UTC)
    services.deployment_create(actor=actor, model_version=v1, environment="production", started_at=start, backfill=True)

    # v2: staging, two weeks in shadow beside v1, the gate, a canary, then all of production.
    services.model_version_transition(
        actor=actor, model_version=v2, to_stage="staging", reason="AUC +0.06 on the validation split"
    )
    rng = random.Random(13)
    shadow_2 = services.deployment_create(
        actor=actor,
        model_version=v2,
        environment="shadow-eu",
        strategy="shadow",
        started_at=datetime(2026, 1, 6, 9, tzinfo=UTC),
        backfill=True,
    )
    log(_decisions(rng, v2.pk, [shadow_2] * 620, "app-2026-{:05d}", every=timedelta(minutes=30)), share=0.95, rng=rng)
    _promote(
        promoter=actor,
        officers=officers,
        model_version=v2,
        reason="clean in shadow since 2026-01-06; fairness audit by sex passed; approved by compliance",
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
    rng = random.Random(7)
    items = _decisions(rng, v2.pk, [canary] * 30 + [live] * 150, "app-2026-{}", first=10_000, every=timedelta(hours=3))
    log(items, share=0.6, rng=rng)  # ground truth arrives for some decisions only
    # Scratch data only: what an executed erasure leaves of two decisions, written directly so that the decision
    # list shows erased rows without a ninth request in the erasure list (the `erasure` set executes real ones).
    erased = Decision.objects.filter(request_id__in=["app-2026-10003", "app-2026-10177"])
    erased.update(subject_key=None, features={}, sensitive={}, erased_at=datetime(2026, 3, 2, tzinfo=UTC))
    return v2.pk


def _decisions(
    rng: random.Random,
    version: int,
    deployments: list[Deployment],
    request_id: str,
    *,
    every: timedelta,
    first: int = 0,
) -> list[tuple[dict, str]]:
    """The i-th decision of the list for the i-th deployment given, near its start + i * `every`, each with its
    ground truth. The model separates well whatever the applicant's sex, and the truth is in the decision's own
    terms (approving was right: the loan was repaid), so that a fairness audit compares like with like."""
    decisions = []
    for i, deployment in enumerate(deployments):
        truth = "approve" if rng.random() < 0.72 else "refer"
        score = round(min(max(rng.gauss(0.66 if truth == "approve" else 0.34, 0.14), 0.0), 1.0), 3)
        at = deployment.started_at + every * i + timedelta(hours=rng.randint(0, 2), minutes=rng.randint(0, 59))
        item = {
            "model_version": version,
            "deployment": deployment.pk,
            "request_id": request_id.format(first + i),
            "subject_id": f"customer-{rng.randint(0, 399)}",
            "features": {"age": rng.randint(21, 70), "income": rng.randint(18, 140) * 1000},
            "sensitive": {"sex": rng.choice("FM"), "age_band": rng.choice(["21-34", "35-54", "55+"])},
            "prediction": "approve" if score >= 0.5 else "refer",
            "score": score,
            "occurred_at": at.isoformat(),
        }
        decisions.append((item, truth))
    return decisions


def _promote(*, promoter: Actor, officers: list[Actor], model_version: ModelVersion, reason: str) -> None:
    """Into production through the promotion gate, with what it asks for given through the services: a
    compliance officer audits the version's decisions by the policy's attribute, both officers approve (four
    eyes), and another person (the admin) moves it. The gate itself decides; when it refuses, say why."""
    from governance.services.fairness import fairness_audit_run
    from governance.services.gate import model_version_approve
    from registry import services
    from registry.errors import ServiceError

    audit = fairness_audit_run(
        actor=officers[0], model_version=model_version, sensitive_features=AUDITED, positive_label="approve"
    )
    for officer in officers:
        model_version_approve(
            actor=officer,
            model_version=model_version,
            to_stage="production",
            comment=f"fairness audit {audit.pk} by {', '.join(AUDITED)} reviewed; model card reviewed",
        )
    try:
        services.model_version_transition(
            actor=promoter, model_version=model_version, to_stage="production", reason=reason
        )
    except ServiceError as exc:  # the gate may ask for more than when this story was written
        raise RuntimeError(f"{exc.message}: {exc.fields}") from exc


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

    officer = get_user_model().objects.get(username=OFFICERS[0])  # an officer of the story's project
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


OPENLINEAGE_SAMPLES = ROOT / "tests" / "interop" / "openlineage" / "samples"


def seed_interop() -> dict:
    """An MLflow run (a training curve of 300 steps, params, tags, a logged model registered as credit-scoring
    v1 with alias `challenger`) and an OpenLineage job run (START and COMPLETE as openlineage-python sent them)
    whose output table a second model version was trained on. Answers the ids the pages need."""
    import io
    import json
    import math
    import uuid

    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.utils import timezone

    from interop.openlineage.events import decode_event
    from registry import services
    from registry.actors import Actor
    from registry.models import DataVersion, Run

    call_command("migrate", verbosity=0)
    actor = Actor.for_user(get_user_model().objects.create_superuser("admin", "admin@example.invalid", PASSWORD))
    project = services.project_create(actor=actor, slug="acme", name="Acme Bank")
    experiment = services.experiment_create(actor=actor, project=project, name="credit-scoring", tags={"team": "risk"})
    run = services.run_start(
        actor=actor,
        project=project,
        experiment=experiment,
        name="gbm-lr0.05",
        run_uuid=uuid.uuid4().hex,
        started_at=timezone.now(),
        tags={"mlflow.user": "dana.kim", "mlflow.source.name": "train.py", "mlflow.source.git.commit": "9f2c1e7"},
        fields={"user_name": "dana.kim", "source_name": "train.py", "git_commit": "9f2c1e7"},  # as the route fills them
    )
    rng = random.Random(7)
    points = []
    for step in range(300):
        loss = 0.7 * math.exp(-step / 60) + 0.12 + rng.gauss(0, 0.01)
        auc = 0.91 - 0.25 * math.exp(-step / 45) + rng.gauss(0, 0.004)
        for key, value in (("train_loss", loss), ("val_auc", auc), ("learning_rate", 0.05 * 0.99 ** (step // 10))):
            point = {"key": key, "value": value, "step": step, "timestamp": 1_795_000_000_000 + step * 1000}
            points.append({**point, "model_ref": "", "dataset_name": "", "dataset_digest": ""})
    params = {"learning_rate": "0.05", "max_depth": "4", "n_estimators": "300", "subsample": "0.8"}
    services.run_log(actor=actor, run=run, params=params, metrics=points)
    logged = services.logged_model_create(actor=actor, project=project, experiment=experiment, name="model", run=run)
    prefix = services.logged_model_prefix(logged)
    for name, body in (("MLmodel", b"flavors:\n  sklearn: {}\n"), ("model.skops", b"\x00" * 4096)):
        stream = io.BytesIO(body)
        services.artifact_store(
            actor=actor, project=project, path=f"{prefix}/{name}", stream=stream, logged_model=logged
        )
    logged = services.logged_model_update(actor=actor, logged_model=logged, status="ready")
    services.run_update(actor=actor, run=run, status="finished", ended_at=timezone.now())
    model = services.model_create(actor=actor, project=project, name="credit-scoring")
    v1 = services.model_version_register(
        actor=actor,
        model=model,
        run=run,
        artifact_uri=f"mlflow-artifacts:/{prefix}",
        artifact_sha256=logged.artifact_sha256,
        logged_model=logged,
    )
    services.model_alias_set(actor=actor, model=model, name="challenger", model_version=v1)

    for sample in ("ol__start.json", "ol__complete.json"):
        event = json.loads((OPENLINEAGE_SAMPLES / sample).read_text())
        services.lineage_event_record(actor=actor, project=project, report=decode_event(event))
    pipeline_run = Run.objects.get(source=Run.Source.OPENLINEAGE, parent__isnull=False)
    table = DataVersion.objects.get(dataset__source_uri="s3://ml-bucket/features/train.parquet")
    trained = services.run_register(
        actor=actor, project=project, name="gbm on features", inputs=[{"data_version": table, "role": "train"}]
    )
    v2 = services.model_version_register(
        actor=actor, model=model, run=trained, artifact_uri="s3://models/credit/2", artifact_sha256="c" * 64
    )
    return {
        "run": run.pk,
        "pipeline_run": pipeline_run.pk,
        "job": pipeline_run.pipeline.job_id,
        "table": table.pk,
        "version": v2.pk,
        "model": model.pk,
        "experiment": experiment.pk,
    }


INTEROP_EXTRA_PAGES = [
    ("experiment", "/admin/registry/experiment/{experiment}/change/"),
    ("experiments", "/admin/registry/experiment/"),
    ("job", "/admin/registry/job/{job}/change/"),
    ("lineage-events", "/admin/registry/lineageevent/"),
    ("table", "/admin/registry/dataversion/{table}/change/"),
    ("model-version", "/admin/registry/modelversion/{version}/change/"),
    ("model", "/admin/registry/model/{model}/change/"),
    ("logged-models", "/admin/registry/loggedmodel/"),
]


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


def shoot_interop(out: Path, extra: bool) -> None:
    ids = seed_interop()

    def shoot(page, base: str) -> None:
        page.goto(f"{base}/admin/registry/run/{ids['run']}/change/")
        page.screenshot(path=str(out / "admin-mlflow-run.png"), full_page=True)
        page.goto(f"{base}/admin/registry/run/{ids['pipeline_run']}/change/")
        page.screenshot(path=str(out / "admin-pipeline-run.png"), full_page=True)
        if extra:
            for name, path in INTEROP_EXTRA_PAGES:
                page.goto(base + path.format(**ids))
                page.screenshot(path=str(SCRATCH / f"interop-admin-{name}.png"), full_page=True)

    serve_and_shoot(DATABASES["interop"], shoot)


SETS = {"admin": shoot_admin, "erasure": shoot_erasure, "llmops": shoot_llmops, "interop": shoot_interop}


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
