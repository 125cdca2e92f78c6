"""Tasks that exercise the task pipeline itself."""

from __future__ import annotations

from celery import shared_task

from .invariants import invariants_check
from .models import WorkerProbe


@shared_task(name="portal.ops.record_probe", acks_late=True)
def record_probe(token: str) -> str:
    """Record that a worker processed `token`. Idempotent: a redelivery finds the row."""
    import socket

    probe, _ = WorkerProbe.objects.get_or_create(token=token, defaults={"worker_hostname": socket.gethostname()})
    return probe.worker_hostname


@shared_task(name="ops.check_invariants", acks_late=True)
def check_invariants_task() -> dict[str, int]:
    """Beat (nightly, after the re-match): count and store the invariants' offenders. Idempotent: a
    redelivery stores one more check with the same counts."""
    return invariants_check().counts
