"""Settings shared by every mode, read from the environment (django-environ).

Embedded defaults (SQLite, inline Celery) exist so that `make run` works on a bare
machine; production.py removes every insecure default.
"""

from __future__ import annotations

from datetime import timedelta
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
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "csp",
    "portal.accounts",
    "portal.ops",
    "portal.audit",
    "portal.enterprises",
    "portal.notifications",
    "portal.notices",
    "portal.entitlements",
    "portal.applications",
    "portal.follows",
    "portal.corrections",
    "portal.receipts",
    "portal.recall",
    "portal.exclusions",
    "matching",
    "policies",
    "frontend",
    "portal",  # last: its ready() wires the domain events (portal/events.py) once every app is loaded
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "portal.accounts.middleware.StaffSessionIdleTimeout",
    "django_otp.middleware.OTPMiddleware",
    "portal.audit.middleware.AuditContextMiddleware",
    "portal.accounts.two_factor.TwoFactorGate",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "portal.api.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "portal.api.middleware.NoStoreForPrivateResponses",
    # Near the end, so its process_exception sees a view's exception first: Chinese 404/500 pages under DEBUG too.
    "frontend.errors.ChineseErrorPagesMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]
# Django's CSRF failure page is English (and a developer's checklist under DEBUG).
CSRF_FAILURE_VIEW = "frontend.errors.csrf_failure"

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
# A Celery pool process keeps its connection between tasks for this long (portal/celery.py), whatever
# CONN_MAX_AGE says; it is checked (one round trip) before each task uses it, and closed after an error.
WORKER_CONN_MAX_AGE = env.int("WORKER_CONN_MAX_AGE", default=600)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    # 等保2.0 第三级: at least 10 characters mixing at least three of upper, lower, digit, symbol.
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "portal.accounts.passwords.CharacterClassValidator", "OPTIONS": {"min_classes": 3}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # django-axes first: it refuses a locked-out user name before the password is even checked.
    "axes.backends.AxesStandaloneBackend",
    # Django's, reading with the user what authorization asks on every request (one query, not three).
    "portal.accounts.backends.ModelBackend",
]
# Brute force: 5 failed sign-ins lock for 15 minutes, counted per user name (guesses spread over many
# addresses) and per client address (one address spraying many user names). An office behind one NAT
# address shares the address count: set the proxy settings of django-axes (AXES_IPWARE_*) so the real
# client address is used behind the load balancer. Every failure is logged (AccessFailureLog);
# administrators unlock in the admin or with `manage.py axes_reset_username NAME` / `axes_reset_ip IP`.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_LOCKOUT_CALLABLE = "portal.accounts.lockout.lockout_response"
AXES_VERBOSE = False
# Staff sessions end after this many seconds without a request (等保: idle timeout); enterprise users
# keep Django's default session age.
# Two-factor sign-in (TOTP) for every staff role; production turns it on (settings/production.py).
# Enterprise users may set it up themselves (账号安全), and are then asked for the code too.
STAFF_REQUIRE_TWO_FACTOR = env.bool("STAFF_REQUIRE_TWO_FACTOR", default=False)
OTP_TOTP_ISSUER = "惠企通"
STAFF_SESSION_IDLE_SECONDS = env.int("STAFF_SESSION_IDLE_SECONDS", default=30 * 60)
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
    CACHES = {"default": {"BACKEND": "portal.redis_cache.RedisCache", "LOCATION": REDIS_URL}}
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
# Long work (match runs, previews, uploads, outbox claims) writes a heartbeat as it goes; the beat sweeps
# take back what has not moved for JOB_STALE_AFTER_SECONDS and send it again. Match runs beat from a
# separate thread every third of it, so it need not exceed a chunk; the outbox renews its claim after a
# third of it, so it must exceed one send (EMAIL_TIMEOUT, NOTIFICATIONS_WEBHOOK_TIMEOUT). Recovery after a
# killed worker takes at most JOB_STALE_AFTER_SECONDS + JOB_SWEEP_INTERVAL_SECONDS (+ the queue's backlog).
JOB_STALE_AFTER_SECONDS = env.float("JOB_STALE_AFTER_SECONDS", default=60.0)
JOB_SWEEP_INTERVAL_SECONDS = env.float("JOB_SWEEP_INTERVAL_SECONDS", default=30.0)
# Redis redelivers a message nobody acknowledged (acks_late) after visibility_timeout. Too short, and a
# task still running on a live worker is delivered a second time (harmless: claims let one worker in,
# writes are diff-only, but the work is done twice); too long, and a crashed worker's message waits that
# long. It is set above the hard task time limit, so a live worker's message is never redelivered early;
# what bounds recovery after a crash is the heartbeat sweep above, which sends the work again by itself.
CELERY_BROKER_VISIBILITY_TIMEOUT = env.int("CELERY_BROKER_VISIBILITY_TIMEOUT", default=CELERY_TASK_TIME_LIMIT + 5 * 60)
# Publishing must not hang a web request while the broker is down: give up quickly,
# the outbox sweep (notifications) re-sends later.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "visibility_timeout": CELERY_BROKER_VISIBILITY_TIMEOUT,
}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    # Re-enqueues outbox rows left pending (broker outage, lost message) or stuck in "sending" (worker died).
    "notifications.sweep_outbox": {"task": "notifications.sweep_outbox", "schedule": JOB_SWEEP_INTERVAL_SECONDS},
    # Dates move (qualifications expire, enterprises age): re-decide everything once a night.
    "matching.nightly": {"task": "matching.nightly", "schedule": crontab(hour=2, minute=30)},
    # Decisions with their reasons, entitlements on a current decision, nothing payable twice: counted
    # after the night's re-match (portal.ops.invariants), the latest shown on the staff dashboard.
    "ops.check_invariants": {"task": "ops.check_invariants", "schedule": crontab(hour=4, minute=30)},
    # 申报 deadlines and expiring qualifications: reminders, once a day.
    "entitlements.reminders": {"task": "entitlements.reminders", "schedule": crontab(hour=8, minute=0)},
    # 可申报 is pushed when a 申报 window opens, not before (nor after it closes): on the opening day.
    "entitlements.window_openings": {"task": "entitlements.window_openings", "schedule": crontab(hour=8, minute=5)},
    # Dates on which an eligible decision changes, warned THRESHOLD_WARNING_LEAD_DAYS ahead, once.
    "follows.threshold_warnings": {"task": "follows.threshold_warnings", "schedule": crontab(hour=8, minute=10)},
    # Re-sends match runs whose task was lost (broker down when requested, worker died: heartbeat stale).
    "matching.sweep_runs": {"task": "matching.sweep_runs", "schedule": JOB_SWEEP_INTERVAL_SECONDS},
    # Likewise for previews before publishing and console data uploads.
    "policies.sweep_previews": {"task": "policies.sweep_previews", "schedule": JOB_SWEEP_INTERVAL_SECONDS},
    "enterprises.sweep_feed_uploads": {
        "task": "enterprises.sweep_feed_uploads",
        "schedule": JOB_SWEEP_INTERVAL_SECONDS,
    },
}

