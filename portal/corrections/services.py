"""Writes of 数据纠错 / 申请核验. Every function owns its transaction, writes a transition row for each step
and an inbox notice to the enterprise (portal.notifications, committed with the step).

- correction_submit (the enterprise): a fact, the value it believes right (for a verification: the
  self-declared value held), a statement and evidence files; to the owning department's queue, with a due
  date CORRECTION_DUE_WORKING_DAYS working days away and a responsible data officer.
- correction_accept (the department's 数据专员): the value is written with the department as its source and
  today's date through portal.enterprises.services.enterprise_update_facts (the feeds' and the data
  console's write), so FACTS_CHANGED fires and matching re-decides the enterprise at once.
- correction_reject: with a reason. correction_assign: another officer of the department is named.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone

from matching.core.vocabulary import SELF_DECLARED
from portal import events
from portal.accounts.permissions import require_enterprise_member, require_reason
from portal.accounts.roles import Role, has_role
from portal.api.exceptions import ApplicationError
from portal.applications.files import CheckedFile, FileProblem, check_file, delete_written_on_failure
from portal.enterprises.services import enterprise_update_facts
from portal.lifecycle import status_move
from portal.notifications.models import Notification
from portal.notifications.services import notification_create
from portal.notifications.text import sentences

from . import selectors
from .facts import department_name, fact_for, held, owning_departments, parse_value, value_text, write_value
from .models import CorrectionEvidence, CorrectionRequest, CorrectionTransition, DepartmentAssignment
from .workdays import add_working_days

if TYPE_CHECKING:
    from portal.accounts.models import User
    from portal.enterprises.models import Enterprise

logger = logging.getLogger(__name__)

Kind = CorrectionRequest.Kind
Status = CorrectionRequest.Status
MAX_EVIDENCE_FILES = 5
_MEMBERS_ONLY = "只有该企业的用户可以申请纠错或核验"


def due_working_days() -> int:
    return int(getattr(settings, "CORRECTION_DUE_WORKING_DAYS", 5))


def _optional_text(text: str, field: str, label: str) -> str:
    text = (text or "").strip()
    if len(text) > 2000:
        raise ApplicationError(f"{label}不能超过2000字", code="max_length", field=field)
    return text


def _check_evidence(files: Sequence[Any], *, required: bool) -> list[CheckedFile]:
    files = [f for f in files if f is not None]
    if required and not files:
        raise ApplicationError("请上传证明材料（如部门出具的证明、报表）", code="required", field="evidence")
    if len(files) > MAX_EVIDENCE_FILES:
        raise ApplicationError(f"证明材料最多{MAX_EVIDENCE_FILES}个文件", code="too_many_files", field="evidence")
    checked = []
    for upload in files:
        try:
            checked.append(check_file(upload))
        except FileProblem as problem:
            raise ApplicationError(problem.message, code=problem.code, field="evidence") from None
    return checked


def _pick_assignee(department: str) -> User | None:
    """The department's data officer with the fewest open requests (the earliest assigned on a tie)."""
    loads = dict(
        CorrectionRequest.objects.filter(department=department, status=Status.SUBMITTED, assignee__isnull=False)
        .values("assignee")
        .annotate(n=Count("id"))
        .values_list("assignee", "n")
    )
    candidates = list(selectors.officers_of(department=department))
    if not candidates:
        return None
    return min(candidates, key=lambda u: (loads.get(u.pk, 0), u.pk))


def _record(*, correction: CorrectionRequest, previous: str, to: str, by: User | None, note: str, notify: str) -> None:
    """The timeline row and (when `notify` is given) the enterprise's inbox notice for one step."""
    CorrectionTransition.objects.create(
        request=correction, from_status=previous, to_status=to, by=by, note=note, at=timezone.now()
    )
    if not notify:
        return
    number = CorrectionTransition.objects.filter(request=correction).count()
    notification_create(
        enterprise_id=correction.enterprise_id,
        kind=Notification.Kind.CORRECTION_UPDATE,
        dedupe_key=f"corr{correction.pk}:{number}:{to}",
        title=f"{correction.get_kind_display()}：{Status(to).label}",
        body=notify,
        link=f"/enterprises/{correction.enterprise.credit_code}/corrections/{correction.pk}/",
        payload={"correction_id": correction.pk, "status": to},
        actor=by,
    )


