"""Writes of 在线申报: submit once with every material, withdraw, resubmit after 退回补正, staff decisions.

Every function owns its transaction and writes a transition row (the status timeline) and an inbox
notification per status change (dedupe key: application + transition number, so exactly once).

Files: uploads are checked completely (type by extension and content, size, one per required material)
before anything is written, and written last inside the transaction. If anything fails after a file was
written, the files written by this call are deleted before the error propagates; files that a
resubmission replaces are deleted only after the commit. (A caller's outer transaction rolling back
after we return cannot be seen from here: services are called outside transactions by the views.)
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone

from matching.models import MatchOutcome, MatchRecord
from matching.selectors import enterprise_matches
from policies.models import Mode
from policies.selectors import policy_in_effect
from portal.accounts.permissions import require_deciding_staff, require_enterprise_member, require_reason
from portal.accounts.roles import DECIDING_ROLES
from portal.api.exceptions import ApplicationError
from portal.exclusions.services import claims_take_for_application
from portal.lifecycle import ActorRole, actor_role, status_move
from portal.notices.models import DecisionNotice
from portal.notices.services import NoticeSpec, notices_issue
from portal.notifications.models import Notification
from portal.notifications.services import notification_create
from portal.notifications.text import sentences

from . import requirements
from .files import CheckedFile, FileProblem, check_file, delete_written_on_failure
from .models import Application, ApplicationAttachment, ApplicationTransition

if TYPE_CHECKING:
    from policies.models import PolicyVersion
    from portal.accounts.models import User
    from portal.enterprises.models import Enterprise


logger = logging.getLogger(__name__)

Status = Application.Status
# One list of deciding roles: it also decides who sees an applicant's personal data (selectors.py).
STAFF_ROLES = DECIDING_ROLES
_MEMBERS_ONLY = "只有该企业的用户可以办理申报"

_ALLOWED: dict[str, tuple[str, ...]] = {
    Status.SUBMITTED: (Status.RETURNED, Status.WITHDRAWN),
    Status.ACCEPTED: (Status.SUBMITTED,),
    Status.APPROVED: (Status.ACCEPTED,),
    Status.REJECTED: (Status.SUBMITTED, Status.ACCEPTED),
    Status.RETURNED: (Status.SUBMITTED, Status.ACCEPTED),
    Status.WITHDRAWN: (Status.SUBMITTED, Status.ACCEPTED, Status.RETURNED),
}

_NOTICE: dict[str, str] = {
    Status.SUBMITTED: "已提交，请等待受理。",
    Status.ACCEPTED: "已受理，正在审核。",
    Status.APPROVED: "审核通过。",
    Status.REJECTED: "审核未通过。",
    Status.RETURNED: "被退回补正，请按处理意见补充材料后重新提交。",
    Status.WITHDRAWN: "已撤回。",
}


# The staff decisions that get a 决定通知书 (portal.notices): what it decides.
_DECISIONS: dict[str, tuple[str, str]] = {
    Status.APPROVED: (DecisionNotice.Kind.GRANTED, "贵企业申报的“{title}”经审核通过，予以享受。"),
    Status.REJECTED: (DecisionNotice.Kind.REFUSED, "贵企业申报的“{title}”经审核未通过，不予享受。"),
    Status.RETURNED: (
        DecisionNotice.Kind.NEEDS_INFO,
        "贵企业申报的“{title}”需补正：请按处理意见补充或更正材料后重新提交。",
    ),
}


# --- Checks -------------------------------------------------------------------------------------


def _optional_note(note: str, field: str = "note") -> str:
    note = (note or "").strip()
    if len(note) > 2000:
        raise ApplicationError("说明不能超过2000字", code="max_length", field=field)
    return note


def _require_open(version: PolicyVersion) -> None:
    """The version takes applications today: 申报 mode, published and in effect, inside the window."""
    if version.mode != Mode.APPLY:
        raise ApplicationError(
            "该政策实行“免申即享”，无需申报，符合条件的企业将自动兑现", code="not_apply_mode", field="policy_version"
        )
    today = timezone.localdate()
    if not policy_in_effect(version, today):
        raise ApplicationError(
            "该政策当前未发布或不在有效期内，不能申报", code="policy_not_in_effect", field="policy_version"
        )
    problem = requirements.window_problem(version, today)
    if problem:
        raise ApplicationError(problem, code="outside_window", field="policy_version")


def _require_not_ineligible(enterprise: Enterprise, version: PolicyVersion) -> None:
    """Refuse when matching decided the enterprise does not qualify (no record also means ineligible)."""
    record = enterprise_matches(enterprise=enterprise).filter(policy_version=version).first()
    if record is None or record.outcome == MatchOutcome.INELIGIBLE:
        raise ApplicationError(
            "根据贵企业当前的信息，不符合该政策的申报条件，暂不能申报。如信息有误，请在“企业信息”中核对更正。",
            code="ineligible",
            field="policy_version",
        )


def _clean_contact(
    errors: dict[str, list[ValidationError]], contact_name: str, contact_phone: str, statement: str
) -> tuple[str, str, str]:
    name = (contact_name or "").strip()
    phone = requirements.normalise_phone(contact_phone)
    text = (statement or "").strip()
    if not name:
        errors.setdefault("contact_name", []).append(ValidationError("请填写联系人", code="required"))
    elif len(name) > 50:
        errors.setdefault("contact_name", []).append(ValidationError("联系人不能超过50字", code="max_length"))
    if not phone:
        errors.setdefault("contact_phone", []).append(ValidationError("请填写联系电话", code="required"))
    elif not requirements.is_valid_phone(phone):
        errors.setdefault("contact_phone", []).append(
            ValidationError(
                "联系电话格式不正确：请填写11位手机号码，或带区号的固定电话（如 0512-66668888）", code="invalid_phone"
            )
        )
    if len(text) > requirements.STATEMENT_MAX_LENGTH:
        errors.setdefault("statement", []).append(
            ValidationError(f"申报说明不能超过{requirements.STATEMENT_MAX_LENGTH}字", code="max_length")
        )
    return name, phone, text


def _check_files(
    errors: dict[str, list[ValidationError]],
    version: PolicyVersion,
    files: Mapping[int, Sequence[Any]],
    already: set[str],
) -> dict[int, list[CheckedFile]]:
    """Each given file checked; every material that needs a file has one (given now, or `already` kept)."""
    materials = requirements.materials_of(version)
    checked: dict[int, list[CheckedFile]] = {}
    for index, uploads in files.items():
        uploads = [u for u in uploads if u is not None]
        if not uploads:
            continue
        field = requirements.material_field(index)
        if not isinstance(index, int) or not 0 <= index < len(materials):
            errors.setdefault(field, []).append(ValidationError("该政策没有这一项申报材料", code="unknown_material"))
            continue
        if not materials[index].needs_upload:
            errors.setdefault(field, []).append(
                ValidationError(f"“{materials[index].name}”由系统调取，无需上传", code="upload_not_needed")
            )
            continue
        if len(uploads) > requirements.MAX_FILES_PER_MATERIAL:
            errors.setdefault(field, []).append(
                ValidationError(f"每项材料最多上传{requirements.MAX_FILES_PER_MATERIAL}个文件", code="too_many_files")
            )
            continue
        good = []
        for upload in uploads:
            try:
                good.append(check_file(upload))
            except FileProblem as problem:
                errors.setdefault(field, []).append(ValidationError(problem.message, code=problem.code))
        checked[index] = good
    for material in materials:
        missing = material.index not in checked and material.field not in errors and material.name not in already
        if material.needs_upload and missing:
            errors.setdefault(material.field, []).append(ValidationError(f"请上传“{material.name}”", code="required"))
    return checked


# --- Writing ------------------------------------------------------------------------------------


def _delete_after_commit(names: list[str]) -> None:
    def delete() -> None:
        for name in names:
            try:
                default_storage.delete(name)
            except OSError:
                logger.exception("Could not delete replaced attachment %s", name)

    if names:
        transaction.on_commit(delete)


def _store_files(
    *,
    application: Application,
    version: PolicyVersion,
    checked: dict[int, list[CheckedFile]],
    by: User,
    written: list[str],
) -> None:
    """Write the checked files; a material given new files loses its old ones (deleted after commit)."""
    materials = requirements.materials_of(version)
    now = timezone.now()
    replaced = [materials[index].name for index in checked]
    old = list(ApplicationAttachment.objects.filter(application=application, material__in=replaced))
    if old:
        ApplicationAttachment.objects.filter(pk__in=[a.pk for a in old]).delete()
        _delete_after_commit([a.file.name for a in old if a.file.name])
    for index, items in sorted(checked.items()):
        for item in items:
            attachment = ApplicationAttachment(
                application=application,
                material=materials[index].name,
                original_name=item.original_name,
                size=item.size,
                content_type=item.content_type,
                uploaded_by=by,
                uploaded_at=now,
            )
            item.upload.seek(0)
            attachment.file.save(f"upload{item.extension}", item.upload, save=False)
            if attachment.file.name:  # always, once saved
                written.append(attachment.file.name)
            attachment.save()


def _record(*, application: Application, previous: str, to: str, by: User, note: str) -> None:
    """The timeline row and the enterprise's inbox notification for one status change."""
    ApplicationTransition.objects.create(
        application=application, from_status=previous, to_status=to, by=by, note=note, at=timezone.now()
    )
    number = ApplicationTransition.objects.filter(application=application).count()
    version = application.policy_version
    label = Status(to).label
    if to in _DECISIONS:
        kind, text = _DECISIONS[to]
        explanation = (
            MatchRecord.objects.filter(policy_version=version, enterprise_id=application.enterprise_id)
            .values_list("explanation", flat=True)
            .first()
        )
        notices_issue(
            items=[
                NoticeSpec(
                    application.enterprise_id,
                    kind,
                    f"app{application.pk}:{number}:{to}",
                    version.pk,
                    decision=text.format(title=version.title),
                    reasons=note,
                    explanation=explanation,
                    subject="在线申报",
                    decided_by=ActorRole(actor_role(by)).label,
                    link=f"/enterprises/{application.enterprise.credit_code}/applications/{application.pk}/",
                )
            ]
        )
    notification_create(
        enterprise_id=application.enterprise_id,
        kind=Notification.Kind.APPLICATION_UPDATE,
        dedupe_key=f"app{application.pk}:{number}:{to}",
        title=f"申报进度：{label}",
        body=sentences(f"“{version.title}”的申报{_NOTICE[to]}", f"说明：{note}" if note else ""),
        link=f"/enterprises/{application.enterprise.credit_code}/applications/{application.pk}/",
        payload={"application_id": application.pk, "status": to},
        # The user who submitted or withdrew saw it on the page: no unread item for them, colleagues get one.
        actor=by,
    )


