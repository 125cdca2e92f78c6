"""Test settings: fast hashing, in-memory e-mail; database and broker from the environment."""

from __future__ import annotations

from .base import *  # noqa: F403
from .base import INSTALLED_APPS, env

DEBUG = False
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="test-only-not-secret")
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
ALLOWED_HOSTS = ["*"]
# The suite exercises the development tools too (benchmarks at small sizes, the demo, bootstrap).
INSTALLED_APPS = [*INSTALLED_APPS, "devtools"]
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"anon": "1000/min"}}  # noqa: F405
# The webhook receiver in tests listens on 127.0.0.1; the refusal of internal addresses has its own tests.
NOTIFICATIONS_WEBHOOK_ALLOW_PRIVATE = True
# Off by default: the store outlives each test's rolled-back data; tests/policies/test_public_cache.py turns it on.
PUBLIC_POLICY_LIST_CACHE_SECONDS = 0
# The same for the matched-policies API pages; tests/matching/test_matches_cache.py turns it on.
MATCHES_API_CACHE_SECONDS = 0
