"""Template helpers for the portal's pages: navigation state and small display filters."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import template

from frontend.rule_builder import path_words
from matching.core.registry import source_label
from matching.core.vocabulary import DEPARTMENT_SOURCES
from matching.models import change_counts_text
from matching.nightly import nightly_text
from portal.accounts.roles import is_enterprise_user, is_staff_user
from portal.audit.selectors import can_read_audit
from portal.notifications.selectors import notification_unread_count

if TYPE_CHECKING:
    from portal.accounts.models import User


register = template.Library()


@register.simple_tag(takes_context=True)
def nav_state(context: Any) -> dict[str, Any]:
    """Which nav items the current user sees, and their unread notification count."""
    request = context.get("request")
    user = getattr(request, "user", None)
    state = {"staff": False, "enterprise": False, "unread": 0, "auditor": False}
    if user is None or not user.is_authenticated:
        return state
    state["staff"] = is_staff_user(user)
    if state["staff"]:
        state["auditor"] = can_read_audit(user)
    state["enterprise"] = is_enterprise_user(user)
    if state["enterprise"]:
        state["unread"] = notification_unread_count(user=user)
    return state


@register.filter
def source_name(code: str | None) -> str:
    return source_label(code) or "未知来源"


@register.filter
def is_department(code: str | None) -> bool:
    return code in DEPARTMENT_SOURCES


@register.filter
def rule_path(field: str) -> str:
    """A rule problem's path (rule.all[0].value) as 第1个条件 › 取值."""
    return path_words(str(field or ""))


@register.filter
def change_counts(changes: dict[str, int] | None) -> str:
    """A match run's changed counters in words (新符合条件 3 条，…), never their codes."""
    return change_counts_text(changes or {})


@register.filter
def nightly_summary(info: dict[str, Any] | None) -> str:
    """What a nightly run re-decided and why (年龄跨界 12 家企业，…), or how it ran the full pass."""
    return nightly_text(info)


@register.filter
def person(user: User) -> str:
    """A user as people know them: the name on the account (政策清单, 王敏), else the login name."""
    if user is None:
        return "—"
    return user.get_full_name() or user.get_username()
