"""Settings, all from environment variables (see README, "Configuration")."""

from __future__ import annotations

import re as _re
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DJANGO_DEBUG", False)

SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is false")
    SECRET_KEY = "insecure-development-key-only-for-debug"

# Pseudonymisation key for data subject ids: HMAC-SHA256(SUBJECT_HMAC_KEY, id).
# It must never change silently: SUBJECT_HMAC_KEY_ID is stored beside every key made.
SUBJECT_HMAC_KEY = env_str("SUBJECT_HMAC_KEY")
if not SUBJECT_HMAC_KEY:
    raise ImproperlyConfigured(
        "SUBJECT_HMAC_KEY must be set (a long random secret; `make run` writes one to var/local.env)"
    )
if len(SUBJECT_HMAC_KEY) < 32:
    raise ImproperlyConfigured("SUBJECT_HMAC_KEY must be at least 32 characters long")
SUBJECT_HMAC_KEY_ID = env_str("SUBJECT_HMAC_KEY_ID", "k1")

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI assets served locally: the docs page works offline
    "axes",  # failed admin logins are counted and locked out (django-axes)
    "registry",
    "governance",
    "llmops",
    "interop",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "registry.middleware.RequestIdMiddleware",
    "registry.middleware.ApiInputMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks
]

# Login throttling (django-axes): AXES_FAILURE_LIMIT failed logins of one username from one address lock that
# pair out for AXES_COOLOFF_MINUTES. The API authenticates by key (hashed lookup, nothing to guess cheaply).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_ENABLED = env_bool("AXES_ENABLED", True)

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASE_URL = env_str("DATABASE_URL")
if not DATABASE_URL:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL or f"sqlite:///{VAR_DIR / 'governance.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Writers take the write lock when their transaction begins and wait up to 20 s for it: with SQLite's default
    # (deferred) transactions, two requests at once (MLflow's autolog logs from a background thread while the
    # notebook uploads) can fail at once with "database is locked" instead of waiting their turn.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"transaction_mode": "IMMEDIATE", "timeout": 20})
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# Messages travel in a signed cookie, never the session table: the admin shows a new API key once
# through a message, and the raw key must not land in the database.
MESSAGE_STORAGE = "django.contrib.messages.storage.cookie.CookieStorage"

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
ARTIFACT_ROOT = Path(env_str("ARTIFACT_ROOT", str(VAR_DIR / "artifacts")))
# The largest artifact file one upload may store (MLflow's artifact proxy): larger is a 413.
ARTIFACT_MAX_BYTES = env_int("ARTIFACT_MAX_BYTES", 2 * 1024**3)
# The zone whose days the legal clocks count (governance/deadlines.py): a period ends at the end of its last day there.
DEADLINE_TIME_ZONE = env_str("DEADLINE_TIME_ZONE", "UTC")
try:
    ZoneInfo(DEADLINE_TIME_ZONE)
except (ZoneInfoNotFoundError, ValueError):
    raise ImproperlyConfigured(f"DEADLINE_TIME_ZONE: {DEADLINE_TIME_ZONE[:60]!r} is not a time zone name") from None

