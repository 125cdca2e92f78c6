"""Who may do what with policies: roles from the registry, checked by services and the API."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rest_framework import status
from rest_framework.permissions import BasePermission

from portal.accounts import roles
from portal.api.exceptions import ApplicationError

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from portal.accounts.models import User


def is_staff_user(user: User | AnonymousUser | None) -> bool:
    return bool(user is not None and user.is_authenticated and roles.is_staff_user(user))


def can_edit(user: User | AnonymousUser | None) -> bool:
    return bool(user is not None and user.is_authenticated and roles.has_role(user, roles.Role.POLICY_EDITOR))


def can_review(user: User | AnonymousUser | None) -> bool:
    return bool(user is not None and user.is_authenticated and roles.has_role(user, roles.Role.REVIEWER))


def require_editor(user: User | AnonymousUser | None) -> None:
    if not can_edit(user):
        raise ApplicationError(
            "只有政策编辑人员可以创建、修改或提交政策",
            code="policy_editor_required",
            http_status=status.HTTP_403_FORBIDDEN,
        )


def require_reviewer(user: User | AnonymousUser | None) -> None:
    if not can_review(user):
        raise ApplicationError(
            "只有政策审核人员可以审核、发布或停用政策",
            code="reviewer_required",
            http_status=status.HTTP_403_FORBIDDEN,
        )


class IsStaffUser(BasePermission):
    """Staff endpoints: any staff role may read; services check the role needed to write."""

    message = "仅限工作人员访问"

    def has_permission(self, request: Any, view: Any) -> bool:
        return is_staff_user(request.user)
