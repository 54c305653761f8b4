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
    result = _check({"SUBJECT_HMAC_KEY": "k" * 40, "DJANGO_DEBUG": "true"})
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("value", ["http://hooks.internal", "hooks.internal:8080", "hooks internal", "a/b"])
def test_webhook_allowed_hosts_must_name_hosts(value):
    result = _check({"SUBJECT_HMAC_KEY": "k" * 40, "DJANGO_DEBUG": "true", "WEBHOOK_ALLOWED_HOSTS": value})
    assert result.returncode != 0
    assert "WEBHOOK_ALLOWED_HOSTS" in result.stderr


def test_the_judge_token_cap_must_be_positive():
    result = _check({"SUBJECT_HMAC_KEY": "k" * 40, "DJANGO_DEBUG": "true", "LLM_JUDGE_MAX_TOKENS": "0"})
    assert "LLM_JUDGE_MAX_TOKENS must be at least 1" in result.stderr
