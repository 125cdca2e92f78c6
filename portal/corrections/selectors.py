"""Reads of 数据纠错, scoped by user: an enterprise sees its own requests; a data officer the queues of the
departments they are assigned to (superusers: every queue). Anything else is 404: strangers learn nothing."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from portal.accounts.roles import Role, has_role, is_enterprise_user

from .models import CorrectionEvidence, CorrectionRequest, CorrectionTransition, DepartmentAssignment

if TYPE_CHECKING:
    from portal.accounts.models import User
    from portal.enterprises.models import Enterprise

Status = CorrectionRequest.Status


def departments_of(*, user: Any) -> list[str] | None:
    """The departments whose queue the user works: None for every one (superuser), [] for none.
    Only a 数据专员 works a queue, and only the departments they are assigned to."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    if user.is_superuser:
        return None
    if not has_role(user, Role.DATA_OFFICER):
        return []
    return list(DepartmentAssignment.objects.filter(user=user).values_list("department", flat=True))


def works_queue(*, user: Any, department: str) -> bool:
    departments = departments_of(user=user)
    return departments is None or department in departments


def _base() -> QuerySet[CorrectionRequest]:
    return CorrectionRequest.objects.select_related("enterprise", "assignee")


def requests_for_enterprise(*, user: User, enterprise: Enterprise) -> QuerySet[CorrectionRequest]:
    """The enterprise's requests, for its own users only (anyone else: 404)."""
    if not is_enterprise_user(user) or user.enterprise_id != enterprise.pk:
        raise Http404("未找到")
    return _base().filter(enterprise=enterprise)


def request_get_for_enterprise(*, user: User, enterprise: Enterprise, request_id: int) -> CorrectionRequest:
    found = requests_for_enterprise(user=user, enterprise=enterprise).filter(pk=request_id).first()
    if found is None:
        raise Http404("未找到该申请")
    return found


def queue_for_staff(
    *, user: User, status: str | None = None, overdue: bool = False, today: date | None = None
) -> QuerySet[CorrectionRequest]:
    """The requests of the departments the user works (open first, by due date)."""
    departments = departments_of(user=user)
    queryset = _base()
    if departments is not None:
        queryset = queryset.filter(department__in=departments)
    if status:
        queryset = queryset.filter(status=status)
    if overdue:
        queryset = queryset.filter(status=Status.SUBMITTED, due_on__lt=today or timezone.localdate())
    return queryset.order_by("-status", "due_on", "id")  # "submitted" sorts after "rejected"/"accepted"


def request_get_for_staff(*, user: User, request_id: int) -> CorrectionRequest:
    found = queue_for_staff(user=user).filter(pk=request_id).first()
    if found is None:
        raise Http404("未找到该申请")
    return found


def overdue_for_staff(*, user: User, today: date | None = None) -> QuerySet[CorrectionRequest]:
    """Open requests past their due date in the user's queues (the staff dashboard's 逾期 list)."""
    return queue_for_staff(user=user, overdue=True, today=today)


def evidence_get(*, correction: CorrectionRequest, evidence_id: int) -> CorrectionEvidence:
    """An evidence file of a request the caller has already resolved in scope."""
    found = CorrectionEvidence.objects.filter(request=correction, pk=evidence_id).first()
    if found is None:
        raise Http404("未找到该文件")
    return found


def timeline(*, correction: CorrectionRequest) -> QuerySet[CorrectionTransition]:
    return CorrectionTransition.objects.filter(request=correction).select_related("by")


def open_request_for_fact(*, enterprise: Enterprise, field: str) -> CorrectionRequest | None:
    return CorrectionRequest.objects.filter(enterprise=enterprise, field=field, status=Status.SUBMITTED).first()


def open_fields(*, enterprise: Enterprise) -> dict[str, CorrectionRequest]:
    """The enterprise's open requests by register field (the profile page marks those facts 办理中)."""
    return {r.field: r for r in CorrectionRequest.objects.filter(enterprise=enterprise, status=Status.SUBMITTED)}


def officers_of(*, department: str) -> QuerySet[Any]:
    """Active 数据专员 assigned to the department (who may be named responsible)."""
    from django.contrib.auth import get_user_model

    return (
        get_user_model()
        .objects.filter(
            is_active=True,
            department_assignments__department=department,
            groups__name=Role.DATA_OFFICER,
        )
        .distinct()
        .order_by("id")
    )
