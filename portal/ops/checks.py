"""Readiness of the parts the portal needs: database, broker, worker."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import connection

from portal.celery import app


@dataclass(frozen=True)
class PartStatus:
    ok: bool
    detail: str
    required: bool = True


def check_database() -> PartStatus:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return PartStatus(False, f"{type(exc).__name__}: {exc}")
    return PartStatus(True, connection.vendor)


def check_broker() -> PartStatus:
    if app.conf.task_always_eager:
        return PartStatus(True, "inline (task_always_eager)", required=False)
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:
        return PartStatus(False, f"{type(exc).__name__}: {exc}")
    return PartStatus(True, "reachable")


def check_worker() -> PartStatus:
    if app.conf.task_always_eager:
        return PartStatus(True, "inline (task_always_eager)", required=False)
    try:
        replies = app.control.ping(timeout=settings.HEALTH_WORKER_TIMEOUT)
    except Exception as exc:
        return PartStatus(False, f"{type(exc).__name__}: {exc}")
    if not replies:
        return PartStatus(False, "no worker answered")
    return PartStatus(True, f"{len(replies)} worker(s) answered")
