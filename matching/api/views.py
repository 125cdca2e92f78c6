"""GET /api/v1/enterprises/{credit_code}/matches/: an enterprise's matched policies, eligible first."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from matching import matches_cache
from matching.models import MatchOutcome, MatchRecord
from matching.selectors import enterprise_matches
from policies.models import PolicyVersion
from portal.api.exceptions import ApplicationError
from portal.enterprises.selectors import enterprise_id_for_user

if TYPE_CHECKING:
    from portal.accounts.requests import AuthenticatedRequest


_DATE = serializers.DateField()
# get_FOO_display() rebuilds its choices dict on every call; these are the same labels, built once.
_MODE_LABELS = dict(PolicyVersion._meta.get_field("mode").flatchoices)
_OUTCOME_LABELS = dict(MatchRecord._meta.get_field("outcome").flatchoices)


def _datetime(value: datetime, zone: tzinfo) -> str:
    """As serializers.DateTimeField renders an aware datetime: ISO 8601 in the current zone, UTC as Z."""
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


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

    def to_representation(self, record: MatchRecord) -> dict[str, Any]:
        """The same dict as the declared fields give (a test compares them), built directly.

        DRF's generic path costs about half the request here: per field and record it resolves the
        dotted source and inspects each callable's signature. The fields above stay the schema.
        """
        version = record.policy_version
        application_end = version.application_end
        zone = timezone.get_current_timezone()
        return {
            "id": record.pk,
            "policy_id": version.policy_id,
            "policy_key": str(version.policy.key),
            "version_id": record.policy_version_id,
            "title": str(version.title),
            "mode": str(version.mode),
            "mode_label": str(_MODE_LABELS.get(version.mode, version.mode)),
            "benefit_kind": str(version.benefit_kind),
            "department": str(version.department),
            "application_end": None if application_end is None else _DATE.to_representation(application_end),
            "outcome": record.outcome,
            "outcome_label": str(_OUTCOME_LABELS.get(record.outcome, record.outcome)),
            "verified": record.verified,
            "summary": str(self.get_summary(record)),
            "missing": self.get_missing(record),
            "explanation": record.explanation,
            "change": str(record.change_kind),
            "first_decided_at": _datetime(record.first_decided_at, zone),
            "decided_at": _datetime(record.decided_at, zone),
        }

    def get_summary(self, record: MatchRecord) -> str:
        return (record.explanation or {}).get("summary", "")

    def get_missing(self, record: MatchRecord) -> list[str]:
        """The smallest set of conditions between the enterprise and eligibility, in words."""
        explanation = record.explanation or {}
        by_path = {c["path"]: c for c in explanation.get("conditions", [])}
        return [by_path[p]["requirement"] for p in explanation.get("missing", []) if p in by_path]


MATCH_LIST_FIELDS = (
    "outcome",
    "verified",
    "explanation",
    "previous_outcome",
    "previous_verified",
    "first_decided_at",
    "decided_at",
    "policy_version__policy_id",
    "policy_version__title",
    "policy_version__mode",
    "policy_version__benefit_kind",
    "policy_version__department",
    "policy_version__application_end",
    "policy_version__policy__key",
)


@extend_schema(
    parameters=[OpenApiParameter("outcome", str, enum=MatchOutcome.values, description="只看某一结果")],
    summary="企业的政策匹配结果（符合的在前，含判定说明与“还差什么”）",
)
class EnterpriseMatchesView(generics.ListAPIView):
    request: AuthenticatedRequest  # the permission classes let only signed-in users through
    serializer_class = MatchSerializer
    filter_backends: list[Any] = []

    # A stored page is sent as a plain HttpResponse (DRF passes any HttpResponseBase through); the stubs
    # declare Response only.
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response | HttpResponse:  # type: ignore[override]
        # Who may see the enterprise is decided first, on every request: 404 for a stranger, before
        # anything stored is looked at (matching.matches_cache keys pages by the enterprise it checked).
        self.enterprise_id = enterprise_id_for_user(user=self.request.user, credit_code=self.kwargs["credit_code"])
        self.outcome = self._outcome()
        if not matches_cache.enabled() or request.accepted_renderer.format != "json":
            return super().list(request, *args, **kwargs)
        try:
            stamp = matches_cache.stamps(self.enterprise_id)
        except Exception:  # the shared cache is down: build the page as if there were no store
            return super().list(request, *args, **kwargs)
        if stamp is None:
            return super().list(request, *args, **kwargs)
        key = matches_cache.page_key(
            enterprise_id=self.enterprise_id,
            stamp=stamp,
            base_url=request.build_absolute_uri("/"),
            query=f"{request.accepted_media_type}?{request.GET.urlencode()}",
        )
        body, content_type = matches_cache.cached_page(key, lambda: self._rendered(request, *args, **kwargs))
        return HttpResponse(body, content_type=content_type)

    def _outcome(self) -> str | None:
        outcome = self.request.query_params.get("outcome") or None
        if outcome is not None and outcome not in MatchOutcome.values:
            raise ApplicationError(
                "结果只能是 eligible、needs_info 或 ineligible", code="invalid_choice", field="outcome"
            )
        return outcome

    def _rendered(self, request: Request, *args: Any, **kwargs: Any) -> tuple[bytes, str]:
        """The page as the JSON renderer sends it (a bad page number raises here, and nothing is stored)."""
        response = super().list(request, *args, **kwargs)
        response.accepted_renderer = request.accepted_renderer
        response.accepted_media_type = request.accepted_media_type
        # DRF's finalize_response sets this attribute at run time; the stubs do not declare it.
        response.renderer_context = self.get_renderer_context()  # type: ignore[attr-defined]
        return response.rendered_content, response["Content-Type"]

    def get_queryset(self) -> QuerySet[MatchRecord]:
        # Only the columns MatchSerializer shows: a version's rule, body and materials are large, unlisted.
        return enterprise_matches(enterprise=self.enterprise_id, outcome=self.outcome).only(*MATCH_LIST_FIELDS)
