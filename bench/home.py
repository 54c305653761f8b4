"""The compliance officer's home (the admin index) on a large installation.

    .venv/bin/python bench/home.py [--decisions 1000000] [--reviews 10000] [--requests 100] [--samples 20]

1. Drops and recreates the database `governance_bench_home` on the server of --database-url and migrates it;
   this process then runs `django.setup()` with the service's settings from the environment.
2. Loads one project with a high-risk model of two versions (v2 in production, with a failed gating fairness
   audit), --decisions decisions over 12 months (set-based INSERT ... SELECT generate_series: the home reads no
   decision, and the log must be there at its size), --reviews closed reviews (queue items and their reviews,
   a tenth overridden, over the last 30 days) and 500 open ones, --requests open erasure requests (due from 20
   days ago to 30 days ahead), 5 open incidents, 200 alerts in the audit trail and a chain verification.
   Then VACUUM ANALYZE.
3. Renders GET /admin/ through Django's test client (no HTTP server) as a compliance officer of the project,
   2 warm-ups then --samples timed renders, counting the statements of each; then the same with Django's own
   admin index (no home cards: `admin.site.index_template = None`) as the baseline measured in the same run.

Prints the median and p95 of both, their ratio, the statements per render, and the target (median under 300 ms).
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import time
from pathlib import Path

from common import migrate, percentile, recreate_database, vacuum_analyze, with_database  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = "governance_bench_home"
TARGET_MS = 300


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--database-url", default=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1/postgres")
    )
    parser.add_argument("--decisions", type=int, default=1_000_000)
    parser.add_argument("--reviews", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--samples", type=int, default=20)
    return parser.parse_args()


def load(args) -> dict:
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.utils import timezone

    from governance.models import ErasureRequest, FairnessAudit
    from governance.services.alerts import alert_raise
    from governance.services.incidents import incident_open
    from registry import partitions, services
    from registry.actors import Actor
    from registry.models import ChainVerificationRun, Model, Role, Stage
    from registry.partitions import month_of
    from registry.subjects import subject_key
    from tests import factories as f

    system, now = Actor.system(), timezone.now()
    project = services.project_create(actor=system, slug="bank", name="Bank")
    model = f.ModelFactory(project=project, name="credit", risk_tier=Model.RiskTier.HIGH)
    run = f.RunFactory(project=project)
    v1 = f.ModelVersionFactory(model=model, run=run, version=1, stage=Stage.STAGING)
    v2 = f.ModelVersionFactory(model=model, run=run, version=2, stage=Stage.PRODUCTION)
    FairnessAudit.objects.create(
        project=project,
        model_version=v2,
        sensitive_features=["sex"],
        positive_label=1,
        row_count=10_000,
        overall={},
        by_group=[],
        disparities={},
        policy={},
        passed=False,
    )
    officer = get_user_model().objects.create_user("olga", password=secrets.token_hex(8), is_staff=True)
    services.membership_set(actor=system, user=officer, project=project, role=Role.COMPLIANCE_OFFICER)

    # a year of decisions back from now: each month's partition, as ingest makes sure of (registry/partitions.py)
    partitions.ensure("governance_decision", {(project.pk, month_of(now - timedelta(days=day))) for day in range(366)})
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO governance_decision (project_id, model_version_id, request_id, subject_key, subject_key_id,
                features, sensitive, prediction, score, occurred_at, created_at, commitment, skeleton_commitment)
            SELECT %s, CASE WHEN g %% 4 = 0 THEN %s ELSE %s END, 'req-' || g, md5(g::text) || md5((g * 7)::text),
                'k1', jsonb_build_object('income', g %% 5000), jsonb_build_object('sex', CASE WHEN g %% 2 = 0
                THEN 'F' ELSE 'M' END), to_jsonb(g %% 3 = 0), (g %% 1000) / 1000.0,
                %s - (g %% 365) * interval '1 day', %s, md5(g::text), ''
            FROM generate_series(1, %s) AS g
            """,
            [project.pk, v1.pk, v2.pk, now, now, args.decisions],
        )
        loaded_decisions = time.perf_counter() - started
        total = args.reviews + 500
        cursor.execute(
            """
            INSERT INTO governance_reviewitem (project_id, model_version_id, request_id, decision_id,
                decision_occurred_at, reasons, priority, status, final_decision, entered_at, closed_at)
            SELECT %s, d.model_version_id, d.request_id, d.id, d.occurred_at, '["sample"]'::jsonb, 0,
                CASE WHEN n > %s THEN 'pending' WHEN n %% 10 = 0 THEN 'overridden' ELSE 'confirmed' END,
                CASE WHEN n <= %s AND n %% 10 = 0 THEN 'true'::jsonb END,
                %s - (n %% 30) * interval '1 day' - interval '1 hour',
                CASE WHEN n <= %s THEN %s - (n %% 30) * interval '1 day' END
            FROM (SELECT id, model_version_id, request_id, occurred_at, row_number() OVER () AS n
                  FROM governance_decision WHERE model_version_id = %s LIMIT %s) AS d
            """,
            [project.pk, args.reviews, args.reviews, now, args.reviews, now, v2.pk, total],
        )
        cursor.execute(
            """
            INSERT INTO governance_review (project_id, item_id, model_version_id, decision_id, decision_occurred_at,
                verdict, final_decision, reason, reviewer_user_id, reviewer_name, source, external_id, reviewed_at,
                created_at)
            SELECT project_id, id, model_version_id, decision_id, decision_occurred_at, status, final_decision,
                'checked', %s, '', 'here', '', closed_at, closed_at
            FROM governance_reviewitem WHERE closed_at IS NOT NULL
            """,
            [officer.pk],
        )
    ErasureRequest.objects.bulk_create(
        ErasureRequest(
            project=project,
            subject_key=subject_key(f"customer-{i}"),
            reference=f"ER-{i}",
            received_at=now - timedelta(days=50 - i // 2),
            due_at=now - timedelta(days=20 - i // 2),
        )
        for i in range(args.requests)
    )
    with transaction.atomic():
        for i in range(5):
            incident_open(
                actor=system,
                project=project,
                title=f"incident {i}",
                description="d",
                category="other",
                aware_at=now - timedelta(days=i),
                model_versions=[v1],
            )
        for i in range(200):
            alert_raise(
                actor=system,
                project_id=project.pk,
                alert_type="drift.detected",
                target=v2,
                payload={"model_version": v2.pk, "n": i},
            )
    ChainVerificationRun.objects.create(
        verified_at=now, actor_name="user:olga", ok=True, length=1000, head_hash="0" * 64
    )
    return {"officer": officer, "loaded_decisions": loaded_decisions}


def render(client, samples: int) -> tuple[list[float], list[int]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(2):
        assert client.get("/admin/").status_code == 200
    times, counts = [], []
    for _ in range(samples):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get("/admin/")
            times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
        counts.append(len(queries.captured_queries))
    return times, counts


def main() -> None:
    args = parse_args()
    bench_url = with_database(args.database_url, BENCH_DB)
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": bench_url,
            "DJANGO_SECRET_KEY": secrets.token_hex(32),
            "DJANGO_DEBUG": "false",
            "DJANGO_ALLOWED_HOSTS": "testserver",
            "SUBJECT_HMAC_KEY": secrets.token_hex(32),
            "SUBJECT_HMAC_KEY_ID": "k1",
            "LOG_LEVEL": "WARNING",
        }
    )
    recreate_database(args.database_url, BENCH_DB)
    migrate(dict(os.environ))
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.contrib import admin
    from django.test import Client

    started = time.perf_counter()
    loaded = load(args)
    vacuum_analyze(
        bench_url, ("governance_decision", "governance_reviewitem", "governance_review", "registry_auditevent")
    )
    print(
        f"load: {args.decisions:,} decisions in {loaded['loaded_decisions']:.1f} s, {args.reviews:,} closed reviews "
        f"+ 500 open, {args.requests} open erasure requests, 5 incidents, 200 alerts; "
        f"{time.perf_counter() - started:.1f} s with VACUUM ANALYZE"
    )

    client = Client()
    client.force_login(loaded["officer"])
    home_times, home_counts = render(client, args.samples)
    body = client.get("/admin/").content.decode()
    assert "What is due" in body and "ER-" in body and "incident 0" in body, "the home did not render its cards"
    home_template = admin.site.index_template
    admin.site.index_template = None  # Django's own index: the baseline
    try:
        plain_times, plain_counts = render(client, args.samples)
    finally:
        admin.site.index_template = home_template

    home_median, plain_median = statistics.median(home_times), statistics.median(plain_times)
    print(
        f"home:  median {home_median:.1f} ms, p95 {percentile(home_times, 95):.1f} ms, "
        f"{statistics.median(home_counts):.0f} statements a render (max {max(home_counts)})"
    )
    print(
        f"admin index without the home (baseline): median {plain_median:.1f} ms, "
        f"p95 {percentile(plain_times, 95):.1f} ms, {statistics.median(plain_counts):.0f} statements"
    )
    print(
        f"ratio home / baseline: {home_median / plain_median:.2f}; target median < {TARGET_MS} ms: "
        f"{'met' if home_median < TARGET_MS else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
