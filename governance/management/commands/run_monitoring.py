"""Scheduled monitoring for cron: for every production version, a drift report, a performance report
and a fairness audit (with the parameters of its latest audit), then the webhook retries."""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from governance.models import FairnessAudit
from governance.services.alerts import deliveries_run
from governance.services.drift import drift_report_run
from governance.services.fairness import fairness_audit_run
from governance.services.incidents import incident_clocks_check
from governance.services.performance import performance_report_run
from registry.actors import Actor
from registry.errors import ServiceError
from registry.models import ModelVersion, Stage


class Command(BaseCommand):
    help = (
        "For every production model version: a drift report over the last --drift-days, a performance report "
        "over the last --performance-days, a fairness audit like its latest one; then due webhook deliveries."
    )

    def add_arguments(self, parser):
        parser.add_argument("--project", help="only this project (slug)")
        parser.add_argument("--drift-days", type=int, default=7)
        parser.add_argument("--performance-days", type=int, default=30)

    def handle(self, *args, project: str | None, drift_days: int, performance_days: int, **options):
        actor, now = Actor.system(), timezone.now()
        versions = ModelVersion.objects.filter(stage=Stage.PRODUCTION).select_related("model", "project")
        if project:
            versions = versions.filter(project__slug=project)
        versions = list(versions.order_by("project__slug", "model__name", "version"))
        problems = 0
        for number, version in enumerate(versions, start=1):
            self.stdout.write(f"[{number}/{len(versions)}] {version.project.slug}/{version}")
            steps = [
                (
                    "drift",
                    lambda v=version: drift_report_run(
                        actor=actor, model_version=v, window_start=now - timedelta(days=drift_days), window_end=now
                    ),
                ),
                (
                    "performance",
                    lambda v=version: performance_report_run(
                        actor=actor,
                        model_version=v,
                        window_start=now - timedelta(days=performance_days),
                        window_end=now,
                        positive_label=_latest_label(v),
                    ),
                ),
            ]
            latest = FairnessAudit.objects.filter(model_version=version).order_by("-created_at", "-id").first()
            if latest is not None:
                steps.append(
                    (
                        "fairness",
                        lambda v=version, a=latest: fairness_audit_run(
                            actor=actor,
                            model_version=v,
                            sensitive_features=a.sensitive_features,
                            positive_label=a.positive_label,
                        ),
                    )
                )
            else:
                self.stdout.write("    fairness: skipped (no earlier audit says which attributes to audit)")
            for name, step in steps:
                try:
                    result = step()
                except ServiceError as exc:
                    self.stdout.write(f"    {name}: not run: {exc.message}")
                    continue
                flagged = (
                    getattr(result, "drifted", None)
                    or getattr(result, "degraded", None)
                    or (name == "fairness" and not result.passed)
                )
                problems += bool(flagged)
                self.stdout.write(f"    {name}: {result} {'ALERT' if flagged else 'ok'}")
        for incident in incident_clocks_check(actor=actor, now=now):
            self.stdout.write(f"{incident}: report due {incident.due_at:%Y-%m-%d %H:%M} UTC, not yet sent: ALERT")
            problems += 1
        delivered = deliveries_run()
        self.stdout.write(
            f"{len(versions)} production versions checked, {problems} alerts, "
            f"{len(delivered)} webhook deliveries attempted"
        )


def _latest_label(version: ModelVersion):
    latest = FairnessAudit.objects.filter(model_version=version).order_by("-created_at", "-id").first()
    return latest.positive_label if latest is not None else None
