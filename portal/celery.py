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
            "后台任务在网页进程内直接执行（task_always_eager，未设置 REDIS_URL）。"
            "如需独立的后台进程：export REDIS_URL=redis://127.0.0.1:6379/0，然后运行 `make worker` 和 `make beat`。"
        )
    return f"后台任务经由消息队列 {app.conf.broker_url} 执行；请运行 `make worker` 和一个 `make beat`。"
