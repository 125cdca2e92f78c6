"""The Celery app. Configured from Django settings (CELERY_* names)."""

from __future__ import annotations

import contextlib
import os
from typing import Any

from celery import Celery
from celery.fixups.django import (  # type: ignore[attr-defined]  # DjangoWorkerFixup is not in the stubs
    DjangoFixup,
    DjangoWorkerFixup,
)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.local")


class _KeepConnectionWorkerFixup(DjangoWorkerFixup):
    """Celery's Django fix-up for workers, except that a pool process keeps its database connection.

    Celery closes every connection before and after each task, whatever CONN_MAX_AGE says, so each task
    paid for a new PostgreSQL backend (connection, authentication, session set-up, a cold catalogue
    cache) before its first statement. Here, between tasks, a connection is closed the way Django closes
    a web request's (close_if_unusable_or_obsolete): after an error that left it unusable, with
    autocommit not restored, or past its age, in a worker WORKER_CONN_MAX_AGE (set when the worker and each
    pool process start). It is checked once before each task uses it (CONN_HEALTH_CHECKS), so one that died between
    tasks is replaced, not failed on. A task that fails inside a transaction has it rolled back by its
    atomic block: no transaction outlives a task. At a process's start, Celery's own code runs (closing
    the connection inherited from the parent).
    """

    def install(self) -> Any:
        # In the worker's own process (it runs the tasks itself with --pool=solo or threads); pool processes
        # forked from it inherit the settings, and set them again below when started another way.
        self._worker_connection_settings()
        return super().install()

    def on_worker_process_init(self, **kwargs: Any) -> None:
        super().on_worker_process_init(**kwargs)
        self._worker_connection_settings()

    def _worker_connection_settings(self) -> None:
        from django.conf import settings

        # Applied at the next connect, in this process only.
        for conn in self._db.connections.all():
            conn.settings_dict["CONN_MAX_AGE"] = settings.WORKER_CONN_MAX_AGE
            # A connection kept across tasks may have died meanwhile (a database restart): checked once
            # per task, before its first statement, instead of failing that statement.
            conn.settings_dict["CONN_HEALTH_CHECKS"] = True

    def close_database(self, **kwargs: Any) -> None:
        for conn in self._db.connections.all(initialized_only=True):
            with contextlib.suppress(self.interface_errors):
                conn.close_if_unusable_or_obsolete()


class _DjangoFixup(DjangoFixup):
    """Celery's Django fix-up (django.setup(), task discovery), with _KeepConnectionWorkerFixup for workers."""

    @property
    def worker_fixup(self) -> DjangoWorkerFixup:
        # Built on first use, as Celery's own: it reads the app's configuration, not loaded yet at import.
        worker_fixup: DjangoWorkerFixup | None = self._worker_fixup  # type: ignore[has-type]  # untyped in the stubs
        if worker_fixup is None:
            worker_fixup = self._worker_fixup = _KeepConnectionWorkerFixup(self.app)
        return worker_fixup

    @worker_fixup.setter
    def worker_fixup(self, value: DjangoWorkerFixup) -> None:
        self._worker_fixup = value


def fixup(app: Celery) -> DjangoFixup:
    """Installs _DjangoFixup (in place of Celery's built-in Django fix-up)."""
    installed = _DjangoFixup(app)
    installed.install()
    return installed


# fixups= replaces Celery's built-in list, whose only entry is the Django fix-up.
app = Celery("portal", fixups=["portal.celery:fixup"])
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
