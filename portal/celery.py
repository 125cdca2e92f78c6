"""The Celery app. Configured from Django settings (CELERY_* names)."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.local")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def task_mode_line() -> str:
    """One line saying how tasks run, and how to switch (printed by `make run`)."""
    if app.conf.task_always_eager:
        return (
            "Celery tasks run inline in the web process (task_always_eager, no REDIS_URL). "
            "To use a real worker: export REDIS_URL=redis://127.0.0.1:6379/0, then `make worker` and `make beat`."
        )
    return f"Celery tasks go through the broker at {app.conf.broker_url}; start `make worker` and one `make beat`."