def _move(
    *,
    application: Application,
    to: str,
    by: User,
    note: str = "",
    allowed: tuple[str, ...] | None = None,
    **fields: Any,
) -> Application:
    locked = (
        Application.objects.select_for_update(of=("self",))
        .select_related("policy_version", "enterprise")
        .get(pk=application.pk)
    )
    previous = status_move(locked, to=to, allowed=allowed or _ALLOWED[to], **fields)
    _record(application=locked, previous=previous, to=to, by=by, note=note)
    return locked


def _duplicate(existing: Application) -> ApplicationError:
    return ApplicationError(
        f"贵企业已申报该政策（当前状态：{existing.get_status_display()}），不能重复提交",
        code="duplicate_application",
        field="policy_version",
        extra={"application_id": existing.pk},
        http_status=409,
    )


# --- Enterprise actions -------------------------------------------------------------------------


def application_precheck(*, enterprise: Enterprise, version: PolicyVersion) -> None:
    """Raise the refusal application_submit would give for this policy today (writes nothing).

    Lets the form page say "not now" before the enterprise gathers its files.
    """
    _require_open(version)
    _require_not_ineligible(enterprise, version)


def application_submit(
    *,
    enterprise: Enterprise,
    version: PolicyVersion,
    by: User,
    contact_name: str,
    contact_phone: str,
    statement: str = "",
    files: Mapping[int, Sequence[Any]],
) -> Application:
    """Submit the application (一次提交): every required material at once, or nothing is written.

    `files` maps a material's index in version.materials to its uploaded files. A withdrawn
    application for the same version is reopened (its kept files count; files given replace that
    material's). Refusals: ApplicationError (not_enterprise_user, not_apply_mode, policy_not_in_effect,
    outside_window, ineligible, duplicate_application); field problems: ValidationError by field.
    """
    require_enterprise_member(by, enterprise.pk, message=_MEMBERS_ONLY)
    with delete_written_on_failure() as written, transaction.atomic():
        _require_open(version)
        _require_not_ineligible(enterprise, version)
        existing = (
            Application.objects.select_for_update()
            .filter(enterprise=enterprise, policy_version=version)
            .select_related("enterprise", "policy_version")
            .first()
        )
        if existing is not None and existing.status != Status.WITHDRAWN:
            raise _duplicate(existing)
        errors: dict[str, list[ValidationError]] = {}
        name, phone, text = _clean_contact(errors, contact_name, contact_phone, statement)
        kept = set(existing.attachments.values_list("material", flat=True)) if existing else set()
        checked = _check_files(errors, version, files, kept)
        if errors:
            raise ValidationError(errors)
        now = timezone.now()
        contact = {"contact_name": name, "contact_phone": phone, "statement": text}
        if existing is not None:
            application = _move(
                application=existing,
                to=Status.SUBMITTED,
                by=by,
                note="撤回后重新提交",
                allowed=(Status.WITHDRAWN,),
                submitted_by=by,
                submitted_at=now,
                staff_note="",
                **contact,
            )
        else:
            try:
                with transaction.atomic():
                    application = Application.objects.create(
                        enterprise=enterprise,
                        policy_version=version,
                        status=Status.SUBMITTED,
                        submitted_by=by,
                        submitted_at=now,
                        **contact,
                    )
            except IntegrityError:
                # A colleague submitted the same application a moment ago.
                raise _duplicate(Application.objects.get(enterprise=enterprise, policy_version=version)) from None
            _record(application=application, previous="", to=Status.SUBMITTED, by=by, note="企业在线提交申报")
        _store_files(application=application, version=version, checked=checked, by=by, written=written)
    return application


