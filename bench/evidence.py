"""Evidence on request on a large installation: a subject access report, and a model version's exports.

    .venv/bin/python bench/evidence.py [--decisions 1000000] [--subjects 100000] [--samples 20]

1. Drops and recreates the database `governance_bench_evidence` on the server of --database-url and migrates it;
   this process then runs `django.setup()` with the service's settings from the environment.
2. Loads one project with a high-risk model in production, --decisions decisions over 12 months for --subjects
   data subjects (set-based INSERT ... SELECT generate_series), of which the person asking has 10, each with an
   explanation (attributions and a reason code), two reviewed and one overridden; a data version indexing
   every subject; a passing fairness audit. Then VACUUM ANALYZE.
3. Through Django's test client (no HTTP server), as a compliance officer's key, 2 warm-ups then --samples timed
   requests of each:
   - the subject access report, `GET /api/v1/access-requests/{id}/report/`, against the baseline of the same
     person's decisions through the decision log's own filter, `GET /api/v1/decisions/?subject_id=` (one page);
   - the version's CycloneDX ML-BOM and its model card, against the baseline of the version's own record,
     `GET /api/v1/model-versions/{id}/`.

   - the version's technical documentation pack, generated and stored (`POST /api/v1/model-versions/{id}/
     evidence-packs/`, each sample a new pack listing the changes since the last), against the same baseline;
   - the model's pack across its versions (`POST /api/v1/models/{id}/evidence-packs/`; the model has the production
     version with its million decisions and an archived predecessor), against the same baseline.

Prints p50/p99 of each, the statements per request, the ratios, and the targets (access report p50 under 20 ms,
pack generation under 2 s).
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
BENCH_DB = "governance_bench_evidence"
TARGET_MS = 20
PACK_TARGET_MS = 2000
PERSON = "customer-000042"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--database-url", default=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1/postgres")
    )
    parser.add_argument("--decisions", type=int, default=1_000_000)
    parser.add_argument("--subjects", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=20)
    return parser.parse_args()


def load(args) -> dict:
    from datetime import timedelta

    from django.db import connection
    from django.utils import timezone

    from governance.models import Decision, FairnessAudit, Policy, ReviewItem
    from governance.services.access import access_request_receive
    from registry import partitions, services
    from registry.actors import Actor
    from registry.models import Model, Stage
    from registry.partitions import month_of
    from registry.subjects import subject_key
    from tests import factories as f

    system, now = Actor.system(), timezone.now()
    project = services.project_create(actor=system, slug="bank", name="Bank")
    Policy.objects.create(project=project, reason_codes={"R01": "Income too low", "R02": "Recent missed payments"})
    model = f.ModelFactory(project=project, name="credit", risk_tier=Model.RiskTier.HIGH)
    dataset = f.DatasetFactory(project=project, name="applications", contains_personal_data=True)
    train = f.DataVersionFactory(dataset=dataset, version="train")
    run = f.RunFactory(project=project, environment={"python": "3.11.7", "scikit-learn": "1.9.1", "numpy": "2.4.6"})
    run.input_links.create(data_version=train, role="train")
    f.ModelVersionFactory(
        model=model, run=run, version=1, stage=Stage.ARCHIVED, intended_use="credit", limitations="v1"
    )
    version = f.ModelVersionFactory(
        model=model, run=run, version=2, stage=Stage.PRODUCTION, intended_use="credit", limitations="bench"
    )
    FairnessAudit.objects.create(
        project=project,
        model_version=version,
        sensitive_features=["sex"],
        positive_label=1,
        row_count=10_000,
        overall={},
        by_group=[{"group": {"sex": "F"}, "count": 5000, "selection_rate": 0.4}],
        disparities={"demographic_parity_ratio": 0.9},
        policy={},
        passed=True,
    )
    # a year of decisions back from now: each month's partition, as ingest makes sure of (registry/partitions.py)
    partitions.ensure("governance_decision", {(project.pk, month_of(now - timedelta(days=day))) for day in range(366)})
    keys = [subject_key(f"customer-{i:06d}") for i in range(args.subjects)]
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO governance_decision (project_id, model_version_id, request_id, subject_key, subject_key_id,
                features, sensitive, prediction, score, occurred_at, created_at, commitment, skeleton_commitment)
            SELECT %s, %s, 'req-' || g, (%s::text[])[1 + g %% %s], 'k1', jsonb_build_object('income', g %% 5000),
                jsonb_build_object('sex', CASE WHEN g %% 2 = 0 THEN 'F' ELSE 'M' END), to_jsonb(g %% 3 = 0),
                (g %% 1000) / 1000.0, %s - (g %% 365) * interval '1 day', %s, md5(g::text), ''
            FROM generate_series(1, %s) AS g
            """,
            [project.pk, version.pk, keys, len(keys), now, now, args.decisions],
        )
        cursor.execute(
            "INSERT INTO registry_subjectindex (data_version_id, subject_key, key_id) "
            "SELECT %s, unnest(%s::text[]), %s",
            [train.pk, keys, "k1"],
        )
    loaded_decisions = time.perf_counter() - started
    mine = Decision.objects.filter(subject_key=subject_key(PERSON))
    mine.update(
        explanation={
            "attributions": {"income": -0.21, "missed_payments": -0.09, "age": 0.02},
            "base_value": 0.55,
            "library": "shap",
            "method": "permutation",
            "reason_codes": ["R01"],
        }
    )
    for position, decision in enumerate(mine.order_by("id")[:2]):
        ReviewItem.objects.create(
            project=project,
            model_version=version,
            request_id=decision.request_id,
            decision_id=decision.pk,
            decision_occurred_at=decision.occurred_at,
            status=ReviewItem.Status.OVERRIDDEN if position == 0 else ReviewItem.Status.CONFIRMED,
            final_decision=True if position == 0 else None,
            entered_at=now - timedelta(days=1),
        )
    request = access_request_receive(actor=system, project=project, subject_id=PERSON, reference="SAR-1")
    _, key = services.api_key_create(actor=system, project=project, role="compliance_officer", name="bench")
    return {
        "key": key,
        "request": request,
        "version": version,
        "mine": mine.count(),
        "loaded_decisions": loaded_decisions,
    }


