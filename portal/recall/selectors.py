"""Reads of recall items: staff only (any staff role looks; 审核人 / 数据专员 decide)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from portal.accounts.roles import is_staff_user

from .models import RecallItem

if TYPE_CHECKING:
    from portal.accounts.models import User


def recall_items_for_staff(*, user: User, status: str | None = None) -> QuerySet[RecallItem]:
    """Recall items for a staff member (none for anyone else), pending first, newest first."""
    if not is_staff_user(user):
        return RecallItem.objects.none()
    queryset = RecallItem.objects.select_related(
        "enterprise", "policy_version", "new_version", "old_receipt", "entitlement", "correction"
    ).prefetch_related("transitions")
    if status:
        queryset = queryset.filter(status=status)
    return queryset.order_by("-created_at", "-id")