def application_resubmit(
    *,
    application: Application,
    by: User,
    contact_name: str | None = None,
    contact_phone: str | None = None,
    statement: str | None = None,
    files: Mapping[int, Sequence[Any]] | None = None,
) -> Application:
    """Resubmit after 退回补正. Materials given new files have them replaced; None keeps a contact field.

    The window is not checked again: the application was made in time; staff asked for the correction.
    """
    require_enterprise_member(by, application.enterprise_id, message=_MEMBERS_ONLY)
    with delete_written_on_failure() as written, transaction.atomic():
        locked = Application.objects.select_for_update().select_related("policy_version").get(pk=application.pk)
        if locked.status != Status.RETURNED:
            raise ApplicationError(
                f"当前状态为“{locked.get_status_display()}”，只有被退回补正的申报可以重新提交",
                code="invalid_transition",
                field="status",
                http_status=409,
            )
        errors: dict[str, list[ValidationError]] = {}
        name, phone, text = _clean_contact(
            errors,
            locked.contact_name if contact_name is None else contact_name,
            locked.contact_phone if contact_phone is None else contact_phone,
            locked.statement if statement is None else statement,
        )
        kept = set(locked.attachments.values_list("material", flat=True))
        checked = _check_files(errors, locked.policy_version, files or {}, kept)
        if errors:
            raise ValidationError(errors)
        _store_files(application=locked, version=locked.policy_version, checked=checked, by=by, written=written)
        return _move(
            application=locked,
            to=Status.SUBMITTED,
            by=by,
            note="补正后重新提交",
            allowed=(Status.RETURNED,),
            contact_name=name,
            contact_phone=phone,
            statement=text,
            submitted_at=timezone.now(),
        )


