"""Policy API views: parse input, call one selector or service, render. No business rules here."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from matching.core.calculator import profile_from_declared
from portal.accounts.permissions import IsStaff
from portal.api.pagination import PAGE_PARAMETERS, PagePagination, paginated
from portal.api.spreadsheets import append_text_safe_row, safe_cell
from portal.api.throttling import AtomicAnonRateThrottle
from portal.enterprises.place_names import place_names

from .. import public_cache, selectors, services
from ..golden import golden_check
from ..models import GoldenCase, Policy, PolicyVersion
from . import serializers as s

if TYPE_CHECKING:
    from portal.accounts.requests import AuthenticatedRequest


# Public: the 政策清单 and the 政策计算器. Anyone may read; unpublished policies are 404.


def _filters(request: Request) -> dict[str, Any]:
    serializer = s.PolicyFilterSerializer(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class PolicyListApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="policies_list",
        parameters=[s.PolicyFilterSerializer, *PAGE_PARAMETERS],
        responses=paginated(s.PublicPolicyListSerializer),
        summary="政策清单（已发布且在有效期内）",
    )
    def get(self, request: Request) -> Response | HttpResponse:
        if not public_cache.enabled() or request.accepted_renderer.format != "json":
            return self._page(request)
        try:
            version = public_cache.catalogue_version()
        except Exception:  # the shared cache is down: build the page as if there were no store
            return self._page(request)
        key = public_cache.page_key(
            version=version,
            base_url=request.build_absolute_uri("/"),
            query=f"{request.accepted_media_type}?{request.GET.urlencode()}",
        )
        body, content_type = public_cache.cached_page(key, lambda: self._rendered(request))
        return HttpResponse(body, content_type=content_type)

    def _page(self, request: Request) -> Response:
        versions = selectors.policy_list(filters=_filters(request))
        paginator = PagePagination()
        page = paginator.paginate_queryset(versions, request, view=self)
        return paginator.get_paginated_response(s.PublicPolicyListSerializer(page, many=True).data)

    def _rendered(self, request: Request) -> tuple[bytes, str]:
        """The page as the JSON renderer sends it (invalid filters raise here, and nothing is stored)."""
        response = self._page(request)
        response.accepted_renderer = request.accepted_renderer
        response.accepted_media_type = request.accepted_media_type
        # DRF's finalize_response sets this attribute at run time; the stubs do not declare it.
        response.renderer_context = self.get_renderer_context()  # type: ignore[attr-defined]
        return response.rendered_content, response["Content-Type"]


EXPORT_COLUMNS: tuple[tuple[str, Callable[[PolicyVersion], Any]], ...] = (
    ("政策编号", lambda v: v.policy_id),
    ("政策名称", lambda v: v.title),
    ("惠企类型", lambda v: v.get_benefit_kind_display()),
    ("兑现方式", lambda v: v.get_mode_display()),
    ("兑现期", lambda v: v.benefit_period_label),
    ("责任部门", lambda v: v.department),
    ("责任人", lambda v: v.contact_name),
    ("联系电话", lambda v: v.contact_phone),
    ("政策摘要", lambda v: v.summary),
    ("惠企内容", lambda v: v.benefit_description),
    ("最高金额（万元）", lambda v: v.amount_max_wan),
    ("金额说明", lambda v: v.amount_note),
    ("申报开始", lambda v: v.application_start),
    ("申报截止", lambda v: v.application_end),
    ("生效日期", lambda v: v.effective_from),
    ("失效日期", lambda v: v.effective_to),
    ("出处", lambda v: v.source_section),
    ("版本", lambda v: v.number),
)


def _export_name(extension: str) -> str:
    return f"huiqi-policies-{timezone.localdate().isoformat()}.{extension}"


class PolicyExportXlsxApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="policies_export_xlsx",
        parameters=[s.PolicyFilterSerializer],
        responses={(200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"): OpenApiTypes.BINARY},
        summary="导出政策清单（Excel）",
    )
    def get(self, request: Request) -> HttpResponse:
        from openpyxl import Workbook

        versions = selectors.policy_list(filters=_filters(request))
        workbook = Workbook()
        sheet = workbook.active
        assert sheet is not None  # a new workbook has its one sheet
        sheet.title = "政策清单"
        sheet.append([title for title, _ in EXPORT_COLUMNS])
        for version in versions:
            append_text_safe_row(sheet, [get(version) for _, get in EXPORT_COLUMNS])
        buffer = io.BytesIO()
        workbook.save(buffer)
        response = HttpResponse(
            buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        response["Content-Disposition"] = f'attachment; filename="{_export_name("xlsx")}"'
        return response


class PolicyExportCsvApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="policies_export_csv",
        parameters=[s.PolicyFilterSerializer],
        responses={(200, "text/csv"): OpenApiTypes.STR},
        summary="导出政策清单（CSV）",
    )
    def get(self, request: Request) -> HttpResponse:
        versions = selectors.policy_list(filters=_filters(request))
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([title for title, _ in EXPORT_COLUMNS])
        for version in versions:
            writer.writerow([safe_cell(get(version)) for _, get in EXPORT_COLUMNS])
        # The BOM lets Excel open the UTF-8 file with Chinese text intact.
        response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{_export_name("csv")}"'
        return response


class PolicyDetailApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="policies_retrieve",
        responses=s.PublicPolicyDetailSerializer,
        summary="政策详情（条件以中文表述）",
    )
    def get(self, request: Request, policy_id: int) -> Response:
        version = selectors.policy_public_get(policy_id=policy_id)
        return Response(s.PublicPolicyDetailSerializer(version).data)


class PolicyVersionsApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="policies_versions_list",
        responses=s.PublicVersionSummarySerializer(many=True),
        summary="政策的历次发布版本",
    )
    def get(self, request: Request, policy_id: int) -> Response:
        versions = selectors.policy_public_versions(policy_id=policy_id)
        return Response(s.PublicVersionSummarySerializer(versions, many=True).data)


class PolicyVersionDetailApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="policies_versions_retrieve",
        responses=s.PublicPolicyDetailSerializer,
        summary="政策某一发布版本的内容",
    )
    def get(self, request: Request, policy_id: int, number: int) -> Response:
        version = selectors.policy_public_version_get(policy_id=policy_id, number=number)
        return Response(s.PublicPolicyDetailSerializer(version).data)


class PolicyRuleInForceApi(APIView):
    """开放规则: the rule of a policy in force on a date, with its golden cases."""

    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="policies_rule_in_force",
        parameters=[s.RuleOnQuerySerializer],
        responses={
            200: s.OpenRuleInForceSerializer,
            404: OpenApiResponse(description="政策不存在，或当日没有生效的规则"),
        },
        summary="政策在某日生效的规则（开放规则）",
    )
    def get(self, request: Request, policy_id: int) -> Response:
        query = s.RuleOnQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        on = query.validated_data.get("on") or timezone.localdate()
        version = selectors.policy_rule_in_force(policy_id=policy_id, on=on)
        return Response(s.OpenRuleInForceSerializer(version, context={"on": on}).data)


class PolicyVersionRuleApi(APIView):
    """开放规则: one public version's rule and golden cases, by version number."""

    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="policies_versions_rule",
        responses=s.OpenRuleSerializer,
        summary="政策某一发布版本的规则与标准案例（开放规则）",
    )
    def get(self, request: Request, policy_id: int, number: int) -> Response:
        version = selectors.policy_public_version_get(policy_id=policy_id, number=number)
        return Response(s.OpenRuleSerializer(version).data)


