"""数据纠错 API: an enterprise's own requests (send, read, evidence) and a department's queue (read, accept,
reject, assign). Scoped by the selectors: another enterprise's user, another department's officer or any
other staff gets 404 on every request, evidence file and action, and nothing changes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.http import FileResponse
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.accounts.permissions import IsStaff
from portal.api.exceptions import ApplicationError
from portal.api.parsers import BoundedJSONParser
from portal.enterprises.selectors import enterprise_get_for_user

from .. import selectors, services
from ..http import evidence_response
from ..models import CorrectionEvidence, CorrectionRequest
from .serializers import (
    CorrectionAssignSerializer,
    CorrectionCreateSerializer,
    CorrectionNoteSerializer,
    CorrectionReasonSerializer,
    CorrectionSerializer,
    evidence_files,
)

if TYPE_CHECKING:
    from portal.accounts.requests import AuthenticatedRequest


def _enterprise_url(e: CorrectionEvidence) -> str:
    return reverse("enterprise-correction-evidence", args=[e.request.enterprise.credit_code, e.request_id, e.pk])


def _staff_url(e: CorrectionEvidence) -> str:
    return reverse("staff-correction-evidence", args=[e.request_id, e.pk])


class _EnterpriseScope(APIView):
    request: AuthenticatedRequest

    def requests(self, request: AuthenticatedRequest, credit_code: str) -> QuerySet[CorrectionRequest]:
        enterprise = enterprise_get_for_user(user=request.user, credit_code=credit_code)
        return selectors.requests_for_enterprise(user=request.user, enterprise=enterprise)

    def correction(self, request: AuthenticatedRequest, credit_code: str, pk: int) -> CorrectionRequest:
        enterprise = enterprise_get_for_user(user=request.user, credit_code=credit_code)
        return selectors.request_get_for_enterprise(user=request.user, enterprise=enterprise, request_id=pk)

    def respond(self, correction: CorrectionRequest, code: int = status.HTTP_200_OK) -> Response:
        context = {"evidence_url": _enterprise_url, "staff": False}
        return Response(CorrectionSerializer(correction, context=context).data, status=code)


class EnterpriseCorrectionList(_EnterpriseScope, generics.ListAPIView):
    serializer_class = CorrectionSerializer
    filter_backends: list[Any] = []
    parser_classes = [MultiPartParser, FormParser, BoundedJSONParser]

    def get_queryset(self) -> QuerySet[CorrectionRequest]:
        return self.requests(self.request, self.kwargs["credit_code"]).prefetch_related("evidence", "transitions")

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "evidence_url": _enterprise_url, "staff": False}

    @extend_schema(operation_id="enterprise_corrections_list", summary="本企业的数据纠错、申请核验")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="enterprise_corrections_create",
        request={"multipart/form-data": CorrectionCreateSerializer, "application/json": CorrectionCreateSerializer},
        responses={201: CorrectionSerializer},
        summary="此数据有误 / 申请核验：送该信息项的主管部门办理（证明材料为文件字段 evidence，可重复）",
    )
    def post(self, request: AuthenticatedRequest, credit_code: str) -> Response:
        enterprise = enterprise_get_for_user(user=request.user, credit_code=credit_code)
        selectors.requests_for_enterprise(user=request.user, enterprise=enterprise)  # members only: 404 otherwise
        data = CorrectionCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        correction = services.correction_submit(
            enterprise=enterprise,
            by=request.user,
            fact=data.validated_data["fact"],
            kind=data.validated_data["kind"],
            value=data.validated_data["value"],
            statement=data.validated_data["statement"],
            files=evidence_files(request),
        )
        return self.respond(correction, status.HTTP_201_CREATED)


class EnterpriseCorrectionDetail(_EnterpriseScope):
    @extend_schema(operation_id="enterprise_correction_retrieve", responses=CorrectionSerializer, summary="申请详情")
    def get(self, request: AuthenticatedRequest, credit_code: str, pk: int) -> Response:
        return self.respond(self.correction(request, credit_code, pk))


class EnterpriseCorrectionEvidence(_EnterpriseScope):
    @extend_schema(
        operation_id="enterprise_correction_evidence",
        responses={(200, "application/octet-stream"): bytes},
        summary="下载证明材料",
    )
    def get(self, request: AuthenticatedRequest, credit_code: str, pk: int, evidence_id: int) -> FileResponse:
        correction = self.correction(request, credit_code, pk)
        return evidence_response(selectors.evidence_get(correction=correction, evidence_id=evidence_id))


# --- The department's queue ---------------------------------------------------------------------


class StaffCorrectionList(generics.ListAPIView):
    request: AuthenticatedRequest
    serializer_class = CorrectionSerializer
    permission_classes = [IsStaff]
    filter_backends: list[Any] = []

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "evidence_url": _staff_url, "staff": True}

    @extend_schema(
        operation_id="staff_corrections_list",
        parameters=[
            OpenApiParameter("status", str, enum=CorrectionRequest.Status.values, description="按状态筛选"),
            OpenApiParameter("overdue", bool, description="true：只看已逾期的待办申请"),
        ],
        summary="本部门的数据纠错、申请核验待办（数据专员；只含所指派部门的申请）",
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[CorrectionRequest]:
        params = self.request.query_params
        status_filter = params.get("status") or None
        if status_filter and status_filter not in CorrectionRequest.Status.values:
            raise ApplicationError("状态不正确", code="invalid_choice", field="status")
        overdue = params.get("overdue") or ""
        if overdue not in ("", "true", "false"):
            raise ApplicationError("overdue 应为 true 或 false", code="invalid", field="overdue")
        return selectors.queue_for_staff(
            user=self.request.user, status=status_filter, overdue=overdue == "true"
        ).prefetch_related("evidence", "transitions")


class _StaffScope(APIView):
    request: AuthenticatedRequest
    permission_classes = [IsStaff]

    def correction(self, request: AuthenticatedRequest, pk: int) -> CorrectionRequest:
        return selectors.request_get_for_staff(user=request.user, request_id=pk)

    def respond(self, correction: CorrectionRequest) -> Response:
        fresh = selectors.request_get_for_staff(user=self.request.user, request_id=correction.pk)
        context = {"evidence_url": _staff_url, "staff": True}
        return Response(CorrectionSerializer(fresh, context=context).data)


class StaffCorrectionDetail(_StaffScope):
    @extend_schema(operation_id="staff_correction_retrieve", responses=CorrectionSerializer, summary="申请详情（部门）")
    def get(self, request: AuthenticatedRequest, pk: int) -> Response:
        return self.respond(self.correction(request, pk))


class StaffCorrectionEvidence(_StaffScope):
    @extend_schema(
        operation_id="staff_correction_evidence",
        responses={(200, "application/octet-stream"): bytes},
        summary="下载证明材料（部门）",
    )
    def get(self, request: AuthenticatedRequest, pk: int, evidence_id: int) -> FileResponse:
        correction = self.correction(request, pk)
        return evidence_response(selectors.evidence_get(correction=correction, evidence_id=evidence_id))


class StaffCorrectionAccept(_StaffScope):
    @extend_schema(
        operation_id="staff_correction_accept",
        request=CorrectionNoteSerializer,
        responses=CorrectionSerializer,
        summary="采纳：以本部门为来源、今天为数据日期写入该值，并立即重新匹配政策",
    )
    def post(self, request: AuthenticatedRequest, pk: int) -> Response:
        correction = self.correction(request, pk)
        data = CorrectionNoteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self.respond(
            services.correction_accept(correction=correction, by=request.user, note=data.validated_data["note"])
        )


class StaffCorrectionReject(_StaffScope):
    @extend_schema(
        operation_id="staff_correction_reject",
        request=CorrectionReasonSerializer,
        responses=CorrectionSerializer,
        summary="不予采纳（须填写理由，企业可见）",
    )
    def post(self, request: AuthenticatedRequest, pk: int) -> Response:
        correction = self.correction(request, pk)
        data = CorrectionReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self.respond(
            services.correction_reject(correction=correction, by=request.user, reason=data.validated_data["reason"])
        )


class StaffCorrectionAssign(_StaffScope):
    @extend_schema(
        operation_id="staff_correction_assign",
        request=CorrectionAssignSerializer,
        responses=CorrectionSerializer,
        summary="改派责任人（本部门数据专员）",
    )
    def post(self, request: AuthenticatedRequest, pk: int) -> Response:
        correction = self.correction(request, pk)
        data = CorrectionAssignSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        assignee = get_user_model().objects.filter(pk=data.validated_data["assignee"]).first()
        if assignee is None:
            raise ApplicationError("未找到该用户", code="does_not_exist", field="assignee")
        return self.respond(services.correction_assign(correction=correction, by=request.user, assignee=assignee))
