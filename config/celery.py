"""The Celery application: `celery -A config worker` and `celery -A config beat` (README, "Background jobs").

Its settings are Django's, those named CELERY_* (config/settings.py). Without CELERY_BROKER_URL (`make run`, the
embedded SQLite default, the test suite) nothing is sent to a broker: registry.services.jobs runs each job in
process before the request answers, so no worker or beat is needed. Tasks are found in each app's `tasks.py`.
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("governance")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