def correction_submit(
    *,
    enterprise: Enterprise,
    by: User,
    fact: str,
    kind: str = Kind.CORRECTION,
    value: Any = None,
    statement: str = "",
    files: Sequence[Any] = (),
) -> CorrectionRequest:
    """Send a correction (此数据有误) or a verification (申请核验) of one fact to its department's queue.

    Refusals name the field: fact (unknown_fact, not_self_declared, nothing_to_verify), kind, value (the
    fact's own parsing and bounds; unchanged), statement, evidence (required for a correction, type and
    size as for 申报 materials); duplicate_request (409) while one for the same fact is open.
    """
    require_enterprise_member(by, enterprise.pk, message=_MEMBERS_ONLY)
    if kind not in Kind.values:
        raise ApplicationError("申请类型不正确", code="invalid_choice", field="kind")
    spec = fact_for(fact)
    statement = _optional_text(statement, "statement", "情况说明")
    current = held(enterprise, spec)
    if kind == Kind.VERIFICATION:
        if not current.known or current.value is None:
            raise ApplicationError(f"尚未填报“{spec.ask}”，请先填报再申请核验", code="nothing_to_verify", field="fact")
        if current.source != SELF_DECLARED:
            raise ApplicationError(
                f"“{spec.label}”已由{department_name(current.source)}核验，无需申请核验；如数据有误请申请纠错",
                code="not_self_declared",
                field="fact",
            )
        proposed = current.value
    else:
        proposed = parse_value(spec, value)
        if current.known and proposed == current.value:
            message = (
                f"填写的值与现有的“{spec.label}”相同；如需部门确认自行填报的数据，请申请核验"
                if current.source == SELF_DECLARED
                else f"填写的值与现有的“{spec.label}”相同，请填写您认为正确的值"
            )
            raise ApplicationError(message, code="unchanged", field="value")
    checked = _check_evidence(files, required=kind == Kind.CORRECTION)
    department = owning_departments(spec, current)[0]
    today = timezone.localdate()
    with delete_written_on_failure() as written, transaction.atomic():
        existing = selectors.open_request_for_fact(enterprise=enterprise, field=spec.profile_key)
        if existing is not None:
            raise _duplicate(existing)
        assignee = _pick_assignee(department)
        try:
            with transaction.atomic():
                correction = CorrectionRequest.objects.create(
                    enterprise=enterprise,
                    kind=kind,
                    fact=spec.name,
                    field=spec.profile_key,
                    department=department,
                    current_value=current.value,
                    current_source=current.source,
                    current_as_of=current.as_of,
                    proposed_value=proposed,
                    statement=statement,
                    due_on=add_working_days(today, due_working_days()),
                    assignee=assignee,
                    created_by=by,
                )
        except IntegrityError:
            # A colleague sent one for the same fact a moment ago.
            again = selectors.open_request_for_fact(enterprise=enterprise, field=spec.profile_key)
            if again is None:
                raise
            raise _duplicate(again) from None
        now = timezone.now()
        for item in checked:
            evidence = CorrectionEvidence(
                request=correction,
                original_name=item.original_name,
                size=item.size,
                content_type=item.content_type,
                uploaded_by=by,
                uploaded_at=now,
            )
            item.upload.seek(0)
            evidence.file.save(f"evidence{item.extension}", item.upload, save=False)
            if evidence.file.name:
                written.append(evidence.file.name)
            evidence.save()
        what = (
            f"申请将“{spec.label}”更正为{value_text(spec, proposed)}"
            if kind == Kind.CORRECTION
            else f"申请核验自行填报的“{spec.label}”（{value_text(spec, proposed)}）"
        )
        _record(
            correction=correction,
            previous="",
            to=Status.SUBMITTED,
            by=by,
            note=what,
            notify=sentences(
                f"已提交{department_name(department)}办理：{what}",
                f"办理期限：{correction.due_on.isoformat()}",
            ),
        )
    return correction


def _duplicate(existing: CorrectionRequest) -> ApplicationError:
    return ApplicationError(
        f"该信息项已有一项{existing.get_kind_display()}申请正在办理"
        f"（期限 {existing.due_on.isoformat()}），请等待办理结果",
        code="duplicate_request",
        field="fact",
        extra={"correction_id": existing.pk},
        http_status=409,
    )


def _require_officer(by: User, correction: CorrectionRequest) -> None:
    """A 数据专员 of the request's department (or a superuser) decides it."""
    if not (by.is_superuser or has_role(by, Role.DATA_OFFICER)) or not selectors.works_queue(
        user=by, department=correction.department
    ):
        raise ApplicationError(
            f"只有{department_name(correction.department)}的数据专员可以办理",
            code="department_required",
            http_status=403,
        )


def _lock(correction: CorrectionRequest) -> CorrectionRequest:
    return CorrectionRequest.objects.select_for_update(of=("self",)).select_related("enterprise").get(pk=correction.pk)


