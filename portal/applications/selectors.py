"""Reads of 在线申报, scoped: an enterprise's users see their own applications, staff see all."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, QuerySet
from django.http import Http404

from portal.accounts.roles import DECIDING_ROLES, Role, has_any_role, is_staff_user, roles_of

from .models import Application, ApplicationAttachment, ApplicationTransition

if TYPE_CHECKING:
    from policies.models import PolicyVersion
    from portal.accounts.models import User
    from portal.enterprises.models import Enterprise


# The roles that decide applications (受理、审核通过、退回补正、不予通过). services.py refuses every other role,
# and only these (and the enterprise's own users) see an applicant's personal data unmasked and its files:
# least privilege — a policy editor or auditor has no need of a contact's phone number or ID scans.
DECIDING_ROLES_LABEL = "、".join(str(role.label) for role in DECIDING_ROLES)
ATTACHMENTS_RESTRICTED = f"申报材料只有{DECIDING_ROLES_LABEL}和申报企业可以下载"


def _queryset() -> QuerySet[Application]:
    return Application.objects.select_related(
        "enterprise", "policy_version", "policy_version__policy", "submitted_by"
    ).prefetch_related(
        Prefetch("transitions", queryset=ApplicationTransition.objects.select_related("by").order_by("at", "id")),
        Prefetch("attachments", queryset=ApplicationAttachment.objects.order_by("id")),
    )


def applications_for_enterprise(*, enterprise: Enterprise) -> QuerySet[Application]:
    """The enterprise's applications. The caller has checked the user may see `enterprise`."""
    return _queryset().filter(enterprise=enterprise)


def application_get_for_user(*, user: User, enterprise: Enterprise, application_id: int) -> Application:
    """The application if it belongs to `enterprise` (which the caller may see); 404 otherwise."""
    application = applications_for_enterprise(enterprise=enterprise).filter(pk=application_id).first()
    if application is None:
        raise Http404("未找到该申报")
    return application


def application_for_version(*, enterprise: Enterprise, version: PolicyVersion) -> Application | None:
    return applications_for_enterprise(enterprise=enterprise).filter(policy_version=version).first()


def applied_version_ids(*, enterprise: Enterprise) -> dict[int, Application]:
    """Applications by policy version id, withdrawn ones left out (those can be submitted again)."""
    rows = (
        Application.objects.filter(enterprise=enterprise)
        .exclude(status=Application.Status.WITHDRAWN)
        .select_related("policy_version", "policy_version__policy")
        .order_by("-submitted_at", "-id")
    )
    return {a.policy_version_id: a for a in rows}


def applications_for_staff(
    *, user: User, status: str | None = None, policy_id: int | None = None
) -> QuerySet[Application]:
    if not is_staff_user(user):
        return Application.objects.none()
    queryset = _queryset()
    if status:
        queryset = queryset.filter(status=status)
    if policy_id:
        queryset = queryset.filter(policy_version__policy_id=policy_id)
    return queryset


def application_get_for_staff(*, user: User, application_id: int) -> Application:
    application = applications_for_staff(user=user).filter(pk=application_id).first()
    if application is None:
        raise Http404("未找到该申报")
    return application


def attachment_get_for_user(*, user: User, application: Application, attachment_id: int) -> ApplicationAttachment:
    """An attachment of an application the caller already resolved within the user's scope; 404 otherwise.

    Staff outside the deciding roles get PermissionDenied (403) before the attachment is even looked up."""
    if not (is_staff_user(user) or getattr(user, "enterprise_id", None) == application.enterprise_id):
        raise Http404("未找到该文件")
    if not may_see_personal_data(user=user, application=application):
        raise PermissionDenied(ATTACHMENTS_RESTRICTED)
    attachment = ApplicationAttachment.objects.filter(application=application, pk=attachment_id).first()
    if attachment is None:
        raise Http404("未找到该文件")
    return attachment


# --- Personal data: who sees it, and the one place it is masked ---------------------------------


def may_see_personal_data(*, user: User, application: Application) -> bool:
    """The enterprise's own users and the deciding roles (superusers hold every role); nobody else."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if has_any_role(user, *DECIDING_ROLES):
        return True
    return not is_staff_user(user) and getattr(user, "enterprise_id", None) == application.enterprise_id


def mask_name(name: str) -> str:
    """王小明 → 王**: the family name stays so a caller can still say 王先生/王女士, nothing more."""
    name = (name or "").strip()
    if not name:
        return ""
    return name[0] + "*" * max(len(name) - 1, 1)


def mask_phone(phone: str) -> str:
    """13812345678 → 138****5678; a short number is hidden entirely (its last four would be most of it)."""
    phone = (phone or "").strip()
    if not phone:
        return ""
    if len(phone) < 8:
        return "*" * len(phone)
    return phone[:3] + "****" + phone[-4:]


def mask_file_name(name: str) -> str:
    """File names often carry a person's name (王小明身份证.pdf): only the extension is kept."""
    dot = name.rfind(".")
    return "***" + (name[dot:] if dot > 0 else "")


@dataclass(frozen=True)
class ApplicationContact:
    """An application's personal fields as this viewer may see them."""

    name: str
    phone: str
    masked: bool


def application_contact(*, user: User, application: Application) -> ApplicationContact:
    if may_see_personal_data(user=user, application=application):
        return ApplicationContact(name=application.contact_name, phone=application.contact_phone, masked=False)
    return ApplicationContact(
        name=mask_name(application.contact_name), phone=mask_phone(application.contact_phone), masked=True
    )


def attachment_label(*, user: User, attachment: ApplicationAttachment) -> str:
    """The uploaded file's name, or only its extension for a viewer who may not see personal data."""
    if may_see_personal_data(user=user, application=attachment.application):
        return attachment.original_name
    return mask_file_name(attachment.original_name)


def chinese_name(user: User) -> str:
    """姓 then 名, no space (get_full_name gives "名 姓")."""
    return f"{user.last_name}{user.first_name}".strip()


def _staff_role_label(user: User) -> str:
    held = roles_of(user)
    for role in (*DECIDING_ROLES, *Role):
        if str(role) in held:
            return str(role.label)
    return "工作人员"


def actor_label(user: User | None, enterprise_id: int, *, masked: bool = False) -> str:
    """Who took a step, as a page or the API shows it: the system, a staff member by role only (审核人 — a
    staff member's name never reaches anyone through an application), the enterprise's own user by name
    (masked as 王** for a viewer who may not see personal data). Only the enterprise's own users and staff
    can act on its applications, so anyone else is staff."""
    if user is None:
        return "系统"
    if user.enterprise_id != enterprise_id:
        return _staff_role_label(user)
    name = chinese_name(user) or user.get_username()
    return mask_name(name) if masked else name


def application_timeline(*, user: User, application: Application) -> list[dict[str, Any]]:
    """The status changes, oldest first, each with who ("by") as this viewer may see it."""
    masked = not may_see_personal_data(user=user, application=application)
    return [
        {"transition": t, "by": actor_label(t.by, application.enterprise_id, masked=masked)}
        for t in application.transitions.all()
    ]


def with_contacts(*, user: User, applications: Iterable[Application]) -> list[Application]:
    """The applications, each carrying `.contact` (ApplicationContact) for pages listing them."""
    rows = list(applications)
    for application in rows:
        # a page-only attribute, not a column: mypy does not know the name
        setattr(application, "contact", application_contact(user=user, application=application))  # noqa: B010
    return rows