def timed(client, path: str, samples: int, headers: dict, *, method: str = "get") -> tuple[list[float], list[int]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    call, expected = getattr(client, method), 200 if method == "get" else 201
    for _ in range(2):
        response = call(path, **headers)
        assert response.status_code == expected, (path, response.status_code, response.content[:300])
    times, counts = [], []
    for _ in range(samples):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = call(path, **headers)
            times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == expected
        counts.append(len(queries.captured_queries))
    return times, counts


def line(name: str, times: list[float], counts: list[int]) -> float:
    p50 = statistics.median(times)
    print(f"{name}: p50 {p50:.1f} ms, p99 {percentile(times, 99):.1f} ms, {statistics.median(counts):.0f} statements")
    return p50


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
    from django.test import Client

    started = time.perf_counter()
    loaded = load(args)
    vacuum_analyze(bench_url, ("governance_decision", "registry_subjectindex", "governance_reviewitem"))
    print(
        f"load: {args.decisions:,} decisions of {args.subjects:,} subjects in {loaded['loaded_decisions']:.1f} s "
        f"(the person asking has {loaded['mine']}); {time.perf_counter() - started:.1f} s with VACUUM ANALYZE"
    )
    client = Client()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {loaded['key']}"}
    request, version = loaded["request"], loaded["version"]
    report = client.get(f"/api/v1/access-requests/{request.pk}/report/", **headers).json()
    assert report["decisions"]["count"] == loaded["mine"] and report["decisions"]["items"][0]["main_factors"]

    access = line(
        "subject access report", *timed(client, f"/api/v1/access-requests/{request.pk}/report/", args.samples, headers)
    )
    baseline = line(
        "their decisions through the log's filter (baseline)",
        *timed(client, f"/api/v1/decisions/?subject_id={PERSON}", args.samples, headers),
    )
    bom = line("ML-BOM export", *timed(client, f"/api/v1/model-versions/{version.pk}/bom/", args.samples, headers))
    card = line(
        "model card export", *timed(client, f"/api/v1/model-versions/{version.pk}/model-card/", args.samples, headers)
    )
    pack = line(
        "documentation pack generated and stored",
        *timed(client, f"/api/v1/model-versions/{version.pk}/evidence-packs/", args.samples, headers, method="post"),
    )
    model_pack = line(
        "model pack across versions generated and stored",
        *timed(client, f"/api/v1/models/{version.model_id}/evidence-packs/", args.samples, headers, method="post"),
    )
    record = line(
        "the version's own record (baseline)",
        *timed(client, f"/api/v1/model-versions/{version.pk}/", args.samples, headers),
    )
    print(
        f"ratios: access report / decisions filter {access / baseline:.2f}; ML-BOM / record {bom / record:.2f}; "
        f"model card / record {card / record:.2f}; pack / record {pack / record:.2f}; "
        f"model pack / record {model_pack / record:.2f}"
    )
    print(f"target access report p50 < {TARGET_MS} ms: {'met' if access < TARGET_MS else 'NOT met'}")
    print(f"target pack generation p50 < {PACK_TARGET_MS} ms: {'met' if pack < PACK_TARGET_MS else 'NOT met'}")
    print(f"model pack p50 < {PACK_TARGET_MS} ms: {'met' if model_pack < PACK_TARGET_MS else 'NOT met'}")


if __name__ == "__main__":
    main()
