"""Celery tasks of recall: ids in, services called; safe to repeat (one correction per version)."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="recall.version", acks_late=True)
def recall_version_task(version_id: int) -> None:
    """List the past decisions a corrected version would now decide otherwise (whole district)."""
    services.recall_for_version_correction(version_id=version_id)
