"""Outgoing hook of the matching engine: decisions that changed.

`match_records_changed` is called INSIDE the transaction that wrote the changed match records, so
whatever it writes (notifications, entitlements, their outbox rows) commits or rolls back with the
decision itself. It must not do network I/O; queue that with `transaction.on_commit`.
"""

from __future__ import annotations

from collections.abc import Sequence

from .bulk import ChangedRecord


def match_records_changed(*, version_id: int, changes: Sequence[ChangedRecord], run_id: int | None) -> None:
    """Receivers of changed decisions. Nothing listens yet."""
    return None
