"""Who may do what: one DRF permission class per role for the API, and the guards services call.

Roles themselves (Django Groups named by the role code) are in `roles`. Views refuse whole endpoints
with a permission class (`IsStaff`: any staff role may read); services check the role an action needs
with a `require_*` guard, so the same rule holds for the API, the pages and the shell.
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from portal.api.exceptions import ApplicationError

from .roles import DECIDING_ROLES, Role, has_any_role, has_role, is_enterprise_user, is_staff_user

# --- API permission classes ----------------------------------------------------------------------


class IsStaff(BasePermission):
    """Staff endpoints: any staff role may read; services check the role needed to write."""

    message = "仅限工作人员访问"

    def has_permission(self, request: Request, view: Any) -> bool:
        return is_staff_user(request.user)


class HasRole(BasePermission):
    """Endpoints of one staff role; subclasses name the role (IsPolicyEditor, IsReviewer, …)."""

    role: Role
    message = "没有权限执行此操作"

    def has_permission(self, request: Request, view: Any) -> bool:
        return has_role(request.user, self.role)


class IsPolicyEditor(HasRole):
    role = Role.POLICY_EDITOR
    message = "只有政策编辑人员可以执行此操作"


class IsReviewer(HasRole):
    role = Role.REVIEWER
    message = "只有审核人可以执行此操作"


class IsDataOfficer(HasRole):
    role = Role.DATA_OFFICER
    message = "只有数据专员可以执行此操作"


class IsAuditor(HasRole):
    role = Role.AUDITOR
    message = "只有审计员可以执行此操作"


class IsEnterpriseUser(BasePermission):
    """Endpoints of an enterprise's own users (not staff)."""

    message = "仅限企业用户访问"

    def has_permission(self, request: Request, view: Any) -> bool:
        return is_enterprise_user(request.user)


# --- Guards for services -------------------------------------------------------------------------


def can_edit_policies(user: Any) -> bool:
    return has_role(user, Role.POLICY_EDITOR)


def can_review_policies(user: Any) -> bool:
    return has_role(user, Role.REVIEWER)


def require_staff(user: Any) -> None:
    """Any staff role (reading staff pages, asking for a preview)."""
    if not is_staff_user(user):
        raise ApplicationError("仅限工作人员访问", code="staff_required", http_status=403)


def require_policy_editor(user: Any) -> None:
    if not can_edit_policies(user):
        raise ApplicationError(
            "只有政策编辑人员可以创建、修改或提交政策", code="policy_editor_required", http_status=403
        )


def require_policy_reviewer(user: Any) -> None:
    if not can_review_policies(user):
        raise ApplicationError("只有政策审核人员可以审核、发布或停用政策", code="reviewer_required", http_status=403)


def require_deciding_staff(user: Any) -> None:
    """A staff member who decides on an enterprise's case (审核人 or 数据专员): entitlements, applications."""
    if not has_any_role(user, *DECIDING_ROLES):
        raise ApplicationError("只有审核人或数据专员可以办理", code="staff_role_required", http_status=403)


def require_enterprise_member(user: Any, enterprise_id: int, *, message: str = "只有该企业的用户可以办理") -> None:
    """One of the enterprise's own users (never staff) acting on its case."""
    if not is_enterprise_user(user) or user.enterprise_id != enterprise_id:
        raise ApplicationError(message, code="not_enterprise_user", http_status=403)


def require_reason(reason: str, field: str = "reason") -> str:
    """The reason a staff member or an enterprise gives for a step, stripped; required, at most 2000 字."""
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError("请填写理由", code="required", field=field)
    if len(reason) > 2000:
        raise ApplicationError("理由不能超过2000字", code="max_length", field=field)
    return reason
