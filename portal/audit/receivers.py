"""What is recorded without the services asking: sign-ins, role changes, configuration and
security-relevant rows (whatever wrote them: a service, the admin, a shell), and every status change
of policies, applications and entitlements (their transition rows name who did it and why)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.dispatch import receiver

from portal.accounts.models import User
from portal.accounts.roles import Role

from .services import audit_record, snapshot

if TYPE_CHECKING:
    from portal.accounts.models import User


# Configuration and security-relevant models, as "app_label.ModelName".
WATCHED = (
    "accounts.User",
    "accounts.DepartmentApiKey",
    "enterprises.Zone",
    "enterprises.Park",
    "enterprises.Township",
    "notifications.WebhookEndpoint",
    "otp_totp.TOTPDevice",
    "policies.PolicyVersion",
    "corrections.DepartmentAssignment",  # whose 数据纠错 queue a data officer works
)
# Status changes: the transition row's `by` is the actor.
TRANSITIONS = (
    "entitlements.EntitlementTransition",
    "applications.ApplicationTransition",
    "policies.PolicyTransition",
    "corrections.CorrectionTransition",
    "recall.RecallItemTransition",
)
# Writes that are bookkeeping, not changes anyone made on purpose.
_IGNORED_UPDATES = {
    "accounts.User": {"last_login"},
    "otp_totp.TOTPDevice": {"last_used_at", "throttling_failure_timestamp", "throttling_failure_count"},
}


def _label(sender: Any) -> str:
    # Migrations save historical models (module "__fake__"), before this table exists: not audited.
    if sender.__module__ == "__fake__":
        return ""
    return f"{sender._meta.app_label}.{sender.__name__}"


@receiver(user_logged_in, dispatch_uid="audit_login")
def _login(sender: Any, request: Any, user: User, **kwargs: Any) -> None:
    audit_record(action="auth.login", obj=user, actor=user)


@receiver(user_logged_out, dispatch_uid="audit_logout")
def _logout(sender: Any, request: Any, user: User, **kwargs: Any) -> None:
    if user is not None:
        audit_record(action="auth.logout", obj=user, actor=user)


@receiver(user_login_failed, dispatch_uid="audit_login_failed")
def _login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    username = str(credentials.get("username", ""))[:150]
    audit_record(action="auth.login_failed", object_type="accounts.user", label=username, detail=f"用户名：{username}")


@receiver(user_locked_out, dispatch_uid="audit_locked_out")
def _locked_out(sender: Any, request: Any = None, username: str = "", ip_address: str = "", **kwargs: Any) -> None:
    name = str(username or "")[:150]
    audit_record(
        action="auth.locked_out",
        object_type="accounts.user",
        label=name,
        # The pause may be the account's or the address's (AXES_LOCKOUT_PARAMETERS): name both, claim neither.
        detail=f"失败次数过多，登录被暂停：用户名 {name or '—'}，来源地址 {ip_address or '—'}",
    )


@receiver(pre_save, dispatch_uid="audit_pre_save")
def _remember_before(sender: Any, instance: Any, update_fields: Any = None, **kwargs: Any) -> None:
    label = _label(sender)
    if label not in WATCHED or instance.pk is None:
        return
    if update_fields and set(update_fields) <= _IGNORED_UPDATES.get(label, set()):
        return  # bookkeeping (a sign-in's last_login): not recorded, so no need to read the old row
    old = sender._default_manager.filter(pk=instance.pk).first()
    instance._audit_before = snapshot(old) if old is not None else None


@receiver(post_save, dispatch_uid="audit_post_save")
def _saved(sender: Any, instance: Any, created: bool, update_fields: Any = None, **kwargs: Any) -> None:
    label = _label(sender)
    if label in TRANSITIONS and created:
        _transition(instance)
        return
    if label not in WATCHED:
        return
    if update_fields and set(update_fields) <= _IGNORED_UPDATES.get(label, set()):
        return
    after = snapshot(instance)
    before = getattr(instance, "_audit_before", None)
    if not created and before is not None:
        changed = {k for k in after if before.get(k) != after.get(k)}
        if not changed or changed <= _IGNORED_UPDATES.get(label, set()):
            return
        before = {k: before.get(k) for k in sorted(changed)}
        after = {k: after[k] for k in sorted(changed)}
    audit_record(
        action=f"{sender._meta.model_name}.{'created' if created else 'updated'}",
        obj=instance,
        before=before,
        after=after,
    )


@receiver(post_delete, dispatch_uid="audit_post_delete")
def _deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    if _label(sender) in WATCHED:
        audit_record(action=f"{sender._meta.model_name}.deleted", obj=instance, before=snapshot(instance))


def _status_label(model: Any, code: str) -> str:
    """A status code in words (已提交, 已兑现 …), as the pages say it."""
    choices = getattr(model, "Status", None)
    try:
        return str(choices(code).label) if choices is not None and code else code
    except ValueError:
        return code


def _transition(row: Any) -> None:
    subject = next(f for f in row._meta.concrete_fields if f.is_relation and f.name not in ("by",))
    target = getattr(row, subject.name)
    model = type(target)
    audit_record(
        action=f"{target._meta.model_name}.status",
        obj=target,
        label=f"{model._meta.verbose_name} #{target.pk}",
        before={"status": _status_label(model, getattr(row, "from_status", ""))},
        after={"status": _status_label(model, getattr(row, "to_status", ""))},
        detail=getattr(row, "reason", "") or getattr(row, "comment", "") or "",
        actor=getattr(row, "by", None),
    )


@receiver(m2m_changed, dispatch_uid="audit_roles")
def _roles_changed(sender: Any, instance: Any, action: str, pk_set: Any, model: Any, **kwargs: Any) -> None:
    from django.contrib.auth.models import Group

    if sender is not User.groups.through or action not in ("post_add", "post_remove", "post_clear"):
        return
    if not isinstance(instance, User):
        return

    def word(code: str) -> str:
        return str(Role(code).label) if code in Role.values else code

    names = sorted(word(n) for n in Group.objects.filter(pk__in=pk_set or ()).values_list("name", flat=True))
    now = sorted(word(n) for n in instance.groups.values_list("name", flat=True))
    verb = {"post_add": "授予", "post_remove": "撤销", "post_clear": "清空"}[action]
    audit_record(
        action="user.roles_changed",
        obj=instance,
        after={"roles": now},
        detail=f"{verb}角色：{'、'.join(names) or '全部'}",
    )
