"""Celery tasks of the policy catalogue: thin wrappers that take ids and call services."""

from __future__ import annotations

import logging
from typing import Any

from celery import Task, shared_task
from django.db import OperationalError

from portal.lifecycle import job_keepalive

from . import services
from .models import PreviewRun

logger = logging.getLogger(__name__)


@shared_task(name="policies.preview", bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=3)
def preview_run_task(self: Task[Any, Any], run_id: int) -> None:
    """Compute one PreviewRun. A redelivered message finds the row claimed or done and does nothing."""
    run = services.preview_run_claim(run_id=run_id)
    if run is None:
        logger.info("preview run %s already claimed or finished", run_id)
        return

    try:
        with job_keepalive(PreviewRun, run_id, running=PreviewRun.Status.RUNNING, eager=self.request.is_eager):
            services.preview_run_execute(run=run)
    except OperationalError as exc:  # lost connection or the like: give the row back and try again
        PreviewRun.objects.filter(pk=run_id, status=PreviewRun.Status.RUNNING).update(status=PreviewRun.Status.QUEUED)
        raise self.retry(exc=exc, countdown=min(2**self.request.retries * 5, 60)) from exc
    except Exception as exc:
        services.preview_run_fail(run_id=run_id, error=exc)
        raise


@shared_task(name="policies.sweep_previews")
def preview_runs_sweep_task() -> int:
    """Beat: send again the previews whose task was lost."""
    return services.preview_runs_sweep()
