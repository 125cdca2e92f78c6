"""Celery tasks of the enterprise registry: thin wrappers that take ids and call services."""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from celery import Task, shared_task
from django.db import OperationalError

from portal.lifecycle import job_keepalive

from . import services
from .models import FeedImport

logger = logging.getLogger(__name__)


@shared_task(name="enterprises.feed_upload", bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=5)
def feed_upload_task(self: Task[Any, Any], import_id: int) -> None:
    """Import one uploaded department file. A redelivered message finds the row claimed or done."""
    feed_import = services.feed_upload_claim(import_id=import_id)
    if feed_import is None:
        logger.info("feed upload %s already claimed or finished", import_id)
        return

    from .feeds import batch_process_settings

    # Inline (eager, `make run` without Redis) the task runs in the web process: no process-wide settings there.
    interpreter = contextlib.nullcontext() if self.request.is_eager else batch_process_settings()
    try:
        with (
            interpreter,
            job_keepalive(FeedImport, import_id, running=FeedImport.Status.RUNNING, eager=self.request.is_eager),
        ):
            services.feed_upload_process(feed_import=feed_import)
    except OperationalError as exc:  # lost connection, deadlock: give it back; it resumes after the last chunk
        FeedImport.objects.filter(pk=import_id, status=FeedImport.Status.RUNNING).update(
            status=FeedImport.Status.QUEUED
        )
        raise self.retry(exc=exc, countdown=min(2**self.request.retries * 5, 120)) from exc
    except Exception as exc:
        services.feed_upload_fail(import_id=import_id, error=f"{type(exc).__name__}: {exc}")
        raise


@shared_task(name="enterprises.sweep_feed_uploads")
def feed_uploads_sweep_task() -> int:
    """Beat: send again the uploads whose task was lost."""
    return services.feed_uploads_sweep()
