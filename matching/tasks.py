"""Celery tasks of the matching engine: thin wrappers that take ids and call services."""

from __future__ import annotations

import logging
from typing import Any

from celery import Task, shared_task

from portal.jobs import job_task_run

from . import passchunks, services
from .models import MatchRun

logger = logging.getLogger(__name__)


@shared_task(
    name="matching.run",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=5,
)
def match_run_task(self: Task[Any, Any], run_id: int) -> None:
    """Execute one MatchRun. Redelivery is harmless: the claim lets one worker in, writes are diff-only.

    While it runs, a keep-alive moves the run's heartbeat every third of JOB_STALE_AFTER_SECONDS, so a
    slow chunk is not mistaken for a dead worker; a SIGKILLed worker stops beating and the sweep revives
    the run within JOB_STALE_AFTER_SECONDS + JOB_SWEEP_INTERVAL_SECONDS (see portal.jobs).
    """
    job_task_run(
        self,
        claim=lambda: services.match_run_claim(run_id=run_id),
        execute=lambda run: services.match_run_execute(run=run),
        fail=lambda run, exc: services.match_run_fail(run_id=run.pk, error=exc, claim=run.claim),
        max_countdown=300,
    )


@shared_task(
    name="matching.run_chunk",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=5,
)
def match_run_chunk_task(self: Task[Any, Any], chunk_id: int) -> None:
    """Decide one chunk of a nightly run spread over workers (matching.passchunks); the last chunk to
    commit finishes the run. Redelivery, or a message for a chunk done, held or unknown, does nothing."""
    job_task_run(
        self,
        claim=lambda: passchunks.match_run_chunk_claim(chunk_id=chunk_id),
        execute=lambda chunk: passchunks.match_run_chunk_execute(chunk=chunk, keep_run_alive=not self.request.is_eager),
        fail=lambda chunk, exc: passchunks.match_run_chunk_fail(chunk=chunk, error=exc),
        max_countdown=300,
    )


@shared_task(name="matching.nightly", acks_late=True)
def match_nightly_task() -> None:
    """Beat: re-decide what the date moved since the previous night (ages, qualifications, policy dates),
    or every published policy for every enterprise when that cannot be trusted (matching.nightly)."""
    services.match_run_request(kind=MatchRun.Kind.NIGHTLY, nightly_for=services.today())


@shared_task(name="matching.sweep_runs")
def match_runs_sweep_task() -> int:
    """Beat: send again the runs whose task was lost."""
    return services.match_runs_sweep()