@transaction.atomic
def application_withdraw(*, application: Application, by: User, reason: str = "") -> Application:
    """The enterprise withdraws before a decision (撤回); it may submit again later."""
    require_enterprise_member(by, application.enterprise_id, message=_MEMBERS_ONLY)
    return _move(
        application=application, to=Status.WITHDRAWN, by=by, note=_optional_note(reason, "reason") or "企业撤回申报"
    )


# --- Staff actions ------------------------------------------------------------------------------


@transaction.atomic
def application_accept(*, application: Application, by: User, note: str = "") -> Application:
    require_deciding_staff(by)
    return _move(application=application, to=Status.ACCEPTED, by=by, note=_optional_note(note) or "材料齐全，予以受理")


@transaction.atomic
def application_approve(*, application: Application, by: User, note: str = "") -> Application:
    require_deciding_staff(by)
    approved = _move(application=application, to=Status.APPROVED, by=by, note=_optional_note(note) or "审核通过")
    # 同一事项不重复享受: the approval takes the version's exclusion groups, or is refused (all rolled back).
    claims_take_for_application(
        version=approved.policy_version, enterprise_id=approved.enterprise_id, application_id=approved.pk
    )
    return approved


@transaction.atomic
def application_reject(*, application: Application, by: User, reason: str) -> Application:
    require_deciding_staff(by)
    reason = require_reason(reason)
    return _move(application=application, to=Status.REJECTED, by=by, note=reason, staff_note=reason)


@transaction.atomic
def application_return(*, application: Application, by: User, reason: str) -> Application:
    """退回补正: the enterprise corrects its materials and resubmits."""
    require_deciding_staff(by)
    reason = require_reason(reason)
    return _move(application=application, to=Status.RETURNED, by=by, note=reason, staff_note=reason)
