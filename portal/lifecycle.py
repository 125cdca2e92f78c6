"""Small pieces shared by the models and services that move a row through statuses (jobs: portal.jobs)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from portal.api.exceptions import ApplicationError


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
