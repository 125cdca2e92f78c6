"""Reads of entitlements, scoped: an enterprise's own, or all for staff."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Prefetch, QuerySet
from django.http import Http404

from portal.accounts.roles import is_staff_user

from .models import Entitlement, EntitlementTransition
from .services import sentence

if TYPE_CHECKING:
    from portal.accounts.models import User
    from portal.enterprises.models import Enterprise


_TRANSITIONS = Prefetch(
    "transitions",
    queryset=EntitlementTransition.objects.select_related("by", "policy_version", "previous_version").order_by(
        "at", "id"
    ),
)


def entitlements_for_enterprise(*, enterprise: Enterprise) -> QuerySet[Entitlement]:
    return (
        Entitlement.objects.filter(enterprise=enterprise)
        .select_related("policy_version", "review_version", "enterprise")
        .prefetch_related(_TRANSITIONS)
    )


def entitlement_get_for_user(*, user: User, enterprise: Enterprise, entitlement_id: int) -> Entitlement:
    """The entitlement if it belongs to `enterprise` (which the caller may see); 404 otherwise."""
    entitlement = entitlements_for_enterprise(enterprise=enterprise).filter(pk=entitlement_id).first()
    if entitlement is None:
        raise Http404("未找到该兑现记录")
    return entitlement


def entitlements_for_staff(*, user: User, status: str | None = None, recovery: bool = False) -> QuerySet[Entitlement]:
    """All entitlements for staff; `recovery`: only the possible 追回 cases (disbursed, no longer eligible)."""
    if not is_staff_user(user):
        return Entitlement.objects.none()
    queryset = Entitlement.objects.select_related("policy_version", "review_version", "enterprise").prefetch_related(
        _TRANSITIONS
    )
    if recovery:
        queryset = queryset.filter(recovery_flagged_at__isnull=False)
    return queryset.filter(status=status) if status else queryset


def _who(transition: EntitlementTransition, *, for_staff: bool) -> str:
    """Who took a step. The enterprise sees a staff member's role (审核人), never the person's user name."""
    ByRole = EntitlementTransition.ByRole
    role = ByRole(transition.by_role) if transition.by_role in ByRole.values else ByRole.SYSTEM
    if role == ByRole.SYSTEM:
        return role.label
    user = transition.by
    if role == ByRole.ENTERPRISE:
        name = (user.get_full_name() or user.username) if user is not None else ""
        return f"{role.label}（{name}）" if name else role.label
    if for_staff and user is not None:
        return f"{role.label}（{user.username}）"
    return role.label


def entitlement_timeline(*, entitlement: Entitlement, for_staff: bool = False) -> list[dict[str, Any]]:
    """The entitlement's steps, oldest first, each with who, when, what and why, ready for a page."""
    steps = []
    for t in entitlement.transitions.all():
        if t.from_status == t.to_status and t.previous_version is not None and t.policy_version is not None:
            what = f"依据更新：第{t.previous_version.number}版 → 第{t.policy_version.number}版"
        elif t.from_status == t.to_status:
            what = f"仍为“{t.get_to_status_display()}”"
        else:
            what = t.get_to_status_display()
        steps.append({"transition": t, "what": what, "who": _who(t, for_staff=for_staff)})
    return steps


def entitlement_next_step(*, entitlement: Entitlement) -> str:
    """What happens next, in the enterprise's words (shown under the status)."""
    Status = Entitlement.Status
    status = entitlement.status
    if status in (Status.DETERMINED, Status.NOTIFIED):
        if entitlement.resolution:
            return (
                f"您提出的异议已处理：维持认定。处理意见：{sentence(entitlement.resolution)}"
                "下一步：请确认兑现，确认后工作人员安排兑现；如仍有异议，可再次提出。"
            )
        return "下一步：请确认兑现；如认定有误，可提出异议。"
    if status == Status.CONFIRMED:
        return "已确认。下一步：等待工作人员办理兑现，无需再办理。"
    if status == Status.OBJECTED:
        return "异议已提交。下一步：等待工作人员处理，结果会通过消息告知；处理前不会兑现，也不会撤销。"
    if status == Status.PENDING_REVIEW:
        number = entitlement.review_version.number if entitlement.review_version else ""
        return (
            f"政策已更新为第{number}版，按新版本未认定贵企业符合条件，工作人员正在复核。"
            "复核期间兑现记录不会撤销，也暂不兑现；复核结果会通过消息告知。"
        )
    if status == Status.DISBURSED:
        return "已兑现。"
    reason = entitlement.revoke_reason or entitlement.resolution
    return f"已撤销。理由：{sentence(reason)}如有疑问，请联系政策的责任部门。" if reason else "已撤销。"
