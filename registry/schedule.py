"""Celery beat's scheduler: the periodic tasks the apps registered (registry.jobs.register_periodic_task), kept
in beat's schedule file like any other (CELERY_BEAT_SCHEDULER names this class)."""

from __future__ import annotations

from celery.beat import PersistentScheduler


class RegisteredScheduler(PersistentScheduler):
    def setup_schedule(self) -> None:
        super().setup_schedule()
        from registry.jobs import beat_schedule  # Django is set up by now (the app's Django fix-up)

        self.merge_inplace(beat_schedule())
        self.install_default_entries(self.schedule)
        self.sync()
