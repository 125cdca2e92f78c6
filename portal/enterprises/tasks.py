"""Celery tasks of the enterprise registry: thin wrappers that take ids and call services."""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from celery import Task, shared_task

from portal.jobs import job_task_run

from . import services
from .feeds import batch_process_settings
from .models import FeedImport

logger = logging.getLogger(__name__)


@shared_task(name="enterprises.feed_upload", bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=5)
def feed_upload_task(self: Task[Any, Any], import_id: int) -> None:
    """Import one uploaded department file. A redelivered message finds the row claimed or done; a lost
    connection gives it back, and the retry resumes after the last committed chunk."""

    def execute(feed_import: FeedImport) -> None:
        # Inline (eager, `make run` without Redis) the task runs in the web process: no process-wide settings there.
        with contextlib.nullcontext() if self.request.is_eager else batch_process_settings():
            services.feed_upload_process(feed_import=feed_import)

    job_task_run(
        self,
        claim=lambda: services.feed_upload_claim(import_id=import_id),
        execute=execute,
        fail=lambda feed_import, exc: services.feed_upload_fail(import_id=feed_import.pk, error=exc),
        max_countdown=120,
    )


@shared_task(name="enterprises.sweep_feed_uploads")
def feed_uploads_sweep_task() -> int:
    """Beat: send again the uploads whose task was lost."""
    return services.feed_uploads_sweep()