# Production transport security (when not DEBUG): cookies only over HTTPS, HSTS, no MIME sniffing. Behind a
# TLS-terminating proxy, DJANGO_SECURE_PROXY_SSL_HEADER=true trusts its X-Forwarded-Proto (opt-in: only when the
# proxy always sets it).
SECURE_CONTENT_TYPE_NOSNIFF = True
if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("DJANGO_SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("DJANGO_CSRF_COOKIE_SECURE", True)
    SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", False)
    if SECURE_HSTS_SECONDS < 0:
        raise ImproperlyConfigured("DJANGO_SECURE_HSTS_SECONDS must not be negative")
if env_bool("DJANGO_SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 64 * 1024 * 1024)

# OTLP/HTTP trace, log and metric exports (interop/otlp): the largest body accepted, counted after gzip
# decompression (the OTLP spec recommends 64 MiB; larger is a 413), and how long log-record messages wait for the
# span they belong to before they are deleted.
OTLP_MAX_BODY_BYTES = env_int("OTLP_MAX_BODY_BYTES", 64 * 1024 * 1024)
OTLP_PENDING_MESSAGES_HOURS = env_int("OTLP_PENDING_MESSAGES_HOURS", 24)
if OTLP_MAX_BODY_BYTES < 1 or OTLP_PENDING_MESSAGES_HOURS < 1:
    raise ImproperlyConfigured("OTLP_MAX_BODY_BYTES and OTLP_PENDING_MESSAGES_HOURS must be at least 1")

# LLM evaluations call an OpenAI-compatible provider when both are set, the local deterministic one otherwise.
LLM_PROVIDER_BASE_URL = env_str("LLM_PROVIDER_BASE_URL", "")
LLM_PROVIDER_API_KEY = env_str("LLM_PROVIDER_API_KEY", "")
LLM_PROVIDER_TIMEOUT = env_int("LLM_PROVIDER_TIMEOUT", 30)
# The llm_judge evaluator spends the operator's key: only these models (comma-separated; required once the HTTP
# provider is configured, any model may be named for the local provider) and at most this many tokens per reply.
LLM_JUDGE_MODELS = env_list("LLM_JUDGE_MODELS", [])
LLM_JUDGE_MAX_TOKENS = env_int("LLM_JUDGE_MAX_TOKENS", 256)
if LLM_JUDGE_MAX_TOKENS < 1:
    raise ImproperlyConfigured("LLM_JUDGE_MAX_TOKENS must be at least 1")

# Webhook hosts that may resolve to loopback or private addresses (comma-separated host names or IPs, no scheme
# or port): every other webhook must resolve to public addresses only.
WEBHOOK_ALLOWED_HOSTS = [host.lower().rstrip(".").strip("[]") for host in env_list("WEBHOOK_ALLOWED_HOSTS", [])]
for _host in WEBHOOK_ALLOWED_HOSTS:
    if not _re.fullmatch(r"[a-z0-9._-]+|\[?[0-9a-f:.]+\]?", _host) or "://" in _host:
        raise ImproperlyConfigured(f"WEBHOOK_ALLOWED_HOSTS: {_host!r} is not a host name or IP address")

# The gate: a deployment may start at most this many seconds before now (clocks of the caller and the service
# differ a little); a deployment that is not shadow needs a version in production that passes the gate again,
# except in these environments, which serve no real decisions (every other name counts as production).
DEPLOYMENT_CLOCK_SKEW_SECONDS = env_int("DEPLOYMENT_CLOCK_SKEW_SECONDS", 300)
PREPRODUCTION_ENVIRONMENTS = env_list("PREPRODUCTION_ENVIRONMENTS", ["staging", "development", "test"])

# Background jobs (registry/jobs.py, README "Background jobs"). With CELERY_BROKER_URL (Redis beside PostgreSQL:
# redis://127.0.0.1:6379/0) a job is sent to Celery workers and the request answers 202 at once; without it
# (`make run`, SQLite) the job runs in process before the 202 answer, already finished: nothing else to start.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "") or ""
JOBS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_QUEUE", "governance")
# A message is acknowledged only once its task returned, and a task whose worker process died is given back to
# the broker: a job is never lost with its worker (its work is one transaction, so nothing is half-written).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1  # a worker holds only the message it works on
CELERY_TASK_IGNORE_RESULT = True  # the job row is the result: no result backend
CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # our LOGGING (with the subject-id filter) stays in charge
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Redis gives a message that was delivered and never acknowledged (its worker killed) to another worker after
# this many seconds; keep it above the longest job (a job still running when its message comes back is left to
# its worker: registry.services.jobs.job_run checks the heartbeat).
CELERY_VISIBILITY_TIMEOUT = env_int("CELERY_VISIBILITY_TIMEOUT", 3600)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    # look for such messages every few seconds when the timeout is short (tests), every 10 s * 10 otherwise
    "unacked_restore_interval": 1 if CELERY_VISIBILITY_TIMEOUT < 60 else 10,
    "unacked_restore_throttle": 1 if CELERY_VISIBILITY_TIMEOUT < 60 else 10,
}
# beat's schedule is what the apps registered (registry.jobs.register_periodic_task), kept in VAR_DIR
CELERY_BEAT_SCHEDULER = "registry.schedule:RegisteredScheduler"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# A running job's worker writes its heartbeat (and progress) every JOBS_HEARTBEAT_SECONDS; a running job whose
# heartbeat is older than JOBS_STALE_SECONDS lost its worker and is taken over by the next delivery or a retry.
# A job that failed on an unexpected error (not a refusal of its service) is tried up to JOBS_MAX_ATTEMPTS times.
JOBS_HEARTBEAT_SECONDS = env_int("JOBS_HEARTBEAT_SECONDS", 10)
JOBS_STALE_SECONDS = env_int("JOBS_STALE_SECONDS", 60)
JOBS_MAX_ATTEMPTS = env_int("JOBS_MAX_ATTEMPTS", 3)
if JOBS_HEARTBEAT_SECONDS < 1 or JOBS_STALE_SECONDS < 2 * JOBS_HEARTBEAT_SECONDS or JOBS_MAX_ATTEMPTS < 1:
    raise ImproperlyConfigured(
        "JOBS_HEARTBEAT_SECONDS must be at least 1, JOBS_STALE_SECONDS at least twice it, JOBS_MAX_ATTEMPTS at least 1"
    )
if CELERY_VISIBILITY_TIMEOUT < 1:
    raise ImproperlyConfigured("CELERY_VISIBILITY_TIMEOUT must be at least 1")
# What beat runs (governance/apps.py): the monitoring run (drift, performance and fairness of every production
# version, the incident clocks) on a crontab of five fields in UTC (minute hour day-of-month month day-of-week),
# and the due webhook deliveries every WEBHOOK_DELIVERY_SECONDS.
MONITORING_CRONTAB = env_str("MONITORING_CRONTAB", "15 2 * * *")
if len(MONITORING_CRONTAB.split()) != 5:
    raise ImproperlyConfigured(f"MONITORING_CRONTAB must have five fields, not {MONITORING_CRONTAB!r}")
MONITORING_DRIFT_DAYS = env_int("MONITORING_DRIFT_DAYS", 7)
MONITORING_PERFORMANCE_DAYS = env_int("MONITORING_PERFORMANCE_DAYS", 30)
WEBHOOK_DELIVERY_SECONDS = env_int("WEBHOOK_DELIVERY_SECONDS", 10)
if MONITORING_DRIFT_DAYS < 1 or MONITORING_PERFORMANCE_DAYS < 1 or WEBHOOK_DELIVERY_SECONDS < 1:
    raise ImproperlyConfigured(
        "MONITORING_DRIFT_DAYS, MONITORING_PERFORMANCE_DAYS and WEBHOOK_DELIVERY_SECONDS must be at least 1"
    )

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "registry.auth.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["registry.permissions.RolePermission"],
    # the input gate (registry/inputs.py): every body is checked once, whatever the endpoint
    "DEFAULT_PARSER_CLASSES": [
        "registry.inputs.CheckedJSONParser",
        "registry.inputs.CheckedFormParser",
        "registry.inputs.CheckedMultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "registry.api.pagination.StandardPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "registry.api.errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "UNAUTHENTICATED_USER": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "ML governance and audit service",
    "DESCRIPTION": (
        "Lineage from data version to training run, model version, deployment and each decision; "
        "pseudonymous data subjects; bulk decision ingest."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "StageEnum": "registry.models.Stage",
        "BasisEnum": "governance.models.Basis",
        "LLMCallStatusEnum": "llmops.models.LLMCall.Status",
        "EvaluationRunStatusEnum": "llmops.models.EvaluationRun.Status",
        "PromptKindEnum": "llmops.models.PromptVersion.Kind",
        "CallerKindEnum": [("api_key", "api_key"), ("user", "user")],
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_subject_ids": {"()": "config.logging.RedactSubjectIds"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["redact_subject_ids"]}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # runserver's request lines carry the query string; route them through the same filter
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "gunicorn.access": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
