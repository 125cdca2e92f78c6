"""Celery tasks of the notification outbox. Thin: they take ids and call delivery/services code."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from typing import Any

from celery import Task, shared_task
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


@contextlib.contextmanager
def _without_cyclic_gc() -> Iterator[None]:
    """The cyclic garbage collector off for one batch (a worker's own process only: it is process-wide).

    A batch makes a few objects per message that die by reference count, and its collections find
    nothing; but each full collection rescans the whole heap, including whatever the mail backend keeps
    (Django's locmem backend keeps every message: a third of the worker's CPU at 100,000 messages; a
    backend that keeps nothing, ~5%). Cycles a batch leaves (tracebacks of recorded errors) are collected
    after it, once collection is back on.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


@shared_task(name="notifications.deliver_batch", bind=True, **_OUTBOX_TASK)
def deliver_batch(self: Task[Any, Any], delivery_ids: list[int]) -> dict[str, int]:
    """Send the due rows among `delivery_ids` (a list of Delivery ids)."""
    # Inline (eager, `make run` without Redis) the task runs in the web process: no process-wide settings there.
    with contextlib.nullcontext() if self.request.is_eager else _without_cyclic_gc():
        return deliveries_send(delivery_ids=delivery_ids)


@shared_task(name="notifications.sweep_outbox", **_OUTBOX_TASK)
def sweep_outbox() -> dict[str, int]:
    """Every minute (beat): re-enqueue pending and failed-and-due rows, free rows stuck in "sending"."""
    return services.outbox_sweep()
