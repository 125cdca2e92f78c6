"""在线申报 API: an enterprise's own applications (submit, read, withdraw, resubmit) and staff decisions.

Every enterprise endpoint resolves the enterprise through enterprise_get_for_user, so another
enterprise's user gets 404; attachments are streamed only from here (or the pages), never from /media/.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import FileResponse
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from policies.models import PolicyVersion
from portal.accounts.permissions import IsStaff
from portal.api.exceptions import ApplicationError
from portal.api.parsers import BoundedJSONParser
from portal.enterprises.selectors import enterprise_get_for_user

from .. import selectors, services
from ..http import attachment_response
from ..models import Application, ApplicationAttachment
from .serializers import (
    ApplicationCreateSerializer,
    ApplicationNoteSerializer,
    ApplicationReasonSerializer,
    ApplicationResubmitSerializer,
    ApplicationSerializer,
    files_from_request,
)

if TYPE_CHECKING:
    from portal.accounts.requests import AuthenticatedRequest


def _enterprise_urls(credit_code: str) -> Callable[[ApplicationAttachment], str]:
    return lambda a: reverse("enterprise-application-attachment", args=[credit_code, a.application_id, a.pk])


def _staff_urls(a: ApplicationAttachment) -> str:
    return reverse("staff-application-attachment", args=[a.application_id, a.pk])


def _attachment(request: AuthenticatedRequest, application: Application, attachment_id: int) -> ApplicationAttachment:
    """The attachment, or 403 with a stable code for staff outside the deciding roles (the file is personal data)."""
    try:
        return selectors.attachment_get_for_user(
            user=request.user, application=application, attachment_id=attachment_id
        )
    except PermissionDenied as refusal:
        raise ApplicationError(str(refusal), code="personal_data_restricted", http_status=403) from None


class _EnterpriseScope(APIView):
    def enterprise(self, request: AuthenticatedRequest, credit_code: str) -> Any:
        return enterprise_get_for_user(user=request.user, credit_code=credit_code)

    def application(self, request: AuthenticatedRequest, credit_code: str, pk: int) -> Application:
        enterprise = self.enterprise(request, credit_code)
        return selectors.application_get_for_user(user=request.user, enterprise=enterprise, application_id=pk)

    def respond(self, application: Application, code: int = status.HTTP_200_OK) -> Response:
        fresh = selectors.applications_for_enterprise(enterprise=application.enterprise).get(pk=application.pk)
        context = {"attachment_url": _enterprise_urls(application.enterprise.credit_code), "viewer": self.request.user}
        return Response(ApplicationSerializer(fresh, context=context).data, status=code)


class EnterpriseApplicationList(_EnterpriseScope, generics.ListAPIView):
    request: AuthenticatedRequest  # the permission classes let only signed-in users through
    serializer_class = ApplicationSerializer
    filter_backends: list[Any] = []
    parser_classes = [MultiPartParser, FormParser, BoundedJSONParser]

    def get_queryset(self) -> QuerySet[Application]:
        return selectors.applications_for_enterprise(
            enterprise=self.enterprise(self.request, self.kwargs["credit_code"])
        )

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "attachment_url": _enterprise_urls(self.kwargs["credit_code"])}

    @extend_schema(
        request={"multipart/form-data": ApplicationCreateSerializer},
        responses={201: ApplicationSerializer},
        summary="在线申报（一次提交全部材料；文件字段 material_<序号>，序号为申报材料清单中的位置，从 0 开始）",
    )
    def post(self, request: AuthenticatedRequest, credit_code: str) -> Response:
        enterprise = self.enterprise(request, credit_code)
        data = ApplicationCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        version = PolicyVersion.objects.filter(pk=data.validated_data["policy_version"]).first()
        if version is None:
            raise ApplicationError("未找到该政策版本", code="does_not_exist", field="policy_version")
        application = services.application_submit(
            enterprise=enterprise,
            version=version,
            by=request.user,
            contact_name=data.validated_data["contact_name"],
            contact_phone=data.validated_data["contact_phone"],
            statement=data.validated_data["statement"],
            files=files_from_request(request),
        )
        return self.respond(application, status.HTTP_201_CREATED)


class EnterpriseApplicationDetail(_EnterpriseScope, APIView):
    @extend_schema(responses=ApplicationSerializer, summary="申报详情（含状态时间线和材料）")
    def get(self, request: AuthenticatedRequest, credit_code: str, pk: int) -> Response:
        return self.respond(self.application(request, credit_code, pk))


class EnterpriseApplicationWithdraw(_EnterpriseScope, APIView):
    @extend_schema(
        request=ApplicationReasonSerializer, responses=ApplicationSerializer, summary="撤回申报（受理决定前）"
    )
    def post(self, request: AuthenticatedRequest, credit_code: str, pk: int) -> Response:
        application = self.application(request, credit_code, pk)
        data = ApplicationReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self.respond(
            services.application_withdraw(
                application=application, by=request.user, reason=data.validated_data["reason"]
            )
        )


class EnterpriseApplicationResubmit(_EnterpriseScope, APIView):
    parser_classes = [MultiPartParser, FormParser, BoundedJSONParser]

    @extend_schema(
        request={"multipart/form-data": ApplicationResubmitSerializer},
        responses=ApplicationSerializer,
        summary="退回补正后重新提交（上传的材料替换该项原有文件）",
    )
    def post(self, request: AuthenticatedRequest, credit_code: str, pk: int) -> Response:
        application = self.application(request, credit_code, pk)
        data = ApplicationResubmitSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self.respond(
            services.application_resubmit(
                application=application, by=request.user, files=files_from_request(request), **data.validated_data
            )
        )


class EnterpriseAttachmentDownload(_EnterpriseScope, APIView):
    @extend_schema(responses={(200, "application/octet-stream"): bytes}, summary="下载申报材料")
    def get(self, request: AuthenticatedRequest, credit_code: str, pk: int, attachment_id: int) -> FileResponse:
        application = self.application(request, credit_code, pk)
        return attachment_response(_attachment(request, application, attachment_id))


# --- Staff --------------------------------------------------------------------------------------


class StaffApplicationList(generics.ListAPIView):
    request: AuthenticatedRequest  # the permission classes let only signed-in users through
    serializer_class = ApplicationSerializer
    permission_classes = [IsStaff]
    filter_backends: list[Any] = []

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "attachment_url": _staff_urls}

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=Application.Status.values, description="按状态筛选"),
            OpenApiParameter("policy", int, description="按政策 id 筛选"),
        ],
        summary="申报列表（工作人员）",
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Application]:
        params = self.request.query_params
        status_filter = params.get("status") or None
        if status_filter and status_filter not in Application.Status.values:
            raise ApplicationError("状态不正确", code="invalid_choice", field="status")
        policy = params.get("policy") or None
        if policy is not None and not policy.isdigit():
            raise ApplicationError("政策 id 应为整数", code="invalid", field="policy")
        return selectors.applications_for_staff(
            user=self.request.user, status=status_filter, policy_id=int(policy) if policy else None
        )


class _StaffScope(APIView):
    request: AuthenticatedRequest  # the permission classes let only signed-in users through
    permission_classes = [IsStaff]

    def application(self, request: AuthenticatedRequest, pk: int) -> Application:
        return selectors.application_get_for_staff(user=request.user, application_id=pk)

    def respond(self, application: Application) -> Response:
        fresh = selectors.application_get_for_staff(user=self.request.user, application_id=application.pk)
        context = {"attachment_url": _staff_urls, "viewer": self.request.user}
        return Response(ApplicationSerializer(fresh, context=context).data)


class StaffApplicationDetail(_StaffScope):
    @extend_schema(responses=ApplicationSerializer, summary="申报详情（工作人员）")
    def get(self, request: AuthenticatedRequest, pk: int) -> Response:
        return self.respond(self.application(request, pk))


class StaffAttachmentDownload(_StaffScope):
    @extend_schema(responses={(200, "application/octet-stream"): bytes}, summary="下载申报材料（工作人员）")
    def get(self, request: AuthenticatedRequest, pk: int, attachment_id: int) -> FileResponse:
        return attachment_response(_attachment(request, self.application(request, pk), attachment_id))


class StaffApplicationAction(_StaffScope):
    """accept / approve (optional note) and reject / return (reason required)."""

    action = ""

    @extend_schema(request=ApplicationReasonSerializer, responses=ApplicationSerializer, summary="办理申报（工作人员）")
    def post(self, request: AuthenticatedRequest, pk: int) -> Response:
        application = self.application(request, pk)
        if self.action in ("accept", "approve"):
            note = ApplicationNoteSerializer(data=request.data)
            note.is_valid(raise_exception=True)
            accept = services.application_accept if self.action == "accept" else services.application_approve
            return self.respond(accept(application=application, by=request.user, note=note.validated_data["note"]))
        reason = ApplicationReasonSerializer(data=request.data)
        reason.is_valid(raise_exception=True)
        refuse = services.application_reject if self.action == "reject" else services.application_return
        return self.respond(refuse(application=application, by=request.user, reason=reason.validated_data["reason"]))
