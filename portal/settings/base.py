"""Settings shared by every mode, read from the environment (django-environ).

Embedded defaults (SQLite, inline Celery) exist so that `make run` works on a bare
machine; production.py removes every insecure default.
"""

from __future__ import annotations

from pathlib import Path

import environ
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()


def env_secret(name: str, **kwargs: object) -> str:
    """Read NAME, or the file named by NAME_FILE (Docker secrets)."""
    file_name = env.str(f"{name}_FILE", default="")
    if file_name:
        return Path(file_name).read_text(encoding="utf-8").strip()
    return env.str(name, **kwargs)


DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env_secret("DJANGO_SECRET_KEY", default="")
ALLOWED_HOSTS: list[str] = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS: list[str] = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "django_htmx",
    "portal.accounts",
    "portal.ops",
    "portal.enterprises",
    "portal.notifications",
    "portal.entitlements",
    "portal.applications",
    "matching",
    "policies",
    "frontend",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"
ASGI_APPLICATION = "portal.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

# Database: SQLite file by default; DATABASE_URL=postgres://… selects PostgreSQL (psycopg 3).
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False  # services own their transactions
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DJANGO_CONN_MAX_AGE", default=0))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("DJANGO_MEDIA_ROOT", default=str(BASE_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Redis: broker for Celery and the shared cache. Unset means embedded mode.
REDIS_URL: str = env.str("REDIS_URL", default="")

if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Celery. Without REDIS_URL tasks run inline in the calling process (task_always_eager);
# portal/celery.py logs one line saying so.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=30 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=25 * 60)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing must not hang a web request while the broker is down: give up quickly,
# the outbox sweep (notifications) re-sends later.
CELERY_BROKER_TRANSPORT_OPTIONS = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    # Re-enqueues outbox rows left pending (broker outage, lost message) or stuck in "sending" (worker died).
    "notifications.sweep_outbox": {"task": "notifications.sweep_outbox", "schedule": 60.0},
    # Dates move (qualifications expire, enterprises age): re-decide everything once a night.
    "matching.nightly": {"task": "matching.nightly", "schedule": crontab(hour=2, minute=30)},
    # Decisions with their reasons, entitlements on a current decision, nothing payable twice: counted
    # after the night's re-match (portal.ops.invariants), the latest shown on the staff dashboard.
    "ops.check_invariants": {"task": "ops.check_invariants", "schedule": crontab(hour=4, minute=30)},
    # 申报 deadlines and expiring qualifications: reminders, once a day.
    "entitlements.reminders": {"task": "entitlements.reminders", "schedule": crontab(hour=8, minute=0)},
    # Re-sends match runs whose task was lost (broker down when requested, worker died).
    "matching.sweep_runs": {"task": "matching.sweep_runs", "schedule": 300.0},
    # Likewise for previews before publishing and console data uploads.
    "policies.sweep_previews": {"task": "policies.sweep_previews", "schedule": 120.0},
    "enterprises.sweep_feed_uploads": {"task": "enterprises.sweep_feed_uploads", "schedule": 120.0},
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.BasicAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "portal.api.pagination.PagePagination",
    "PAGE_SIZE": 20,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "portal.api.exceptions.api_exception_handler",
    "DEFAULT_THROTTLE_RATES": {"anon": env.str("DJANGO_ANON_THROTTLE", default="60/min")},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "惠企通 Huiqi API",
    "DESCRIPTION": "苏州高新区惠企政策清单、精准推送与免申即享。",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from the vendored sidecar package: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Name shared choice sets explicitly where field names collide across apps ("status", "kind", …).
    "ENUM_NAME_OVERRIDES": {
        "PolicyVersionStatusEnum": "policies.models.PolicyVersion.Status",
        "FactSourceEnum": "portal.enterprises.models.SOURCE_CHOICES",
        "SiteKindEnum": "portal.enterprises.models.Site.Kind",
        "QualificationKindEnum": "portal.enterprises.models.QualificationKind",
        "ApplicationStatusEnum": "portal.applications.models.Application.Status",
    },
}

EMAIL_BACKEND = env.str("DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DJANGO_DEFAULT_FROM_EMAIL", default="huiqi@localhost")
EMAIL_FILE_PATH = env.str("DJANGO_EMAIL_FILE_PATH", default="")  # for the file-based backend
EMAIL_TIMEOUT = env.float("DJANGO_EMAIL_TIMEOUT", default=10.0)  # seconds; SMTP otherwise waits forever

