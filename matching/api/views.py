"""GET /api/v1/enterprises/{credit_code}/matches/: an enterprise's matched policies, eligible first."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers

from matching.models import MatchRecord, Outcome
from matching.selectors import enterprise_matches
from portal.api.exceptions import ApplicationError
from portal.enterprises.selectors import enterprise_get_for_user

if TYPE_CHECKING:
    from portal.accounts.requests import AuthenticatedRequest


class MatchSerializer(serializers.ModelSerializer):
    policy_id = serializers.IntegerField(source="policy_version.policy_id")
    policy_key = serializers.CharField(source="policy_version.policy.key")
    version_id = serializers.IntegerField(source="policy_version_id")
    title = serializers.CharField(source="policy_version.title")
    mode = serializers.CharField(source="policy_version.mode")
    mode_label = serializers.CharField(source="policy_version.get_mode_display")
    benefit_kind = serializers.CharField(source="policy_version.benefit_kind")
    department = serializers.CharField(source="policy_version.department")
    application_end = serializers.DateField(source="policy_version.application_end", allow_null=True)
    outcome_label = serializers.CharField(source="get_outcome_display")
    change = serializers.CharField(source="change_kind")
    summary = serializers.SerializerMethodField()
    missing = serializers.SerializerMethodField()

    class Meta:
        model = MatchRecord
        fields = (
            "id",
            "policy_id",
            "policy_key",
            "version_id",
            "title",
            "mode",
            "mode_label",
            "benefit_kind",
            "department",
            "application_end",
            "outcome",
            "outcome_label",
            "verified",
            "summary",
            "missing",
            "explanation",
            "change",
            "first_decided_at",
            "decided_at",
        )

    def get_summary(self, record: MatchRecord) -> str:
        return (record.explanation or {}).get("summary", "")

    def get_missing(self, record: MatchRecord) -> list[str]:
        """The smallest set of conditions between the enterprise and eligibility, in words."""
        explanation = record.explanation or {}
        by_path = {c["path"]: c for c in explanation.get("conditions", [])}
        return [by_path[p]["requirement"] for p in explanation.get("missing", []) if p in by_path]


@extend_schema(
    parameters=[OpenApiParameter("outcome", str, enum=Outcome.values, description="只看某一结果")],
    summary="企业的政策匹配结果（符合的在前，含判定说明与“还差什么”）",
)
class EnterpriseMatchesView(generics.ListAPIView):
    request: AuthenticatedRequest  # the permission classes let only signed-in users through
    serializer_class = MatchSerializer
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[MatchRecord]:
        request = self.request
        enterprise = enterprise_get_for_user(user=request.user, credit_code=self.kwargs["credit_code"])
        outcome = request.query_params.get("outcome") or None
        if outcome is not None and outcome not in Outcome.values:
            raise ApplicationError(
                "结果只能是 eligible、needs_info 或 ineligible", code="invalid_choice", field="outcome"
            )
        return enterprise_matches(enterprise=enterprise, outcome=outcome)
