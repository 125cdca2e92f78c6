"""Reads of entitlements, scoped: an enterprise's own, or all for staff."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from portal.accounts.roles import is_staff_user

from .models import Entitlement


def entitlements_for_enterprise(*, enterprise: Any) -> QuerySet[Entitlement]:
    return (
        Entitlement.objects.filter(enterprise=enterprise)
        .select_related("policy_version", "enterprise")
        .prefetch_related("transitions")
    )


def entitlement_get_for_user(*, user: Any, enterprise: Any, entitlement_id: int) -> Entitlement:
    """The entitlement if it belongs to `enterprise` (which the caller may see); 404 otherwise."""
    entitlement = entitlements_for_enterprise(enterprise=enterprise).filter(pk=entitlement_id).first()
    if entitlement is None:
        raise Http404("未找到该兑现记录")
    return entitlement


def entitlements_for_staff(*, user: Any, status: str | None = None) -> QuerySet[Entitlement]:
    if not is_staff_user(user):
        return Entitlement.objects.none()
    queryset = Entitlement.objects.select_related("policy_version", "enterprise").prefetch_related("transitions")
    return queryset.filter(status=status) if status else queryset