class FactRegistryApi(APIView):
    """开放规则: the facts a rule may name, their types and units, and the departments that verify each."""

    permission_classes = [AllowAny]

    @extend_schema(operation_id="facts_list", responses=s.OpenFactSerializer(many=True), summary="事实清单（开放规则）")
    def get(self, request: Request) -> Response:
        return Response(s.OpenFactSerializer(selectors.fact_registry_public(), many=True).data)


class EligibilityCheckApi(APIView):
    """The public 政策计算器: facts in, every published policy's outcome out. Nothing is stored."""

    permission_classes = [AllowAny]
    # Anonymous callers are limited by the "anon" rate (settings DEFAULT_THROTTLE_RATES).
    throttle_classes = [AtomicAnonRateThrottle]

    @extend_schema(
        operation_id="eligibility_check",
        request=s.CalculatorInputSerializer,
        responses=s.CalculatorOutputSerializer,
        summary="政策计算器",
    )
    def post(self, request: Request) -> Response:
        serializer = s.CalculatorInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            profile = profile_from_declared(serializer.validated_data["facts"])
        except ValueError as error:
            # DeclaredFactsError lists every problem; each becomes a field error named facts.<field>.
            problems = getattr(error, "errors", None) or [error]
            fields: dict[str, list[ValidationError]] = {}
            for problem in problems:
                name = getattr(problem, "field", "") or ""
                fields.setdefault(f"facts.{name}" if name else "facts", []).append(
                    ValidationError(getattr(problem, "message", str(problem)), code=getattr(problem, "code", "invalid"))
                )
            raise ValidationError(fields) from error
        on = timezone.localdate()
        results = selectors.eligibility_check(profile=profile, on=on)
        counts = {key: sum(1 for r in results if r.outcome.status == key) for key in selectors.OUTCOMES}
        body = {"on": on, "counts": counts, "results": results}
        return Response(s.CalculatorOutputSerializer(body).data)


