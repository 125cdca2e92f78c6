"""Tasks that exercise the task pipeline itself."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="portal.ops.record_probe", acks_late=True)
def record_probe(token: str) -> str:
    """Record that a worker processed `token`. Idempotent: a redelivery finds the row."""
    import socket

    from .models import WorkerProbe

    probe, _ = WorkerProbe.objects.get_or_create(token=token, defaults={"worker_hostname": socket.gethostname()})
    return probe.worker_hostname
