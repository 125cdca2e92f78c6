"""Small pieces shared by the models and services that move a row through statuses."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

from portal.api.exceptions import ApplicationError

logger = logging.getLogger(__name__)


def status_move(locked: Any, *, to: str, allowed: Iterable[str], **fields: Any) -> str:
    """Move a row (already locked by the caller) to status `to` and save; returns the previous status.

    Refused with `invalid_transition` (409) unless its current status is in `allowed`; `fields` are
    saved with the status (e.g. a reason).
    """
    if locked.status not in tuple(allowed):
        raise ApplicationError(
            f"当前状态为“{locked.get_status_display()}”，不能改为“{type(locked).Status(to).label}”",
            code="invalid_transition",
            field="status",
            http_status=409,
        )
    previous = locked.status
    locked.status = to
    for name, value in fields.items():
        setattr(locked, name, value)
    locked.save(update_fields=["status", "updated_at", *fields])
    return previous


class ProgressMixin:
    """`is_finished` and `percent` for a job row with status DONE / FAILED and processed / total counts."""

    status: str
    processed: int
    total: int
    # Each job model defines its own Status choices with DONE and FAILED (the mixin cannot name the class).

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)  # type: ignore[attr-defined]  # see above

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:  # type: ignore[attr-defined]  # see above
            return 100
        return int(self.processed * 100 / self.total) if self.total else 0


class Keepalive:
    """Calls `beat()` every `every` seconds from a thread while a job runs, so its heartbeat moves between steps.

    A step (one chunk of a district-wide run) may take longer than the staleness after which a sweep takes
    a job back; the keep-alive keeps a live worker's job its own, while a killed worker's stops beating at
    once. `beat()` returns False when the job is no longer ours (or finished): the thread stops. The thread
    uses its own database connection and closes it.
    """

    def __init__(self, beat: Callable[[], bool], *, every: float, name: str = "keepalive") -> None:
        self._beat = beat
        self._every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def _run(self) -> None:
        from django.db import connection

        try:
            while not self._stop.wait(self._every):
                try:
                    if not self._beat():
                        return
                except Exception:  # a database hiccup: try again at the next beat
                    logger.warning("keep-alive beat failed", exc_info=True)
                    connection.close()
        finally:
            connection.close()

    def __enter__(self) -> Keepalive:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


def stale_running(running: str, *, now: Any, seconds: float | None = None) -> Any:
    """Q for job rows in status `running` whose heartbeat (or, for rows without one, start) is older than
    `seconds` (JOB_STALE_AFTER_SECONDS by default): their worker is gone."""
    from datetime import timedelta

    from django.conf import settings
    from django.db.models import Q

    before = now - timedelta(seconds=settings.JOB_STALE_AFTER_SECONDS if seconds is None else seconds)
    return Q(status=running) & (Q(heartbeat_at__lt=before) | Q(heartbeat_at__isnull=True, started_at__lt=before))


def job_keepalive(model: Any, pk: int, *, running: str, eager: bool) -> Any:
    """A Keepalive moving `heartbeat_at` of job row `pk` while it is `running` (nothing when tasks run inline)."""
    from contextlib import nullcontext

    from django.conf import settings
    from django.utils import timezone

    if eager:
        return nullcontext()

    def beat() -> bool:
        return model.objects.filter(pk=pk, status=running).update(heartbeat_at=timezone.now()) == 1

    return Keepalive(beat, every=settings.JOB_STALE_AFTER_SECONDS / 3, name=f"{model._meta.label_lower}-{pk}")
