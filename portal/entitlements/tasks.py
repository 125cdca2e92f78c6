"""Celery tasks for pushes: thin wrappers over the services."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from .reminders import apply_deadline_reminders, apply_window_opening_pushes, qualification_expiry_reminders


@shared_task(name="entitlements.reminders", acks_late=True)
def reminders_task() -> dict[str, int]:
    """Beat, daily. Idempotent: each reminder has its own dedupe key."""
    today = timezone.localdate()
    return {
        "apply_deadline": apply_deadline_reminders(today=today),
        "qualification_expiring": qualification_expiry_reminders(today=today),
    }


@shared_task(name="entitlements.window_openings", acks_late=True)
def window_openings_task() -> int:
    """Beat, daily: 可申报 for 申报 windows opening today. Idempotent through the 可申报 dedupe key."""
    return apply_window_opening_pushes(today=timezone.localdate())
