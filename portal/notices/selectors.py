"""Reads of decision notices, scoped by user: an enterprise's own users and staff; nobody else sees one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet

from portal.enterprises.selectors import enterprise_queryset_for_user

from .models import DecisionNotice

if TYPE_CHECKING:
    from portal.accounts.models import User


def notices_for_user(*, user: User | AnonymousUser) -> QuerySet[DecisionNotice]:
    """Every notice of the enterprises the user may see (all for staff, its own for an enterprise user)."""
    if not getattr(user, "is_authenticated", False):
        return DecisionNotice.objects.none()
    visible = enterprise_queryset_for_user(user=user)  # type: ignore[arg-type]  # authenticated: a User
    return DecisionNotice.objects.filter(enterprise__in=visible.values("pk"))


def notices_for_enterprise(*, user: User, enterprise_id: int) -> QuerySet[DecisionNotice]:
    return notices_for_user(user=user).filter(enterprise_id=enterprise_id).order_by("-issued_at", "-id")


def notice_get(*, user: User | AnonymousUser, number: str) -> DecisionNotice | None:
    """The notice with that number if the user may see it; None otherwise (the caller answers 404)."""
    return notices_for_user(user=user).filter(number=number).first()


def notice_numbers_by_key(*, user: User, enterprise_id: int, keys: list[str]) -> dict[str, str]:
    """{dedupe_key: number} of the notices among `keys` (an inbox item and its notice share the key)."""
    if not keys:
        return {}
    return dict(
        notices_for_enterprise(user=user, enterprise_id=enterprise_id)
        .filter(dedupe_key__in=keys)
        .values_list("dedupe_key", "number")
    )
