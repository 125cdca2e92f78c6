"""Routes of the notification API (included in portal/urls.py under /api/v1/)."""

from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("notifications/", views.NotificationListApi.as_view(), name="notification-list"),
    path("notifications/read-all/", views.NotificationReadAllApi.as_view(), name="notification-read-all"),
    path("notifications/preferences/", views.NotificationPreferenceApi.as_view(), name="notification-preferences"),
    path("notifications/<int:notification_id>/read/", views.NotificationReadApi.as_view(), name="notification-read"),
    path("staff/deliveries/", views.StaffDeliveryListApi.as_view(), name="staff-delivery-list"),
    path(
        "staff/deliveries/<int:delivery_id>/retry/", views.StaffDeliveryRetryApi.as_view(), name="staff-delivery-retry"
    ),
]