# Notifications (portal/notifications): the delivery outbox. Environment variables carry the same names.
NOTIFICATIONS_MAX_ATTEMPTS = env.int("NOTIFICATIONS_MAX_ATTEMPTS", default=5)  # then the row is dead
NOTIFICATIONS_RETRY_BASE_DELAY = env.float("NOTIFICATIONS_RETRY_BASE_DELAY", default=60.0)  # s, doubles per attempt
NOTIFICATIONS_RETRY_MAX_DELAY = env.float("NOTIFICATIONS_RETRY_MAX_DELAY", default=3600.0)
# A row "sending" for longer than this lost its worker; the sweep puts it back. Workers renew their claim
# after a third of it, so it only has to exceed the time of one send (SMTP/webhook timeouts below).
NOTIFICATIONS_SENDING_TIMEOUT = env.float("NOTIFICATIONS_SENDING_TIMEOUT", default=600.0)
# Rows handed to the broker longer ago than this and still pending are handed over again.
NOTIFICATIONS_REQUEUE_AFTER = env.float("NOTIFICATIONS_REQUEUE_AFTER", default=600.0)
NOTIFICATIONS_BATCH_SIZE = env.int("NOTIFICATIONS_BATCH_SIZE", default=1000)  # delivery ids per task
# Rows claimed per UPDATE (one commit each). A killed worker's claimed-but-unsent rows wait for the sweep.
NOTIFICATIONS_CLAIM_CHUNK = env.int("NOTIFICATIONS_CLAIM_CHUNK", default=1000)
# "Sent" marks are written after a send once this many seconds passed since the last write (or every
# NOTIFICATIONS_MARK_FLUSH_MAX sends): the only window where a killed worker can cause a second send.
# Each write is a commit; at fan-out speed the count bound applies, a slow channel is marked per send.
NOTIFICATIONS_MARK_FLUSH_SECONDS = env.float("NOTIFICATIONS_MARK_FLUSH_SECONDS", default=0.05)
NOTIFICATIONS_MARK_FLUSH_MAX = env.int("NOTIFICATIONS_MARK_FLUSH_MAX", default=200)
NOTIFICATIONS_SWEEP_LIMIT = env.int("NOTIFICATIONS_SWEEP_LIMIT", default=100_000)  # rows re-enqueued per sweep
NOTIFICATIONS_EMAIL_BACKEND = env.str("NOTIFICATIONS_EMAIL_BACKEND", default="")  # "" means EMAIL_BACKEND
NOTIFICATIONS_SMS_BACKEND = env.str("NOTIFICATIONS_SMS_BACKEND", default="portal.notifications.sms.DatabaseSmsBackend")
NOTIFICATIONS_WEBHOOK_TIMEOUT = env.float("NOTIFICATIONS_WEBHOOK_TIMEOUT", default=5.0)
# Webhooks go only to public addresses (SSRF); tests and a private deployment's own receivers may allow more.
NOTIFICATIONS_WEBHOOK_ALLOW_PRIVATE = env.bool("NOTIFICATIONS_WEBHOOK_ALLOW_PRIVATE", default=False)
NOTIFICATIONS_SITE_URL = env.str("NOTIFICATIONS_SITE_URL", default="http://127.0.0.1:8000")  # links in e-mail/SMS

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Health: /healthz treats the worker as required only when tasks are not inline.
HEALTH_WORKER_TIMEOUT = env.float("HEALTH_WORKER_TIMEOUT", default=1.0)

# Push reminders: days before an application window closes, and before a qualification that
# matches rest on expires.
NOTIFY_APPLY_DEADLINE_DAYS = env.int("NOTIFY_APPLY_DEADLINE_DAYS", default=3)
NOTIFY_QUALIFICATION_EXPIRY_DAYS = env.int("NOTIFY_QUALIFICATION_EXPIRY_DAYS", default=90)

# Matching: enterprises per chunk (one transaction, one progress step) of a district-wide run.
MATCH_CHUNK_SIZE = env.int("MATCH_CHUNK_SIZE", default=250_000)
# Policies decided at once by the nightly full re-match (one database connection each).
MATCH_PARALLELISM = env.int("MATCH_PARALLELISM", default=2)

# 在线申报 attachments: largest accepted file, in bytes (PDF/JPG/PNG/DOCX/XLSX; see portal/applications/files.py).
APPLICATION_ATTACHMENT_MAX_BYTES = env.int("APPLICATION_ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)
