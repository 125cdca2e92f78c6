"""Reads for notifications, scoped to the asking user."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Exists, OuterRef, QuerySet, Subquery

from portal.accounts.roles import is_staff_user

from .models import ChannelPreference, Delivery, Notification, NotificationRead

if TYPE_CHECKING:
    from portal.accounts.models import User


def _reads_of(user: User) -> QuerySet[NotificationRead]:
    return NotificationRead.objects.filter(notification=OuterRef("pk"), user=user)


def notification_list(*, user: User, unread: bool | None = None) -> QuerySet[Notification]:
    """The user's enterprise's notifications, newest first, each annotated with this user's `read_at`."""
    enterprise_id = getattr(user, "enterprise_id", None)
    if enterprise_id is None:
        return Notification.objects.none()
    qs = Notification.objects.filter(enterprise_id=enterprise_id).annotate(
        read_at=Subquery(_reads_of(user).values("read_at")[:1])
    )
    if unread is True:
        qs = qs.filter(read_at__isnull=True)
    elif unread is False:
        qs = qs.filter(read_at__isnull=False)
    return qs.order_by("-created_at", "-pk")


def notification_get(*, user: User, notification_id: int) -> Notification | None:
    """One notification if it belongs to the user's enterprise (else None: a stranger learns nothing)."""
    return notification_list(user=user).filter(pk=notification_id).first()


def notification_unread_count(*, user: User) -> int:
    enterprise_id = getattr(user, "enterprise_id", None)
    if enterprise_id is None:
        return 0
    return Notification.objects.filter(enterprise_id=enterprise_id).exclude(Exists(_reads_of(user))).count()


def channel_preference_get(*, user: User) -> ChannelPreference:
    """The user's preference row, or an unsaved one holding the defaults."""
    return ChannelPreference.objects.filter(user=user).first() or ChannelPreference(user=user)


def delivery_list(*, user: User, status: str | None = None, channel: str | None = None) -> QuerySet[Delivery]:
    """All deliveries, for staff only (anyone else gets none), newest first."""
    if not is_staff_user(user):
        return Delivery.objects.none()
    qs = Delivery.objects.select_related("notification__enterprise", "user", "endpoint").order_by("-pk")
    if status:
        qs = qs.filter(status=status)
    if channel:
        qs = qs.filter(channel=channel)
    return qs


def delivery_get(*, user: User, delivery_id: int) -> Delivery | None:
    return delivery_list(user=user).filter(pk=delivery_id).first()
