"""Entitlement API: an enterprise's own records (confirm, object), and staff actions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.accounts.permissions import IsStaff
from portal.api.exceptions import ApplicationError
from portal.api.serializers import StrictInputSerializer
from portal.enterprises.selectors import enterprise_get_for_user

from .. import selectors, services
from ..models import Entitlement, EntitlementTransition

if TYPE_CHECKING:
    from policies.models import PolicyVersion
    from portal.accounts.requests import AuthenticatedRequest


def _version_number(version: PolicyVersion | None) -> int | None:
    return version.number if version is not None else None


class EntitlementTransitionSerializer(serializers.Serializer):
    """One step of the timeline: who (by role; a staff member's name never reaches the enterprise), when, why."""

    from_status = serializers.CharField()
    to_status = serializers.CharField()
    to_status_label = serializers.CharField(source="get_to_status_display")
    by_role = serializers.CharField(help_text="system | enterprise | reviewer | data_officer")
    by_role_label = serializers.CharField(source="get_by_role_display")
    by_name = serializers.SerializerMethodField(help_text="操作人：仅企业用户本人的用户名；工作人员只显示角色")
    policy_version_number = serializers.SerializerMethodField(help_text="此步之后兑现记录所依据的政策版本号")
    previous_version_number = serializers.SerializerMethodField(help_text="被取代的认定所依据的版本号")
    previous_explanation = serializers.JSONField(help_text="被取代的认定依据（新版本重新认定时保留）")
    reason = serializers.CharField()
    at = serializers.DateTimeField()

    def get_by_name(self, transition: EntitlementTransition) -> str:
        if transition.by_role == "enterprise" and transition.by is not None:
            return transition.by.get_full_name() or transition.by.username
        return ""

    def get_policy_version_number(self, transition: EntitlementTransition) -> int | None:
        return _version_number(transition.policy_version)

    def get_previous_version_number(self, transition: EntitlementTransition) -> int | None:
        return _version_number(transition.previous_version)


class StaffTransitionSerializer(EntitlementTransitionSerializer):
    def get_by_name(self, transition: EntitlementTransition) -> str:
        return transition.by.username if transition.by is not None else ""


class EntitlementSerializer(serializers.ModelSerializer):
    credit_code = serializers.CharField(source="enterprise.credit_code")
    enterprise_name = serializers.CharField(source="enterprise.name")
    policy_id = serializers.IntegerField()
    policy_title = serializers.CharField(source="policy_version.title")
    policy_version_number = serializers.IntegerField(source="policy_version.number")
    period = serializers.CharField(help_text="兑现期：once（一次性）或年份")
    period_label = serializers.CharField()
    status_label = serializers.CharField(source="get_status_display")
    review_version_number = serializers.SerializerMethodField(help_text="待复核：未认定符合条件的新版本号")
    transitions = EntitlementTransitionSerializer(many=True)

    class Meta:
        model = Entitlement
        fields: tuple[str, ...] = (
            "id",
            "credit_code",
            "enterprise_name",
            "policy_id",
            "period",
            "period_label",
            "policy_version",
            "policy_version_number",
            "policy_title",
            "status",
            "status_label",
            "explanation",
            "review_version",
            "review_version_number",
            "review_explanation",
            "objection_reason",
            "resolution",
            "revoke_reason",
            "determined_at",
            "updated_at",
            "transitions",
        )

    def get_review_version_number(self, entitlement: Entitlement) -> int | None:
        return _version_number(entitlement.review_version) if entitlement.status == "pending_review" else None


class StaffEntitlementSerializer(EntitlementSerializer):
    transitions = StaffTransitionSerializer(many=True)
    recovery_flagged_at = serializers.DateTimeField(
        allow_null=True, help_text="已兑现但新版本不再认定：可能需追回（不自动追回）"
    )

    class Meta(EntitlementSerializer.Meta):
        fields = (*EntitlementSerializer.Meta.fields, "status_before_review", "recovery_flagged_at", "recovery_note")


class ReasonSerializer(StrictInputSerializer):
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class ResolveSerializer(StrictInputSerializer):
    decision = serializers.ChoiceField(choices=["confirm", "revoke"])
    resolution = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class ReviewSerializer(StrictInputSerializer):
    decision = serializers.ChoiceField(
        choices=["keep", "revoke"], error_messages={"invalid_choice": "复核结果只能是维持（keep）或撤销（revoke）"}
    )
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class NoteSerializer(StrictInputSerializer):
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class EnterpriseEntitlementList(generics.ListAPIView):
    request: AuthenticatedRequest  # the permission classes let only signed-in users through
    serializer_class = EntitlementSerializer
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[Entitlement]:
        enterprise = enterprise_get_for_user(user=self.request.user, credit_code=self.kwargs["credit_code"])
        return selectors.entitlements_for_enterprise(enterprise=enterprise)


class _EnterpriseAction(APIView):
    input_serializer: type[serializers.Serializer] | None = None

    def entitlement(self, request: AuthenticatedRequest, credit_code: str, pk: int) -> Entitlement:
        enterprise = enterprise_get_for_user(user=request.user, credit_code=credit_code)
        return selectors.entitlement_get_for_user(user=request.user, enterprise=enterprise, entitlement_id=pk)


class EntitlementConfirm(_EnterpriseAction):
    @extend_schema(request=None, responses=EntitlementSerializer, summary="企业确认免申即享兑现")
    def post(self, request: AuthenticatedRequest, credit_code: str, pk: int) -> Response:
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
    def post(self, request: AuthenticatedRequest, credit_code: str, pk: int) -> Response:
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


class StaffEntitlementList(generics.ListAPIView):
    """All entitlements; `?status=pending_review` lists 待复核, `?recovery=1` the possible 追回 cases."""

    request: AuthenticatedRequest  # the permission classes let only signed-in users through

    serializer_class = StaffEntitlementSerializer
    permission_classes = [IsStaff]
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[Entitlement]:
        status_filter = self.request.query_params.get("status") or None
        if status_filter and status_filter not in Entitlement.Status.values:
            raise ApplicationError("状态不正确", code="invalid_choice", field="status")
        recovery = self.request.query_params.get("recovery") in ("1", "true")
        return selectors.entitlements_for_staff(user=self.request.user, status=status_filter, recovery=recovery)


class _StaffAction(APIView):
    request: AuthenticatedRequest  # the permission classes let only signed-in users through
    permission_classes = [IsStaff]

    def entitlement(self, request: AuthenticatedRequest, pk: int) -> Entitlement:
        from django.http import Http404

        found = selectors.entitlements_for_staff(user=request.user).filter(pk=pk).first()
        if found is None:
            raise Http404
        return found

    def respond(self, entitlement: Entitlement) -> Response:
        return Response(
            StaffEntitlementSerializer(
                selectors.entitlements_for_staff(user=self.request.user).get(pk=entitlement.pk)
            ).data,
            status=status.HTTP_200_OK,
        )


class StaffDisburse(_StaffAction):
    @extend_schema(request=None, responses=StaffEntitlementSerializer, summary="标记已兑现")
    def post(self, request: AuthenticatedRequest, pk: int) -> Response:
        return self.respond(services.entitlement_disburse(entitlement=self.entitlement(request, pk), by=request.user))


class StaffRevoke(_StaffAction):
    @extend_schema(request=ReasonSerializer, responses=StaffEntitlementSerializer, summary="撤销兑现记录")
    def post(self, request: AuthenticatedRequest, pk: int) -> Response:
        data = ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self.respond(
            services.entitlement_revoke(
                entitlement=self.entitlement(request, pk), by=request.user, reason=data.validated_data["reason"]
            )
        )


class StaffResolve(_StaffAction):
    @extend_schema(
        request=ResolveSerializer,
        responses=StaffEntitlementSerializer,
        summary="处理企业异议（维持认定不等于企业确认：记录回到待确认）",
    )
    def post(self, request: AuthenticatedRequest, pk: int) -> Response:
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


class StaffReview(_StaffAction):
    @extend_schema(request=ReviewSerializer, responses=StaffEntitlementSerializer, summary="复核“待复核”的兑现记录")
    def post(self, request: AuthenticatedRequest, pk: int) -> Response:
        data = ReviewSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self.respond(
            services.entitlement_review_resolve(
                entitlement=self.entitlement(request, pk),
                by=request.user,
                decision=data.validated_data["decision"],
                reason=data.validated_data["reason"],
            )
        )


class StaffRecoveryNote(_StaffAction):
    @extend_schema(request=NoteSerializer, responses=StaffEntitlementSerializer, summary="记录可能追回案件的核查意见")
    def post(self, request: AuthenticatedRequest, pk: int) -> Response:
        data = NoteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self.respond(
            services.entitlement_recovery_note(
                entitlement=self.entitlement(request, pk), by=request.user, note=data.validated_data["note"]
            )
        )
