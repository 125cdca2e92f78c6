"""Celery tasks of the policy catalogue: thin wrappers that take ids and call services."""

from __future__ import annotations

import logging
from typing import Any

from celery import Task, shared_task

from portal.jobs import job_task_run

from . import services

logger = logging.getLogger(__name__)


@shared_task(name="policies.preview", bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=3)
def preview_run_task(self: Task[Any, Any], run_id: int) -> None:
    """Compute one PreviewRun. A redelivered message finds the row claimed or done and does nothing."""
    job_task_run(
        self,
        claim=lambda: services.preview_run_claim(run_id=run_id),
        execute=lambda run: services.preview_run_execute(run=run),
        fail=lambda run, exc: services.preview_run_fail(run_id=run.pk, error=exc, claim=run.claim),
        max_countdown=60,
    )


@shared_task(name="policies.sweep_previews")
def preview_runs_sweep_task() -> int:
    """Beat: send again the previews whose task was lost."""
    return services.preview_runs_sweep()