# Staff: any staff role may read; services check the role each write needs (403 otherwise).


class StaffApi(APIView):
    permission_classes = [IsStaff]


def _version(version_id: int) -> PolicyVersion:
    return get_object_or_404(selectors.staff_version_queryset(), pk=version_id)


class StaffPolicyListApi(StaffApi):
    @extend_schema(
        operation_id="staff_policies_list", parameters=PAGE_PARAMETERS, responses=paginated(s.StaffPolicySerializer)
    )
    def get(self, request: Request) -> Response:
        paginator = PagePagination()
        page = paginator.paginate_queryset(selectors.staff_policy_list(), request, view=self)
        return paginator.get_paginated_response(s.StaffPolicySerializer(page, many=True).data)

    @extend_schema(
        operation_id="staff_policies_create",
        request=s.PolicyCreateInputSerializer,
        responses={201: s.StaffVersionDetailSerializer},
        summary="新建政策（第1版草稿）",
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        serializer = s.PolicyCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        version = services.policy_create(by=request.user, **serializer.validated_data)
        return Response(s.StaffVersionDetailSerializer(_version(version.pk)).data, status=status.HTTP_201_CREATED)


class StaffPolicyDetailApi(StaffApi):
    @extend_schema(operation_id="staff_policies_retrieve", responses=s.StaffPolicySerializer)
    def get(self, request: Request, policy_id: int) -> Response:
        policy = get_object_or_404(selectors.staff_policy_list(), pk=policy_id)
        return Response(s.StaffPolicySerializer(policy).data)


class StaffPolicyNewVersionApi(StaffApi):
    @extend_schema(
        operation_id="staff_policies_new_version",
        request=None,
        responses={201: s.StaffVersionDetailSerializer},
        summary="在已发布版本基础上新建草稿",
    )
    def post(self, request: AuthenticatedRequest, policy_id: int) -> Response:
        policy = get_object_or_404(Policy, pk=policy_id)
        version = services.policy_version_create_draft(policy=policy, by=request.user)
        return Response(s.StaffVersionDetailSerializer(_version(version.pk)).data, status=status.HTTP_201_CREATED)


class StaffVersionDetailApi(StaffApi):
    @extend_schema(operation_id="staff_policy_versions_retrieve", responses=s.StaffVersionDetailSerializer)
    def get(self, request: Request, version_id: int) -> Response:
        return Response(s.StaffVersionDetailSerializer(_version(version_id)).data)

    @extend_schema(
        operation_id="staff_policy_versions_partial_update",
        request=s.VersionInputSerializer(partial=True),
        responses=s.StaffVersionDetailSerializer,
        summary="修改草稿",
    )
    def patch(self, request: AuthenticatedRequest, version_id: int) -> Response:
        version = _version(version_id)
        serializer = s.VersionInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        services.policy_version_update(version=version, by=request.user, **serializer.validated_data)
        return Response(s.StaffVersionDetailSerializer(_version(version_id)).data)


def _transition_api(action: str, service: Callable[..., PolicyVersion], summary: str) -> type[StaffApi]:
    """One POST endpoint per workflow step, each calling its service with the optional comment."""

    class TransitionApi(StaffApi):
        @extend_schema(
            operation_id=f"staff_policy_versions_{action}",
            request=s.CommentInputSerializer,
            responses=s.StaffVersionDetailSerializer,
            summary=summary,
        )
        def post(self, request: AuthenticatedRequest, version_id: int) -> Response:
            version = _version(version_id)
            serializer = s.CommentInputSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            service(version=version, by=request.user, comment=serializer.validated_data["comment"])
            return Response(s.StaffVersionDetailSerializer(_version(version_id)).data)

    TransitionApi.__name__ = f"StaffVersion{action.title()}Api"
    TransitionApi.__qualname__ = TransitionApi.__name__
    return TransitionApi


StaffVersionSubmitApi = _transition_api("submit", services.policy_submit, "提交审核")
StaffVersionApproveApi = _transition_api("approve", services.policy_approve, "审核通过（审核人不能是作者）")
StaffVersionRejectApi = _transition_api("reject", services.policy_reject, "退回修改（须说明原因）")
StaffVersionPublishApi = _transition_api("publish", services.policy_publish, "发布（标准案例须全部通过）")
StaffVersionRetireApi = _transition_api("retire", services.policy_retire, "停用（须说明原因）")


class StaffVersionPreviewApi(StaffApi):
    @extend_schema(
        operation_id="staff_policy_versions_preview",
        parameters=[s.PreviewQuerySerializer],
        responses=s.PreviewSerializer,
        summary="发布前预览：符合、需补充信息、不符合的企业数及样例",
    )
    def get(self, request: Request, version_id: int) -> Response:
        version = _version(version_id)
        query = s.PreviewQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        preview = selectors.policy_preview(
            version=version, on=query.validated_data.get("on"), sample_size=query.validated_data["sample_size"]
        )
        return Response(s.PreviewSerializer(preview).data)


def _golden_results(version: PolicyVersion) -> dict[str, Any]:
    return {result.name: result for result in golden_check(version, places=place_names())}


class StaffGoldenCaseListApi(StaffApi):
    @extend_schema(
        operation_id="staff_golden_cases_list",
        responses=s.GoldenCaseWithResultSerializer(many=True),
        summary="标准案例及其当前结果",
    )
    def get(self, request: Request, version_id: int) -> Response:
        version = _version(version_id)
        cases = selectors.staff_golden_cases(version=version)
        context = {"results": _golden_results(version)}
        return Response(s.GoldenCaseWithResultSerializer(cases, many=True, context=context).data)

    @extend_schema(
        operation_id="staff_golden_cases_create",
        request=s.GoldenCaseInputSerializer,
        responses={201: s.GoldenCaseSerializer},
    )
    def post(self, request: AuthenticatedRequest, version_id: int) -> Response:
        version = _version(version_id)
        serializer = s.GoldenCaseInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        case = services.golden_case_create(version=version, by=request.user, **serializer.validated_data)
        return Response(s.GoldenCaseSerializer(case).data, status=status.HTTP_201_CREATED)


class StaffGoldenCaseDetailApi(StaffApi):
    def _case(self, version_id: int, case_id: int) -> GoldenCase:
        return get_object_or_404(GoldenCase.objects.select_related("version"), pk=case_id, version_id=version_id)

    @extend_schema(operation_id="staff_golden_cases_retrieve", responses=s.GoldenCaseSerializer)
    def get(self, request: Request, version_id: int, case_id: int) -> Response:
        return Response(s.GoldenCaseSerializer(self._case(version_id, case_id)).data)

    @extend_schema(
        operation_id="staff_golden_cases_partial_update",
        request=s.GoldenCaseInputSerializer(partial=True),
        responses=s.GoldenCaseSerializer,
    )
    def patch(self, request: AuthenticatedRequest, version_id: int, case_id: int) -> Response:
        case = self._case(version_id, case_id)
        serializer = s.GoldenCaseInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        case = services.golden_case_update(case=case, by=request.user, **serializer.validated_data)
        return Response(s.GoldenCaseSerializer(case).data)

    @extend_schema(operation_id="staff_golden_cases_destroy", responses={204: OpenApiResponse(description="已删除")})
    def delete(self, request: AuthenticatedRequest, version_id: int, case_id: int) -> Response:
        services.golden_case_delete(case=self._case(version_id, case_id), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
