"""Settings come from the environment and bad values fail loudly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_str

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(("raw", "expected"), [("true", True), ("0", False), ("Yes", True), ("off", False)])
def test_env_bool(monkeypatch, raw, expected):
    monkeypatch.setenv("X_FLAG", raw)
    assert env_bool("X_FLAG", not expected) is expected


def test_env_bool_rejects_other_words(monkeypatch):
    monkeypatch.setenv("X_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="X_FLAG"):
        env_bool("X_FLAG", False)


def test_env_int_rejects_words(monkeypatch):
    monkeypatch.setenv("X_NUM", "ten")
    with pytest.raises(ImproperlyConfigured, match="X_NUM must be an integer"):
        env_int("X_NUM", 1)


def test_secrets_can_come_from_files(monkeypatch, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("from-a-file\n")
    monkeypatch.delenv("X_SECRET", raising=False)
    monkeypatch.setenv("X_SECRET_FILE", str(secret))
    assert env_str("X_SECRET") == "from-a-file"


def _check(env: dict) -> subprocess.CompletedProcess:
    base = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "config.settings", "VAR_DIR": "/tmp/gov-settings"}
    return subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env={**base, **env}, capture_output=True, text=True
    )


def test_the_service_refuses_to_start_without_a_subject_key():
    result = _check({"DJANGO_SECRET_KEY": "x" * 50})
    assert result.returncode != 0
    assert "SUBJECT_HMAC_KEY must be set" in result.stderr


def test_production_needs_a_secret_key():
    result = _check({"SUBJECT_HMAC_KEY": "k" * 40})
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_sqlite_is_the_default_database():
    """Without DATABASE_URL the service starts (`manage.py check`) on the embedded SQLite file under VAR_DIR: the
    engine of the configured default database is SQLite's, not merely a name ending in .sqlite3."""
    env = {"SUBJECT_HMAC_KEY": "k" * 40, "DJANGO_DEBUG": "true"}
    result = _check(env)
    assert result.returncode == 0, result.stderr
    default = _settings_of(env, "DATABASES")["DATABASES"]["default"]
    assert default["ENGINE"] == "django.db.backends.sqlite3"
    assert default["NAME"] == "/tmp/gov-settings/governance.sqlite3"


def _settings_of(env: dict, *names: str) -> dict:
    code = "import json, django; django.setup(); from django.conf import settings; " + (
        f"print(json.dumps({{n: getattr(settings, n, None) for n in {list(names)!r}}}))"
    )
    base = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "config.settings", "VAR_DIR": "/tmp/gov-settings"}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**base, **env}, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    import json

    return json.loads(result.stdout)


PRODUCTION = {"SUBJECT_HMAC_KEY": "k" * 40, "DJANGO_SECRET_KEY": "s" * 50}
TRANSPORT = ("SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_HSTS_SECONDS", "SECURE_CONTENT_TYPE_NOSNIFF")


def test_production_cookies_are_secure_and_hsts_is_on():
    got = _settings_of(PRODUCTION, *TRANSPORT, "SECURE_PROXY_SSL_HEADER")
    assert got == {
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_CONTENT_TYPE_NOSNIFF": True,
        "SECURE_PROXY_SSL_HEADER": None,
    }
    assert _settings_of({**PRODUCTION, "DJANGO_SECURE_HSTS_SECONDS": "60"}, "SECURE_HSTS_SECONDS") == {
        "SECURE_HSTS_SECONDS": 60
    }
    proxied = _settings_of({**PRODUCTION, "DJANGO_SECURE_PROXY_SSL_HEADER": "true"}, "SECURE_PROXY_SSL_HEADER")
    assert proxied == {"SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"]}


def test_debug_keeps_plain_http_cookies():
    got = _settings_of({"SUBJECT_HMAC_KEY": "k" * 40, "DJANGO_DEBUG": "true"}, "SESSION_COOKIE_SECURE")
    assert got == {"SESSION_COOKIE_SECURE": False}


@pytest.mark.parametrize("raw", ["a year", "-1"])
def test_a_bad_hsts_value_fails_loudly(raw):
    result = _check({**PRODUCTION, "DJANGO_SECURE_HSTS_SECONDS": raw})
    assert result.returncode != 0
    assert "DJANGO_SECURE_HSTS_SECONDS" in result.stderr


def test_admin_login_is_throttled(db, django_user_model):
    from django.test import Client

    django_user_model.objects.create_superuser("root", "root@example.invalid", "the-right-password")
    client = Client()
    for attempt in range(5):
        response = client.post("/admin/login/", {"username": "root", "password": "guess", "next": "/admin/"})
        assert response.status_code == (200 if attempt < 4 else 429)  # the form again, then locked out
    locked = client.post("/admin/login/", {"username": "root", "password": "the-right-password", "next": "/admin/"})
    assert locked.status_code == 429  # locked out: even the right password is refused now
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("value", ["http://hooks.internal", "hooks.internal:8080", "hooks internal", "a/b"])
def test_webhook_allowed_hosts_must_name_hosts(value):
    result = _check({"SUBJECT_HMAC_KEY": "k" * 40, "DJANGO_DEBUG": "true", "WEBHOOK_ALLOWED_HOSTS": value})
    assert result.returncode != 0
    assert "WEBHOOK_ALLOWED_HOSTS" in result.stderr


def test_the_judge_token_cap_must_be_positive():
    result = _check({"SUBJECT_HMAC_KEY": "k" * 40, "DJANGO_DEBUG": "true", "LLM_JUDGE_MAX_TOKENS": "0"})
    assert "LLM_JUDGE_MAX_TOKENS must be at least 1" in result.stderr


@pytest.mark.parametrize("raw", ["Mars/Olympus", "../../etc/passwd"])
def test_a_deadline_zone_that_is_no_time_zone_fails_loudly(raw):
    result = _check({**PRODUCTION, "DEADLINE_TIME_ZONE": raw})
    assert result.returncode != 0
    assert "DEADLINE_TIME_ZONE" in result.stderr