REST_FRAMEWORK = {
    # The browser uses its session (with CSRF); department systems use their API keys (per view).
    # No HTTP Basic: it sends the password on every request and bypasses the login lockout.
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PARSER_CLASSES": [
        "portal.api.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "portal.api.pagination.PagePagination",
    "PAGE_SIZE": 20,
    "DEFAULT_SCHEMA_CLASS": "portal.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "portal.api.exceptions.api_exception_handler",
    "DEFAULT_THROTTLE_RATES": {"anon": env.str("DJANGO_ANON_THROTTLE", default="60/min")},
}
# Request bodies: one limit for every JSON or form body (files in multipart uploads are not counted).
# A department feed batch over the API is at most FEED_API_MAX_RECORDS records; a record with every
# fact is about 300 bytes, so a full batch fits with room to spare. Larger data goes through the
# CSV/XLSX upload, which the worker reads in a stream.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=10 * 1024 * 1024)
FEED_API_MAX_RECORDS = env.int("FEED_API_MAX_RECORDS", default=10_000)

# Content-Security-Policy (django-csp): scripts only from our own static files, no inline scripts or
# event handlers (portal.js holds the little behaviour htmx does not), nothing framed, forms only to us.
# style-src allows inline style attributes: templates use a few for layout, and styles cannot run code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

# Console uploads of department data (CSV/XLSX): size on disk, size once an XLSX is inflated, and data
# rows. XLSX is parsed with defusedxml installed (openpyxl uses it), so XML entity tricks are refused.
FEED_UPLOAD_MAX_BYTES = env.int("FEED_UPLOAD_MAX_BYTES", default=50 * 1024 * 1024)
FEED_UPLOAD_MAX_UNCOMPRESSED_BYTES = env.int("FEED_UPLOAD_MAX_UNCOMPRESSED_BYTES", default=300 * 1024 * 1024)
FEED_UPLOAD_MAX_ROWS = env.int("FEED_UPLOAD_MAX_ROWS", default=200_000)