@transaction.atomic
def correction_accept(*, correction: CorrectionRequest, by: User, note: str = "") -> CorrectionRequest:
    """The department accepts: the requested value becomes the fact, with the department as its source and
    today as its date (enterprise_update_facts: history row, FACTS_CHANGED → matching re-decides)."""
    _require_officer(by, correction)
    note = _optional_text(note, "note", "办理意见")
    locked = _lock(correction)
    spec = fact_for(locked.fact)
    if locked.kind == Kind.VERIFICATION and held(locked.enterprise, spec).value != locked.proposed_value:
        # The enterprise declared another value since: confirming the old one would overwrite its newer word.
        raise ApplicationError(
            f"企业提交核验后已修改“{spec.label}”，请不予采纳并说明，由企业就新值重新申请核验",
            code="value_changed",
            field="status",
            http_status=409,
        )
    previous = status_move(
        locked,
        to=Status.ACCEPTED,
        allowed=(Status.SUBMITTED,),
        decision_reason=note,
        decided_at=timezone.now(),
    )
    try:
        enterprise_update_facts(
            enterprise=locked.enterprise,
            facts={spec.profile_key: write_value(spec, locked.proposed_value)},
            source=locked.department,
            as_of=timezone.localdate(),
            by=by,
        )
    except ValidationError as error:
        messages = "；".join(m for ms in getattr(error, "message_dict", {"": error.messages}).values() for m in ms)
        raise ApplicationError(f"无法写入：{messages}", code="write_refused", field="value") from None
    # In this transaction, before the re-match FACTS_CHANGED starts after commit: the past decisions the
    # corrected (or now verified) figure decides otherwise are listed for staff (补发 / 追回复核).
    events.emit(events.FACTS_CORRECTED, enterprise_ids=[locked.enterprise_id], facts=[spec.name], by=by.pk)
    department = department_name(locked.department)
    outcome = (
        f"已将“{spec.label}”更正为{value_text(spec, locked.proposed_value)}"
        if locked.kind == Kind.CORRECTION
        else f"已核验“{spec.label}”（{value_text(spec, locked.proposed_value)}）"
    )
    _record(
        correction=locked,
        previous=previous,
        to=Status.ACCEPTED,
        by=by,
        note=note or outcome,
        notify=sentences(
            f"{department}{outcome}，数据来源为{department}",
            f"办理意见：{note}" if note else "",
            "平台随即按新数据重新匹配政策，结果见“政策匹配”",
        ),
    )
    events.emit(events.CORRECTION_DECIDED, correction_id=locked.pk)
    return locked


@transaction.atomic
def correction_reject(*, correction: CorrectionRequest, by: User, reason: str) -> CorrectionRequest:
    """The department does not accept, with a reason the enterprise reads. The fact is left as it is."""
    _require_officer(by, correction)
    reason = require_reason(reason)
    locked = _lock(correction)
    spec = fact_for(locked.fact)
    previous = status_move(
        locked, to=Status.REJECTED, allowed=(Status.SUBMITTED,), decision_reason=reason, decided_at=timezone.now()
    )
    _record(
        correction=locked,
        previous=previous,
        to=Status.REJECTED,
        by=by,
        note=reason,
        notify=sentences(
            f"{department_name(locked.department)}未采纳贵企业关于“{spec.label}”的{locked.get_kind_display()}申请",
            f"理由：{reason}",
        ),
    )
    events.emit(events.CORRECTION_DECIDED, correction_id=locked.pk)
    return locked


@transaction.atomic
def correction_assign(*, correction: CorrectionRequest, by: User, assignee: User) -> CorrectionRequest:
    """Name another 数据专员 of the department as responsible (a timeline row; no notice)."""
    _require_officer(by, correction)
    if not selectors.officers_of(department=correction.department).filter(pk=assignee.pk).exists():
        raise ApplicationError(
            f"责任人必须是{department_name(correction.department)}的数据专员", code="invalid_assignee", field="assignee"
        )
    locked = _lock(correction)
    if locked.status != Status.SUBMITTED:
        raise ApplicationError("该申请已办结，不能改派", code="invalid_transition", field="status", http_status=409)
    locked.assignee = assignee
    locked.save(update_fields=["assignee", "updated_at"])
    _record(
        correction=locked,
        previous=locked.status,
        to=locked.status,
        by=by,
        note=f"责任人改为{assignee.get_full_name() or assignee.get_username()}",
        notify="",
    )
    return locked


@transaction.atomic
def department_assign(*, user: User, department: str) -> DepartmentAssignment:
    """Assign a 数据专员 to a department (idempotent)."""
    from portal.accounts.models import DEPARTMENT_CHOICES

    if department not in dict(DEPARTMENT_CHOICES):
        raise ApplicationError("未知的部门", code="invalid_choice", field="department")
    if not (user.is_superuser or has_role(user, Role.DATA_OFFICER)):
        raise ApplicationError("只能为数据专员指派部门", code="not_data_officer", field="user")
    assignment, _ = DepartmentAssignment.objects.get_or_create(user=user, department=department)
    return assignment
