"""What beat runs: the registered periodic tasks reach beat's schedule; the monitoring run is a periodic job that
queues each production version's reports as jobs of their own, once; webhook deliveries are a task of their own.
The tasks are called as a worker calls them (their functions, jobs in process)."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest
from celery.schedules import crontab

from config.celery import app as celery_app
from governance.models import DriftReport, FairnessAudit, PerformanceReport, WebhookDelivery
from governance.services.fairness import fairness_audit_run
from governance.services.monitoring import MONITORING_RUN, monitoring_run
from governance.tasks import deliver_webhooks
from registry.actors import Actor
from registry.jobs import beat_schedule, register_periodic_task
from registry.models import BackgroundJob, DataVersion, ModelVersion
from registry.profiles import dataframe_profile
from registry.schedule import RegisteredScheduler
from registry.tasks import queue_job
from tests.celery_processes import wait_for


def test_beat_schedules_what_the_apps_registered(tmp_path):
    import registry.tasks  # noqa: F401 - a worker imports every app's tasks (autodiscovery)

    schedule = beat_schedule()
    assert schedule["recover stale jobs"] == {
        "task": "registry.recover_jobs",
        "schedule": timedelta(minutes=1),
        "kwargs": {},
    }
    assert schedule["webhook deliveries"]["task"] == "governance.deliver_webhooks"
    assert schedule["webhook deliveries"]["schedule"] == timedelta(seconds=10)
    monitoring = schedule["monitoring"]
    assert (monitoring["task"], monitoring["kwargs"]["kind"]) == ("registry.queue_job", MONITORING_RUN)
    assert monitoring["schedule"] == crontab(minute="15", hour="2")
    for entry in schedule.values():
        assert entry["task"] in celery_app.tasks, entry["task"]

    # the hook another app uses: a task of its own on a schedule of its own, read by beat
    register_periodic_task("test sweep", task="registry.recover_jobs", schedule=crontab(minute=5, hour=3))
    try:
        scheduler = RegisteredScheduler(app=celery_app, schedule_filename=str(tmp_path / "beat"))
        try:
            assert {"recover stale jobs", "webhook deliveries", "monitoring", "test sweep"} <= set(scheduler.schedule)
            assert scheduler.schedule["test sweep"].task == "registry.recover_jobs"
        finally:
            scheduler.close()
    finally:
        from registry import jobs

        jobs._periodic.pop("test sweep")


@pytest.fixture
def production(failing_audit_setup):
    """A production version with decisions (features, outcomes, sex), a training profile, a validation accuracy
    and an earlier fairness audit: everything the monitoring run reports on."""
    chain = failing_audit_setup
    ModelVersion.objects.filter(pk=chain.version.pk).update(stage="production", metrics={"accuracy": 0.8})
    DataVersion.objects.filter(pk=chain.train.pk).update(
        profile=dataframe_profile(pd.DataFrame({"age": [20, 30, 40, 50, 60] * 10}))
    )
    chain.version.refresh_from_db()
    fairness_audit_run(actor=Actor.system(), model_version=chain.version, sensitive_features=["sex"], positive_label=1)
    return chain


def test_the_monitoring_run_queues_each_report_as_its_own_job_once(production, make_client):
    everything = {"drift_days": 3650, "performance_days": 3650}  # the factories' decisions are from early 2026
    job_id = queue_job.run(kind=MONITORING_RUN, input=everything, name="monitoring")  # what beat sends
    run = BackgroundJob.objects.get(pk=job_id)
    assert (run.state, run.project_id, run.requested_by) == ("succeeded", None, "system")
    assert run.idempotency_key.startswith("monitoring@")
    reports = BackgroundJob.objects.exclude(pk=job_id).order_by("kind")
    assert [(j.kind, j.state) for j in reports] == [
        ("governance.drift_report", "succeeded"),
        ("governance.fairness_audit", "succeeded"),
        ("governance.performance_report", "succeeded"),
    ]
    version = production.version.pk
    assert {j.idempotency_key for j in reports} == {
        f"monitoring:{job_id}:{version}:{report}" for report in ("drift", "performance", "fairness")
    }
    assert (DriftReport.objects.count(), PerformanceReport.objects.count(), FairnessAudit.objects.count()) == (1, 1, 2)

    # beat's tick sent twice, or the run taken over and run again: nothing is queued twice
    assert queue_job.run(kind=MONITORING_RUN, input=everything, name="monitoring") == job_id
    again = monitoring_run(
        actor=Actor.system(), run_key=str(job_id), now=run.created_at, drift_days=3650, performance_days=3650
    )
    assert {step.job.pk for step in again.steps} == {j.pk for j in reports}
    assert BackgroundJob.objects.count() == 4 and FairnessAudit.objects.count() == 2

    # the project's people see its reports' jobs; the run across projects is for superusers
    seen = make_client("risk_analyst", production.project).get("/api/v1/jobs/").json()["results"]
    assert sorted(j["kind"] for j in seen) == [j.kind for j in reports]
    assert all(j["project"] == "acme" for j in seen)
    seen = make_client("data_scientist", production.project).get("/api/v1/jobs/").json()["results"]
    assert sorted(j["kind"] for j in seen) == ["governance.drift_report", "governance.performance_report"]


@pytest.mark.django_db(transaction=True)
def test_beats_webhook_task_sends_the_due_deliveries(failing_audit_setup, receiver, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    from governance.services.alerts import webhook_create

    hook = receiver()
    webhook_create(
        actor=Actor.system(), project=failing_audit_setup.project, url=hook.url, events=["fairness.audit_failed"]
    )
    fairness_audit_run(
        actor=Actor.system(), model_version=failing_audit_setup.version, sensitive_features=["sex"], positive_label=1
    )
    assert WebhookDelivery.objects.get().status == "pending"
    assert deliver_webhooks.run() == 1
    assert len(hook.received) == 1 and WebhookDelivery.objects.get().status == "succeeded"
    assert deliver_webhooks.run() == 0  # nothing due twice


@pytest.mark.django_db(transaction=True)
def test_a_real_beat_sends_the_webhook_deliveries_to_a_real_worker(
    failing_audit_setup, receiver, workers, control, settings
):
    """`celery beat` (the registered schedule, read through RegisteredScheduler) and `celery worker` processes on
    Redis: an alert queued here reaches its webhook within a few ticks, with nobody calling deliveries_run."""
    from governance.services.alerts import webhook_create

    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    hook = receiver()
    webhook_create(
        actor=Actor.system(), project=failing_audit_setup.project, url=hook.url, events=["fairness.audit_failed"]
    )
    fairness_audit_run(
        actor=Actor.system(), model_version=failing_audit_setup.version, sensitive_features=["sex"], positive_label=1
    )
    assert WebhookDelivery.objects.get().status == "pending"
    workers(WEBHOOK_ALLOWED_HOSTS="127.0.0.1")
    workers("beat", WEBHOOK_DELIVERY_SECONDS="1")
    wait_for(lambda: hook.received, timeout=60, what="beat's delivery tick", control=control)
    delivered = wait_for(
        lambda: (d := WebhookDelivery.objects.get()).status == "succeeded" and d, what="the delivery", control=control
    )
    assert (delivered.attempts, delivered.last_status_code, len(hook.received)) == (1, 200, 1)
