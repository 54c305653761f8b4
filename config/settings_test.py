"""Test settings: fixed test secrets, PostgreSQL on 127.0.0.1:5432 unless DATABASE_URL says otherwise."""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_DEBUG", "false")
os.environ.setdefault("DJANGO_SECRET_KEY", "test-secret-key-not-for-production-0123456789")
os.environ.setdefault("SUBJECT_HMAC_KEY", "test-subject-hmac-key-0123456789abcdef0123456789")
# the browser tests drive the admin over plain HTTP (live_server): cookies may not be Secure-only there;
# tests/test_settings.py checks the production defaults in a fresh process
os.environ.setdefault("DJANGO_SESSION_COOKIE_SECURE", "false")
os.environ.setdefault("DJANGO_CSRF_COOKIE_SECURE", "false")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")

from config.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Jobs run in process in tests, whatever the developer's environment says; the real-worker tests
# (tests/registry/test_jobs_worker.py) give their worker and themselves a broker of their own.
CELERY_BROKER_URL = os.environ.get("TEST_CELERY_BROKER_URL", "")
JOBS_EAGER = not CELERY_BROKER_URL
