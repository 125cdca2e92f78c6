"""Celery tasks of portal.follows: thin wrappers over the services."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from .services import threshold_date_pushes


@shared_task(name="follows.threshold_warnings", acks_late=True)
def threshold_warnings_task() -> int:
    """Beat, daily: warn ahead of dates on which an eligible decision changes. Idempotent: one notice
    per (enterprise, policy version, boundary day), by its dedupe key."""
    return threshold_date_pushes(today=timezone.localdate())
