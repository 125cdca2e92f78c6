"""Receipt API: an enterprise's receipts (its own users and staff; 404 for anyone else) and one receipt."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.enterprises.selectors import enterprise_get_for_user

from . import selectors
from .models import Receipt

if TYPE_CHECKING:
    from portal.accounts.requests import AuthenticatedRequest


class ReceiptSerializer(serializers.Serializer):
    """A receipt (认定依据) as a document: what the decision rested on, never changed after it was written."""

    receipt_id = serializers.IntegerField()
    kind = serializers.CharField(help_text="decision（匹配判定）| entitlement（兑现状态变化）")
    kind_label = serializers.CharField()
    at = serializers.CharField(help_text="生成时间（ISO 8601）")
    enterprise = serializers.JSONField(help_text="{credit_code, name}")
    policy_version = serializers.JSONField(help_text="{id, policy_id, number, title, mode, benefit_period}")
    rule = serializers.JSONField(help_text="该版本的匹配规则（据此可复核哈希）")
    rule_hash = serializers.CharField()
    rule_hash_algorithm = serializers.CharField()
    rule_hash_matches = serializers.BooleanField()
    engine_version = serializers.CharField()
    outcome = serializers.CharField()
    outcome_label = serializers.CharField()
    verified = serializers.BooleanField()
    previous_outcome = serializers.CharField()
    previous_outcome_label = serializers.CharField()
    previous_verified = serializers.BooleanField()
    entitlement_id = serializers.IntegerField(allow_null=True)
    status = serializers.CharField()
    status_label = serializers.CharField()
    previous_status = serializers.CharField()
    reason = serializers.CharField()
    by_role = serializers.CharField()
    basis_receipt_id = serializers.IntegerField(allow_null=True)
    facts = serializers.JSONField(help_text="所用数据：{事项: {label, value, source, source_label, as_of, verified}}")
    explanation = serializers.JSONField(allow_null=True, help_text="判定说明（各条件结果）")

    def to_representation(self, instance: Any) -> Any:
        return super().to_representation(selectors.receipt_document(instance))


class EnterpriseReceiptList(generics.ListAPIView):
    """The enterprise's receipts, newest first."""

    request: AuthenticatedRequest  # the permission classes let only signed-in users through
    serializer_class = ReceiptSerializer
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[Receipt]:
        enterprise = enterprise_get_for_user(user=self.request.user, credit_code=self.kwargs["credit_code"])
        return selectors.receipts_queryset_for_user(user=self.request.user).filter(enterprise=enterprise)


class ReceiptDetail(APIView):
    @extend_schema(operation_id="v1_receipts_retrieve", responses=ReceiptSerializer, summary="一条认定依据")
    def get(self, request: AuthenticatedRequest, pk: int) -> Response:
        return Response(ReceiptSerializer(selectors.receipt_get_for_user(user=request.user, receipt_id=pk)).data)