# Nesting levels accepted in any JSON body (the rule language needs at most 2 × 12; see
# portal/api/parsers.py): deeper documents are refused before parsing.
API_JSON_MAX_DEPTH = env.int("API_JSON_MAX_DEPTH", default=64)

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
        "EntitlementStatusEnum": "portal.entitlements.models.Entitlement.Status",
        "CorrectionStatusEnum": "portal.corrections.models.CorrectionRequest.Status",
        "CorrectionKindEnum": "portal.corrections.models.CorrectionRequest.Kind",
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
# A row "sending" whose claim was not renewed for this long lost its worker; the sweep puts it back. Workers
# renew their claim after a third of it, so it only has to exceed the time of one send (SMTP/webhook timeouts).
NOTIFICATIONS_SENDING_TIMEOUT = env.float("NOTIFICATIONS_SENDING_TIMEOUT", default=JOB_STALE_AFTER_SECONDS)
# Rows handed to the broker longer ago than this and still pending are handed over again. Sooner (after
# JOB_STALE_AFTER_SECONDS) when no delivery batch waits in the broker's queue: then their message is gone (a
# worker killed before its on-commit hand-over, a broker restarted without persistence), not waiting behind others.
NOTIFICATIONS_REQUEUE_AFTER = env.float("NOTIFICATIONS_REQUEUE_AFTER", default=600.0)
# Delivery ids per task. A worker fetches its next task only after acknowledging the last (acks_late with a
# prefetch of one), ~10 ms between tasks; at 5,000 a 100,000-row fan-out is 20 tasks, still spread over
# every worker. Rows are claimed NOTIFICATIONS_CLAIM_CHUNK at a time, so a batch holds no more rows at once.
NOTIFICATIONS_BATCH_SIZE = env.int("NOTIFICATIONS_BATCH_SIZE", default=5000)
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

# The public policy list is kept rendered per catalogue version (policies/public_cache.py); this is the
# longest a stored page lives, which bounds how stale a change made around the services can be.
PUBLIC_POLICY_LIST_CACHE_SECONDS = env.int("PUBLIC_POLICY_LIST_CACHE_SECONDS", default=300)
# An enterprise's matched-policies API page is kept rendered per data stamp (matching/matches_cache.py); the
# stamps are replaced when its records change, and this is the longest a stored page lives all the same.
MATCHES_API_CACHE_SECONDS = env.int("MATCHES_API_CACHE_SECONDS", default=300)

# Health: /healthz treats the worker as required only when tasks are not inline.
HEALTH_WORKER_TIMEOUT = env.float("HEALTH_WORKER_TIMEOUT", default=1.0)

# Push reminders: days before an application window closes, and before a qualification that
# matches rest on expires.
NOTIFY_APPLY_DEADLINE_DAYS = env.int("NOTIFY_APPLY_DEADLINE_DAYS", default=3)
NOTIFY_QUALIFICATION_EXPIRY_DAYS = env.int("NOTIFY_QUALIFICATION_EXPIRY_DAYS", default=90)
# Threshold warnings (portal.follows): a date on which an eligible decision changes (an anniversary of
# establishment, a qualification's expiry) is pushed this many days ahead, once; the workspace lists
# dates up to the horizon and at most THRESHOLD_WARNING_MAX warnings.
THRESHOLD_WARNING_LEAD_DAYS = env.int("THRESHOLD_WARNING_LEAD_DAYS", default=60)
THRESHOLD_WARNING_HORIZON_DAYS = env.int("THRESHOLD_WARNING_HORIZON_DAYS", default=3 * 366)
THRESHOLD_WARNING_MAX = env.int("THRESHOLD_WARNING_MAX", default=12)

# Matching: enterprises per chunk (one transaction, one progress step) of a district-wide run.
MATCH_CHUNK_SIZE = env.int("MATCH_CHUNK_SIZE", default=250_000)
# Policies decided at once by the nightly full re-match (one database connection each).
MATCH_PARALLELISM = env.int("MATCH_PARALLELISM", default=2)
# The nightly one pass spread over the workers: cut into enterprise-id ranges of this size, one task each
# (matching.passchunks). Off: the whole pass runs in the worker that took the run.
MATCH_PASS_SPREAD = env.bool("MATCH_PASS_SPREAD", default=True)
MATCH_PASS_CHUNK_SIZE = env.int("MATCH_PASS_CHUNK_SIZE", default=10_000)

# The nightly run re-decides only what the date moved since the previous one (matching.nightly); a full
# pass still runs when the last one is this many days old, against anything no event announced (0: never).
MATCH_NIGHTLY_FULL_EVERY_DAYS = env.int("MATCH_NIGHTLY_FULL_EVERY_DAYS", default=7)

# 在线申报 attachments: largest accepted file, in bytes (PDF/JPG/PNG/DOCX/XLSX; see portal/applications/files.py).
APPLICATION_ATTACHMENT_MAX_BYTES = env.int("APPLICATION_ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)

# 数据纠错 / 申请核验 (portal/corrections): a department's due date, in working days (Monday to Friday;
# statutory holidays are not modelled). Evidence files take the same types and size limit as 申报 materials.
CORRECTION_DUE_WORKING_DAYS = env.int("CORRECTION_DUE_WORKING_DAYS", default=5)
