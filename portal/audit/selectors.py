"""Reading the audit trail: for auditors (审计员) and administrators only, in Chinese words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet

from portal.accounts.roles import Role, has_role

from .models import AuditEvent

if TYPE_CHECKING:
    from portal.accounts.models import User


_FIXED = {
    "auth.login": "登录",
    "auth.logout": "退出登录",
    "auth.login_failed": "登录失败",
    "auth.locked_out": "登录暂停（失败次数过多）",
    # django-otp's model is named in English: its events in words here.
    "totpdevice.created": "两步验证：开始设置",
    "totpdevice.updated": "两步验证：修改",
    "totpdevice.deleted": "两步验证：移除",
    "user.roles_changed": "角色变更",
    "enterprise.viewed": "查看企业数据",
    "applicationattachment.downloaded": "下载申报材料",
}
_VERBS = {"created": "新建", "updated": "修改", "deleted": "删除", "status": "状态变更"}


def can_read_audit(user: User) -> bool:
    return bool(getattr(user, "is_superuser", False)) or has_role(user, Role.AUDITOR)


def _model(object_type: str) -> Any:
    try:
        return apps.get_model(object_type) if "." in object_type else None
    except LookupError:
        return None


def action_label(action: str, object_type: str = "") -> str:
    if action in _FIXED:
        return _FIXED[action]
    _, _, verb = action.rpartition(".")
    model = _model(object_type)
    noun = str(model._meta.verbose_name) if model is not None else "对象"
    return f"{noun}：{_VERBS.get(verb, '操作')}"


def _field_label(model: Any, name: str) -> str:
    if model is None:
        return name
    try:
        return str(model._meta.get_field(name).verbose_name)
    except Exception:
        return name


def _word(value: Any) -> str:
    """A stored value as a person reads it: 是/否, — for nothing."""
    if value is True:
        return "是"
    if value is False:
        return "否"
    if value is None or value == "":
        return "—"
    if isinstance(value, list):
        return "、".join(str(v) for v in value) or "—"
    return str(value)


@dataclass
class EventRow:
    event: AuditEvent
    action: str
    changes: list[tuple[str, Any, Any]]


def describe(event: AuditEvent) -> EventRow:
    model = _model(event.object_type)
    before, after = event.before or {}, event.after or {}
    keys = list(dict.fromkeys([*before, *after]))
    changes = [(_field_label(model, k), _word(before.get(k)), _word(after.get(k))) for k in keys]
    changes = [(label, old, new) for label, old, new in changes if (old, new) != ("—", "—")]
    return EventRow(event=event, action=action_label(event.action, event.object_type), changes=changes)


def audit_events(
    *, user: User, text: str = "", action: str = "", start: date | None = None, end: date | None = None
) -> QuerySet[AuditEvent]:
    """Events matching the filters, newest first; PermissionDenied for anyone but auditors."""
    if not can_read_audit(user):
        raise PermissionDenied("仅限审计员查看")
    events = AuditEvent.objects.all()
    if text:
        match = Q(actor_name__icontains=text) | Q(object_label__icontains=text) | Q(object_id=text)
        if _is_ip(text):
            match |= Q(ip=text)
        events = events.filter(match)
    if action:
        events = events.filter(action=action)
    if start:
        events = events.filter(at__date__gte=start)
    if end:
        events = events.filter(at__date__lte=end)
    return events.order_by("-at", "-id")


def action_choices() -> list[tuple[str, str]]:
    seen = AuditEvent.objects.order_by().values_list("action", "object_type").distinct()
    labels = {a: action_label(a, t) for a, t in seen}
    return sorted(labels.items(), key=lambda item: item[1])


def _is_ip(text: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
