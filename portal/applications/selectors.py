"""Reads of 在线申报, scoped: an enterprise's users see their own applications, staff see all."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from django.http import Http404

from portal.accounts.roles import is_staff_user

from .models import Application, ApplicationAttachment, ApplicationTransition


def _queryset() -> QuerySet[Application]:
    return Application.objects.select_related(
        "enterprise", "policy_version", "policy_version__policy", "submitted_by"
    ).prefetch_related(
        Prefetch("transitions", queryset=ApplicationTransition.objects.select_related("by").order_by("at", "id")),
        Prefetch("attachments", queryset=ApplicationAttachment.objects.order_by("id")),
    )


def applications_for_enterprise(*, enterprise: Any) -> QuerySet[Application]:
    """The enterprise's applications. The caller has checked the user may see `enterprise`."""
    return _queryset().filter(enterprise=enterprise)


def application_get_for_user(*, user: Any, enterprise: Any, application_id: int) -> Application:
    """The application if it belongs to `enterprise` (which the caller may see); 404 otherwise."""
    application = applications_for_enterprise(enterprise=enterprise).filter(pk=application_id).first()
    if application is None:
        raise Http404("未找到该申报")
    return application


def application_for_version(*, enterprise: Any, version: Any) -> Application | None:
    return applications_for_enterprise(enterprise=enterprise).filter(policy_version=version).first()


def applied_version_ids(*, enterprise: Any) -> dict[int, Application]:
    """Applications by policy version id, withdrawn ones left out (those can be submitted again)."""
    rows = (
        Application.objects.filter(enterprise=enterprise)
        .exclude(status=Application.Status.WITHDRAWN)
        .select_related("policy_version", "policy_version__policy")
        .order_by("-submitted_at", "-id")
    )
    return {a.policy_version_id: a for a in rows}


def applications_for_staff(
    *, user: Any, status: str | None = None, policy_id: int | None = None
) -> QuerySet[Application]:
    if not is_staff_user(user):
        return Application.objects.none()
    queryset = _queryset()
    if status:
        queryset = queryset.filter(status=status)
    if policy_id:
        queryset = queryset.filter(policy_version__policy_id=policy_id)
    return queryset


def application_get_for_staff(*, user: Any, application_id: int) -> Application:
    application = applications_for_staff(user=user).filter(pk=application_id).first()
    if application is None:
        raise Http404("未找到该申报")
    return application


def attachment_get_for_user(*, user: Any, application: Application, attachment_id: int) -> ApplicationAttachment:
    """An attachment of an application the caller already resolved within the user's scope; 404 otherwise."""
    if not (is_staff_user(user) or getattr(user, "enterprise_id", None) == application.enterprise_id):
        raise Http404("未找到该文件")
    attachment = ApplicationAttachment.objects.filter(application=application, pk=attachment_id).first()
    if attachment is None:
        raise Http404("未找到该文件")
    return attachment
