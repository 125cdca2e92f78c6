"""Local development (`make run`): DEBUG on, a development-only secret key."""

from __future__ import annotations

from .base import *  # noqa: F403
from .base import INSTALLED_APPS, env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
# Only this mode may fall back to a fixed key; production.py has no default.
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="local-development-only-not-secret")
# Benchmarks, the synthetic district, demo data and `bootstrap` (`make run`): never in production.py.
INSTALLED_APPS = [*INSTALLED_APPS, "devtools"]
