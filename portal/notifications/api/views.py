"""Notification API views: parse input, call one selector or service, render. No business rules here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.accounts.roles import is_staff_user
from portal.api.pagination import PAGE_PARAMETERS, PagePagination, paginated

from .. import selectors, services
from . import serializers as s

if TYPE_CHECKING:
    from portal.accounts.requests import AuthenticatedRequest


class NotificationListApi(APIView):
    @extend_schema(
        operation_id="notifications_list",
        parameters=[s.NotificationFilterSerializer, *PAGE_PARAMETERS],
        responses=s.NotificationPageSerializer,
        summary="我的消息（所在企业的通知，含本人已读状态与未读数）",
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        filters = s.NotificationFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        queryset = selectors.notification_list(user=request.user, unread=filters.validated_data["unread"])
        paginator = PagePagination()
        page = paginator.paginate_queryset(queryset, request, view=self)
        response = paginator.get_paginated_response(s.NotificationSerializer(page, many=True).data)
        response.data["unread_count"] = selectors.notification_unread_count(user=request.user)
        return response


class NotificationReadApi(APIView):
    @extend_schema(
        operation_id="notifications_read", request=None, responses=s.NotificationSerializer, summary="标记已读"
    )
    def post(self, request: AuthenticatedRequest, notification_id: int) -> Response:
        notification = selectors.notification_get(user=request.user, notification_id=notification_id)
        if notification is None:
            raise NotFound()
        read = services.notification_mark_read(notification=notification, user=request.user)
        # as notification_list annotates it (the model has no such column, so mypy does not know the name)
        setattr(notification, "read_at", read.read_at)  # noqa: B010
        return Response(s.NotificationSerializer(notification).data)


class NotificationReadAllApi(APIView):
    @extend_schema(
        operation_id="notifications_read_all", request=None, responses=s.ReadAllResultSerializer, summary="全部标记已读"
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        marked = services.notifications_mark_all_read(user=request.user)
        unread = selectors.notification_unread_count(user=request.user)
        return Response(s.ReadAllResultSerializer({"marked": marked, "unread_count": unread}).data)


class NotificationPreferenceApi(APIView):
    @extend_schema(operation_id="notifications_preferences_get", responses=s.PreferenceSerializer, summary="通知方式")
    def get(self, request: AuthenticatedRequest) -> Response:
        return Response(s.PreferenceSerializer(selectors.channel_preference_get(user=request.user)).data)

    @extend_schema(
        operation_id="notifications_preferences_update",
        request=s.PreferenceSerializer,
        responses=s.PreferenceSerializer,
        summary="修改通知方式（对之后的通知生效）",
    )
    def put(self, request: AuthenticatedRequest) -> Response:
        data = s.PreferenceSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        preference = services.channel_preference_update(user=request.user, **data.validated_data)
        return Response(s.PreferenceSerializer(preference).data)


class StaffDeliveryListApi(APIView):
    @extend_schema(
        operation_id="staff_deliveries_list",
        parameters=[s.DeliveryFilterSerializer, *PAGE_PARAMETERS],
        responses=paginated(s.DeliverySerializer),
        summary="推送状态（工作人员）",
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        filters = s.DeliveryFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        # Not staff: the same 404 as an unknown URL; the staff API is not advertised to enterprises.
        if not is_staff_user(request.user):
            raise NotFound()
        queryset = selectors.delivery_list(user=request.user, **filters.validated_data)
        paginator = PagePagination()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(s.DeliverySerializer(page, many=True).data)


class StaffDeliveryRetryApi(APIView):
    @extend_schema(
        operation_id="staff_deliveries_retry", request=None, responses=s.DeliverySerializer, summary="重新推送"
    )
    def post(self, request: AuthenticatedRequest, delivery_id: int) -> Response:
        delivery = selectors.delivery_get(user=request.user, delivery_id=delivery_id)
        if delivery is None:
            raise NotFound()
        delivery = services.delivery_retry(delivery=delivery, by=request.user)
        return Response(s.DeliverySerializer(delivery).data)
