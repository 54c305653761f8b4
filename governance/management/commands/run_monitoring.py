"""Scheduled monitoring for cron users (with Celery, beat runs it: README, "Background jobs"): for every
production version, a drift report, a performance report and a fairness audit (with the parameters of its latest
audit), each a background job (governance.services.monitoring.monitoring_run); then the incident clocks and the
webhook retries. Without a broker the reports run here, before it prints them; with one, workers run them."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils import timezone

from governance.services.alerts import deliveries_run
from governance.services.monitoring import monitoring_run
from registry.actors import Actor
from registry.models import BackgroundJob
from registry.selectors import job_result_record


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
        now = timezone.now()
        summary = monitoring_run(
            actor=Actor.system(),
            run_key=f"command@{now.isoformat()}",
            now=now,
            project=project,
            drift_days=drift_days,
            performance_days=performance_days,
        )
        problems = 0
        for number, version in enumerate(summary.versions, start=1):
            self.stdout.write(f"[{number}/{len(summary.versions)}] {version.project.slug}/{version}")
            for step in (s for s in summary.steps if s.version.pk == version.pk):
                if step.job is None:
                    self.stdout.write(f"    {step.report}: not run: {step.skipped}")
                    continue
                step.job.refresh_from_db()
                if step.job.state == BackgroundJob.State.FAILED:
                    self.stdout.write(f"    {step.report}: failed (job {step.job.pk}): {step.job.error}")
                    continue
                result = job_result_record(step.job)
                if result is None:
                    self.stdout.write(f"    {step.report}: job {step.job.pk} {step.job.state}")
                    continue
                flagged = (
                    getattr(result, "drifted", None)
                    or getattr(result, "degraded", None)
                    or (step.report == "fairness" and not result.passed)
                )
                problems += bool(flagged)
                self.stdout.write(f"    {step.report}: {result} {'ALERT' if flagged else 'ok'}")
        for incident in summary.late_incidents:
            self.stdout.write(f"{incident}: report due {incident.due_at:%Y-%m-%d %H:%M} UTC, not yet sent: ALERT")
            problems += 1
        delivered = deliveries_run()
        self.stdout.write(
            f"{len(summary.versions)} production versions checked, {problems} alerts, "
            f"{len(delivered)} webhook deliveries attempted"
        )
