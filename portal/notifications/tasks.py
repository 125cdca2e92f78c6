"""Celery tasks of the notification outbox. Thin: they take ids and call delivery/services code."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.db import InterfaceError, OperationalError

from . import services
from .delivery import deliveries_send

# acks_late + reject_on_worker_lost: a task lost with its worker is delivered again; that is safe
# because only the claim UPDATE can start a send (see delivery.py). Only a lost database connection
# retries the task; a channel's errors are recorded on the row and retried by the sweep.
_OUTBOX_TASK: dict[str, Any] = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "max_retries": 5,
}


@shared_task(name="notifications.deliver_batch", **_OUTBOX_TASK)
def deliver_batch(delivery_ids: list[int]) -> dict[str, int]:
    """Send the due rows among `delivery_ids` (a list of Delivery ids)."""
    return deliveries_send(delivery_ids=delivery_ids)


@shared_task(name="notifications.sweep_outbox", **_OUTBOX_TASK)
def sweep_outbox() -> dict[str, int]:
    """Every minute (beat): re-enqueue pending and failed-and-due rows, free rows stuck in "sending"."""
    return services.outbox_sweep()
