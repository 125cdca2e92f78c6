"""Outgoing hook of the matching engine: decisions that changed.

`match_records_changed` is called INSIDE the transaction that wrote the changed match records, so
whatever it writes (notifications, entitlements, their outbox rows) commits or rolls back with the
decision itself. It must not do network I/O; queue that with `transaction.on_commit`.
"""

from __future__ import annotations

from collections.abc import Sequence

from .bulk import ChangedRecord


def match_records_changed(*, version_id: int, changes: Sequence[ChangedRecord], run_id: int | None) -> None:
    """Changed decisions: create 免申即享 entitlements and push notifications (same transaction)."""
    from portal.entitlements.services import on_match_changes

    on_match_changes(version_id=version_id, changes=changes, run_id=run_id)


def match_explanations_filled(*, version_id: int, enterprise_ids: Sequence[int]) -> None:
    """Records' explanations were written or restated: entitlements take theirs as the justification
    (inside the same transaction; no push)."""
    from portal.entitlements.services import entitlement_explanations_sync

    entitlement_explanations_sync(version_id=version_id, enterprise_ids=enterprise_ids, refresh=True)


def policy_version_decided(*, version_id: int) -> None:
    """The bulk path has decided a version for the whole district (every chunk committed): 免申即享
    entitlements that rested on an earlier version of the policy are settled against it."""
    from portal.entitlements.services import entitlements_reconcile

    entitlements_reconcile(version_id=version_id)
