"""A real task goes through Redis to a real worker process and writes to PostgreSQL."""

from __future__ import annotations

import uuid

import pytest

from portal.ops.models import WorkerProbe
from portal.ops.tasks import record_probe
from tests.support.services import wait_for

pytestmark = pytest.mark.services


def test_task_reaches_worker_and_writes_to_postgres(start_worker) -> None:
    start_worker()
    token = uuid.uuid4().hex

    record_probe.delay(token)

    probe = wait_for(lambda: WorkerProbe.objects.filter(token=token).first())
    assert probe.worker_hostname

    # Delivering the same task twice more changes nothing. The worker runs one task at a time
    # in order, so once the marker is written the duplicates have been processed.
    record_probe.delay(token)
    record_probe.delay(token)
    marker = f"{token}-marker"
    record_probe.delay(marker)
    wait_for(lambda: WorkerProbe.objects.filter(token=marker).exists())
    assert WorkerProbe.objects.filter(token=token).count() == 1
