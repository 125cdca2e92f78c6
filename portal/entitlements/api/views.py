"""Entitlement API: an enterprise's own records (confirm, object), and staff actions."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.accounts.roles import is_staff_user
from portal.api.exceptions import ApplicationError
from portal.api.serializers import StrictInputSerializer
from portal.enterprises.selectors import enterprise_get_for_user

from .. import selectors, services
from ..models import Entitlement


class EntitlementTransitionSerializer(serializers.Serializer):
    from_status = serializers.CharField()
    to_status = serializers.CharField()
    reason = serializers.CharField()
    at = serializers.DateTimeField()


class EntitlementSerializer(serializers.ModelSerializer):
    credit_code = serializers.CharField(source="enterprise.credit_code")
    enterprise_name = serializers.CharField(source="enterprise.name")
    policy_id = serializers.IntegerField(source="policy_version.policy_id")
    policy_title = serializers.CharField(source="policy_version.title")
    status_label = serializers.CharField(source="get_status_display")
    transitions = EntitlementTransitionSerializer(many=True)

    class Meta:
        model = Entitlement
        fields = (
            "id",
            "credit_code",
            "enterprise_name",
            "policy_id",
            "policy_version",
            "policy_title",
            "status",
            "status_label",
            "explanation",
            "objection_reason",
            "resolution",
            "revoke_reason",
            "determined_at",
            "updated_at",
            "transitions",
        )


class ReasonSerializer(StrictInputSerializer):
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class ResolveSerializer(StrictInputSerializer):
    decision = serializers.ChoiceField(choices=["confirm", "revoke"])
    resolution = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class EnterpriseEntitlementList(generics.ListAPIView):
    serializer_class = EntitlementSerializer
    filter_backends: list[Any] = []

    def get_queryset(self):
        enterprise = enterprise_get_for_user(user=self.request.user, credit_code=self.kwargs["credit_code"])
        return selectors.entitlements_for_enterprise(enterprise=enterprise)


class _EnterpriseAction(APIView):
    input_serializer: type[serializers.Serializer] | None = None

    def entitlement(self, request: Request, credit_code: str, pk: int) -> Entitlement:
        enterprise = enterprise_get_for_user(user=request.user, credit_code=credit_code)
        return selectors.entitlement_get_for_user(user=request.user, enterprise=enterprise, entitlement_id=pk)


class EntitlementConfirm(_EnterpriseAction):
    @extend_schema(request=None, responses=EntitlementSerializer, summary="企业确认免申即享兑现")
    def post(self, request: Request, credit_code: str, pk: int) -> Response:
        entitlement = services.entitlement_confirm(
            entitlement=self.entitlement(request, credit_code, pk), by=request.user
        )
        return Response(
            EntitlementSerializer(
                selectors.entitlements_for_enterprise(enterprise=entitlement.enterprise).get(pk=entitlement.pk)
            ).data
        )


class EntitlementObject(_EnterpriseAction):
    @extend_schema(request=ReasonSerializer, responses=EntitlementSerializer, summary="企业提出异议")
    def post(self, request: Request, credit_code: str, pk: int) -> Response:
        data = ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        entitlement = services.entitlement_object(
            entitlement=self.entitlement(request, credit_code, pk),
            by=request.user,
            reason=data.validated_data["reason"],
        )
        return Response(
            EntitlementSerializer(
                selectors.entitlements_for_enterprise(enterprise=entitlement.enterprise).get(pk=entitlement.pk)
            ).data
        )


class IsStaff(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return is_staff_user(request.user)


class StaffEntitlementList(generics.ListAPIView):
    serializer_class = EntitlementSerializer
    permission_classes = [IsStaff]
    filter_backends: list[Any] = []

    def get_queryset(self):
        status_filter = self.request.query_params.get("status") or None
        if status_filter and status_filter not in Entitlement.Status.values:
            raise ApplicationError("状态不正确", code="invalid_choice", field="status")
        return selectors.entitlements_for_staff(user=self.request.user, status=status_filter)


class _StaffAction(APIView):
    permission_classes = [IsStaff]

    def entitlement(self, request: Request, pk: int) -> Entitlement:
        from django.http import Http404

        found = selectors.entitlements_for_staff(user=request.user).filter(pk=pk).first()
        if found is None:
            raise Http404
        return found

    def respond(self, entitlement: Entitlement) -> Response:
        return Response(
            EntitlementSerializer(selectors.entitlements_for_staff(user=self.request.user).get(pk=entitlement.pk)).data,
            status=status.HTTP_200_OK,
        )


class StaffDisburse(_StaffAction):
    @extend_schema(request=None, responses=EntitlementSerializer, summary="标记已兑现")
    def post(self, request: Request, pk: int) -> Response:
        return self.respond(services.entitlement_disburse(entitlement=self.entitlement(request, pk), by=request.user))


class StaffRevoke(_StaffAction):
    @extend_schema(request=ReasonSerializer, responses=EntitlementSerializer, summary="撤销兑现记录")
    def post(self, request: Request, pk: int) -> Response:
        data = ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self.respond(
            services.entitlement_revoke(
                entitlement=self.entitlement(request, pk), by=request.user, reason=data.validated_data["reason"]
            )
        )


class StaffResolve(_StaffAction):
    @extend_schema(request=ResolveSerializer, responses=EntitlementSerializer, summary="处理企业异议")
    def post(self, request: Request, pk: int) -> Response:
        data = ResolveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self.respond(
            services.entitlement_resolve(
                entitlement=self.entitlement(request, pk),
                by=request.user,
                decision=data.validated_data["decision"],
                resolution=data.validated_data["resolution"],
            )
        )
