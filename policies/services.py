"""Writes to the policy catalogue: create and edit drafts, the review workflow, versions, golden cases.

Workflow (two steps on the reviewer's side, each recorded as a PolicyTransition):

    draft --submit (editor)--> in_review --approve (reviewer, not the author or submitter)-->
    in_review + approved_by --publish (reviewer)--> published --retire (reviewer)--> retired
    in_review --reject (reviewer, with a reason)--> draft

Approval and publication are separate so that publishing (the moment the policy starts matching
enterprises) can be timed, and is re-checked against the golden cases on the day it happens.
Publishing a version retires the policy's previously published version. Versions are immutable
once submitted; changing a published policy means `policy_version_create_draft`.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify

from matching.core.describe import describe_condition
from matching.core.rules import RuleError, join, undecidable_conditions, validate_rule
from matching.core.vocabulary import INDUSTRY_CHAINS
from portal import events
from portal.accounts.permissions import require_policy_editor, require_policy_reviewer, require_staff
from portal.api.exceptions import ApplicationError
from portal.enterprises import selectors as enterprise_selectors
from portal.enterprises.models import Enterprise
from portal.enterprises.place_names import place_names
from portal.jobs import job_claim, job_fail, job_finish, job_progress, job_sweep

from . import tasks
from .golden import GoldenInput, GoldenProfileError, golden_check, golden_check_cases, golden_profile
from .models import (
    EXCLUSION_GROUP_MAX_LENGTH,
    EXCLUSION_GROUPS_MAX,
    GoldenCase,
    Mode,
    Policy,
    PolicyTransition,
    PolicyVersion,
    PreviewRun,
)
from .selectors import policy_preview

if TYPE_CHECKING:
    from portal.accounts.models import User


logger = logging.getLogger(__name__)

Status = PolicyVersion.Status
Action = PolicyTransition.Action

# The content of a version: what an editor edits and a new version copies.
CONTENT_FIELDS: tuple[str, ...] = (
    "title",
    "summary",
    "body",
    "source_section",
    "source_quote",
    "document_number",
    "department",
    "contact_name",
    "contact_phone",
    "benefit_kind",
    "benefit_description",
    "amount_max_wan",
    "amount_note",
    "mode",
    "benefit_period",
    "application_start",
    "application_end",
    "conditions_text",
    "materials",
    "effective_from",
    "effective_to",
    "chains",
    "exclusion_groups",
    "rule",
)
GOLDEN_FIELDS: tuple[str, ...] = ("name", "profile", "expected", "on")


def _check_field_names(fields: dict[str, Any], allowed: Iterable[str]) -> None:
    unknown = sorted(set(fields) - set(allowed))
    if unknown:
        raise ValidationError({name: ValidationError("不能修改此项", code="unknown_field") for name in unknown})


def rule_validation_error(error: Any) -> ValidationError:
    """A RuleError as field errors named by the offending node's path, e.g. `rule.all[1].value`."""
    by_field: dict[str, list[ValidationError]] = {}
    for item in error.errors:
        by_field.setdefault(join("rule", item.path), []).append(ValidationError(item.message, code=item.code))
    return ValidationError(by_field)


def validate_policy_rule(rule: Any) -> None:
    """Raise ValidationError naming the node path when `rule` is not a valid rule."""
    try:
        validate_rule(rule)
    except RuleError as error:
        raise rule_validation_error(error) from error


def normalise_exclusion_groups(groups: list[str]) -> list[str]:
    """Group names stripped, blanks and repeats dropped, in the author's order."""
    return list(dict.fromkeys(name.strip() for name in groups if name.strip()))


def exclusion_groups_error(groups: Any) -> ValidationError | None:
    """Why `groups` is not a valid list of 互斥事项组 names (None when it is)."""
    if not isinstance(groups, list) or any(not isinstance(name, str) for name in groups):
        return ValidationError("互斥事项组应为文字的列表", code="invalid_exclusion_groups")
    names = normalise_exclusion_groups(groups)
    if len(names) > EXCLUSION_GROUPS_MAX:
        return ValidationError(f"互斥事项组最多{EXCLUSION_GROUPS_MAX}个", code="too_many_exclusion_groups")
    too_long = [name for name in names if len(name) > EXCLUSION_GROUP_MAX_LENGTH]
    if too_long:
        return ValidationError(
            f"互斥事项组名称不能超过{EXCLUSION_GROUP_MAX_LENGTH}个字：{too_long[0][:20]}…",
            code="exclusion_group_too_long",
        )
    return None


def _validate_version(version: PolicyVersion) -> None:
    errors: dict[str, list[ValidationError]] = {}
    if not isinstance(version.chains, list) or any(chain not in INDUSTRY_CHAINS for chain in version.chains):
        errors["chains"] = [ValidationError("产业链标签不在“2+3+X”产业体系中", code="invalid_chain")]
    if not isinstance(version.materials, list) or any(
        not isinstance(item, str) or not item.strip() for item in version.materials
    ):
        errors["materials"] = [ValidationError("申报材料应为非空文字的列表", code="invalid_materials")]
    groups_error = exclusion_groups_error(version.exclusion_groups)
    if groups_error:
        errors["exclusion_groups"] = [groups_error]
    else:
        version.exclusion_groups = normalise_exclusion_groups(version.exclusion_groups)
    if version.effective_to and version.effective_from and version.effective_to < version.effective_from:
        errors["effective_to"] = [ValidationError("失效日期不能早于生效日期", code="invalid_period")]
    if version.application_start and version.application_end and version.application_end < version.application_start:
        errors["application_end"] = [ValidationError("申报截止日期不能早于开始日期", code="invalid_period")]
    if errors:
        raise ValidationError(errors)
    try:
        # Choices, lengths, required fields and the model's check constraints.
        version.full_clean(exclude=["policy", "author", "number"], validate_unique=False)
    except ValidationError as error:
        for name, messages in error.message_dict.items():
            errors.setdefault(name, []).extend(ValidationError(m, code="invalid") for m in messages)
    try:
        validate_policy_rule(version.rule)
    except ValidationError as error:
        for name, items in error.error_dict.items():
            errors.setdefault(name, []).extend(items)
    if errors:
        raise ValidationError(errors)


def _transition(
    version: PolicyVersion, *, action: str, from_status: str, by: User, comment: str = ""
) -> PolicyTransition:
    return PolicyTransition.objects.create(
        version=version, action=action, from_status=from_status, to_status=version.status, by=by, comment=comment
    )


def _lock_version(version: PolicyVersion) -> PolicyVersion:
    """Re-read the version under a row lock so that two reviewers cannot both move it."""
    # Lock order: the policy row first, then the version (the same in every service).
    Policy.objects.select_for_update().filter(pk=version.policy_id).first()
    return PolicyVersion.objects.select_for_update().select_related("policy").get(pk=version.pk)


def _require_status(version: PolicyVersion, *allowed: str) -> None:
    if version.status not in allowed:
        labels = "、".join(Status(s).label for s in allowed)
        raise ApplicationError(
            f"该版本当前为“{version.get_status_display()}”，此操作只适用于“{labels}”状态",
            code="invalid_status",
            extra={"status": version.status},
        )


def _generated_key(policy: Policy) -> str:
    """p-<year>-<id, 4 digits>: unique because the id is, stable because it never changes afterwards."""
    return f"p-{timezone.localdate().year}-{policy.pk:04d}"


@transaction.atomic
def policy_create(*, by: User, key: str = "", **fields: Any) -> PolicyVersion:
    """Create a policy and its first version (a draft authored by `by`). Returns the version.

    Without `key` the 政策标识 is generated (`p-2026-0061`): editors are not asked to invent an
    English slug. A given key (the API, the catalogue loader) is checked as before.
    """
    require_policy_editor(by)
    _check_field_names(fields, CONTENT_FIELDS)
    if key:
        if slugify(key) != key or not key.isascii():
            raise ValidationError({"key": ValidationError("标识只能包含小写字母、数字和连字符", code="invalid_key")})
        if Policy.objects.filter(key=key).exists():
            raise ValidationError({"key": ValidationError("该标识已存在", code="unique")})
        policy = Policy.objects.create(key=key, created_by=by)
    else:
        # The id is known only after the insert: a placeholder no slug can equal, replaced at once
        # (same transaction, so no one ever sees it).
        policy = Policy.objects.create(key=f"pending-{uuid.uuid4().hex}", created_by=by)
        policy.key = _generated_key(policy)
        if Policy.objects.filter(key=policy.key).exists():  # a hand-made key of that shape
            policy.key = f"{policy.key}-{uuid.uuid4().hex[:6]}"
        policy.save(update_fields=["key"])
    fields.setdefault("materials", [])
    fields.setdefault("chains", [])
    version = PolicyVersion(policy=policy, number=1, status=Status.DRAFT, author=by, **fields)
    _validate_version(version)
    version.save()
    _transition(version, action=Action.CREATE, from_status="", by=by)
    return version


@transaction.atomic
def policy_version_update(*, version: PolicyVersion, by: User, **fields: Any) -> PolicyVersion:
    """Edit a draft. Submitted versions are immutable."""
    require_policy_editor(by)
    _check_field_names(fields, CONTENT_FIELDS)
    version = _lock_version(version)
    if not version.is_editable:
        raise ApplicationError(
            "已提交的版本不能修改；如需修改已发布的政策，请新建版本",
            code="version_locked",
            extra={"status": version.status},
        )
    for name, value in fields.items():
        setattr(version, name, value)
    _validate_version(version)
    version.save()
    return version


@transaction.atomic
def policy_version_create_draft(*, policy: Policy, by: User) -> PolicyVersion:
    """Start a new version (number + 1) from the published one (or the latest), golden cases included."""
    require_policy_editor(by)
    Policy.objects.select_for_update().filter(pk=policy.pk).first()
    versions = PolicyVersion.objects.filter(policy=policy)
    open_version = versions.filter(status__in=[Status.DRAFT, Status.IN_REVIEW]).order_by("-number").first()
    if open_version is not None:
        raise ApplicationError(
            f"该政策已有未发布的第{open_version.number}版（{open_version.get_status_display()}），请在其基础上修改",
            code="open_version_exists",
            extra={"version_id": open_version.pk},
        )
    base = versions.filter(status=Status.PUBLISHED).first() or versions.order_by("-number").first()
    if base is None:
        raise ApplicationError("该政策没有可复制的版本", code="no_version")
    number = (versions.aggregate(m=Max("number"))["m"] or 0) + 1
    draft = PolicyVersion.objects.create(
        policy=policy,
        number=number,
        status=Status.DRAFT,
        author=by,
        **{name: getattr(base, name) for name in CONTENT_FIELDS},
    )
    GoldenCase.objects.bulk_create(
        GoldenCase(version=draft, **{name: getattr(case, name) for name in GOLDEN_FIELDS})
        for case in base.golden_cases.all()
    )
    _transition(draft, action=Action.CREATE, from_status="", by=by, comment=f"基于第{base.number}版新建")
    return draft


@transaction.atomic
def policy_submit(*, version: PolicyVersion, by: User, comment: str = "") -> PolicyVersion:
    """Send a draft for review; from here on it is immutable."""
    require_policy_editor(by)
    version = _lock_version(version)
    _require_status(version, Status.DRAFT)
    _validate_version(version)
    _require_contact(version)
    _require_decidable_for_exempt(mode=version.mode, rule=version.rule)
    version.status = Status.IN_REVIEW
    version.submitted_by = by
    version.submitted_at = timezone.now()
    version.save(update_fields=["status", "submitted_by", "submitted_at", "updated_at"])
    _transition(version, action=Action.SUBMIT, from_status=Status.DRAFT, by=by, comment=comment)
    return version


@transaction.atomic
def policy_approve(*, version: PolicyVersion, by: User, comment: str = "") -> PolicyVersion:
    """A reviewer who neither wrote nor submitted the version approves it for publication."""
    require_policy_reviewer(by)
    version = _lock_version(version)
    _require_status(version, Status.IN_REVIEW)
    if by.pk in (version.author_id, version.submitted_by_id):
        raise ApplicationError(
            "不能审核自己编写或提交的政策，请由其他审核人员审核", code="self_review_forbidden", http_status=403
        )
    if version.approved_by_id is not None:
        raise ApplicationError("该版本已审核通过，等待发布", code="already_approved")
    version.approved_by = by
    version.approved_at = timezone.now()
    version.save(update_fields=["approved_by", "approved_at", "updated_at"])
    _transition(version, action=Action.APPROVE, from_status=Status.IN_REVIEW, by=by, comment=comment)
    return version


@transaction.atomic
def policy_reject(*, version: PolicyVersion, by: User, comment: str) -> PolicyVersion:
    """Send a version under review back to its editors as a draft, saying why."""
    require_policy_reviewer(by)
    if not (comment or "").strip():
        raise ValidationError({"comment": ValidationError("退回时请说明原因", code="comment_required")})
    version = _lock_version(version)
    _require_status(version, Status.IN_REVIEW)
    version.status = Status.DRAFT
    version.approved_by = None
    version.approved_at = None
    version.submitted_by = None
    version.submitted_at = None
    version.save(update_fields=["status", "approved_by", "approved_at", "submitted_by", "submitted_at", "updated_at"])
    _transition(version, action=Action.REJECT, from_status=Status.IN_REVIEW, by=by, comment=comment)
    return version


def _require_contact(version: PolicyVersion) -> None:
    missing = [name for name in ("contact_name", "contact_phone") if not getattr(version, name).strip()]
    if missing:
        raise ApplicationError(
            "政策须落实到人：请填写责任人和联系电话",
            code="contact_required",
            field=missing[0],
        )


def _require_decidable_for_exempt(*, mode: str, rule: Any) -> None:
    """A 免申即享 version decides from verified department data alone: refuse one with a condition
    no verified source decides (an attestation, a judgement, a fact only self-declaration supplies),
    naming each by its number ("第N个条件：…"). The rule must be valid already."""
    if mode != Mode.EXEMPT:
        return

    try:
        found = undecidable_conditions(rule)
    except RuleError:
        return  # the rule's own errors are reported by _validate_version
    if not found:
        return
    items = [
        {"number": number, "path": path, "wording": describe_condition(cond, negated=negated), "reason": reason}
        for number, path, cond, negated, reason in found
    ]
    listed = "；".join(f"第{i['number']}个条件：{i['wording']}（{i['reason']}）" for i in items)
    raise ApplicationError(
        f"免申即享政策的每个条件都须由部门核验数据判定，以下条件不能：{listed}。"
        "请删除这些条件，或将办理方式改为“申报”。",
        code="undecidable_condition",
        field="rule",
        extra={"conditions": items},
    )


def _require_golden_cases_pass(version: PolicyVersion, *, today: date | None = None) -> None:
    failures = [r for r in golden_check(version, today=today, places=place_names()) if not r.passed]
    if failures:
        reasons = "；".join(r.reason for r in failures)
        raise ApplicationError(
            f"有{len(failures)}个标准案例未通过，不能发布：{reasons}",
            code="golden_case_failed",
            extra={"failures": [r.to_dict() for r in failures]},
        )


def _publish(version: PolicyVersion, *, by: User, comment: str = "") -> PolicyVersion:
    """Retire the current published version (if any) and publish `version`. Caller holds the locks."""
    now = timezone.now()
    previous = PolicyVersion.objects.select_for_update().filter(policy_id=version.policy_id, status=Status.PUBLISHED)
    for old in previous.exclude(pk=version.pk):
        # Retire first: at most one published version per policy is a database constraint.
        old.status = Status.RETIRED
        old.retired_at = now
        old.save(update_fields=["status", "retired_at", "updated_at"])
        _transition(
            old, action=Action.RETIRE, from_status=Status.PUBLISHED, by=by, comment=f"被第{version.number}版取代"
        )
    from_status = version.status
    version.status = Status.PUBLISHED
    version.published_at = now
    version.save(update_fields=["status", "published_at", "updated_at"])
    _transition(version, action=Action.PUBLISH, from_status=from_status, by=by, comment=comment)
    version_id = version.pk
    events.emit(events.POLICY_PUBLISHED, version_id=version_id)
    return version


@transaction.atomic
def policy_publish(*, version: PolicyVersion, by: User, comment: str = "") -> PolicyVersion:
    """Publish an approved version: refused without a responsible person, or while a golden case fails."""
    require_policy_reviewer(by)
    version = _lock_version(version)
    _require_status(version, Status.IN_REVIEW)
    if version.approved_by_id is None:
        raise ApplicationError("该版本尚未审核通过，不能发布", code="not_approved")
    _require_contact(version)
    _validate_version(version)
    _require_decidable_for_exempt(mode=version.mode, rule=version.rule)
    _require_golden_cases_pass(version)
    return _publish(version, by=by, comment=comment)


@transaction.atomic
def policy_retire(*, version: PolicyVersion, by: User, comment: str) -> PolicyVersion:
    """Withdraw a published version: the policy leaves the public catalogue and stops matching."""
    require_policy_reviewer(by)
    if not (comment or "").strip():
        raise ValidationError({"comment": ValidationError("停用时请说明原因", code="comment_required")})
    version = _lock_version(version)
    _require_status(version, Status.PUBLISHED)
    version.status = Status.RETIRED
    version.retired_at = timezone.now()
    version.save(update_fields=["status", "retired_at", "updated_at"])
    _transition(version, action=Action.RETIRE, from_status=Status.PUBLISHED, by=by, comment=comment)
    version_id = version.pk
    events.emit(events.POLICY_RETIRED, version_id=version_id)
    return version


# Golden cases: part of a version's content, so editable only while it is a draft.


def _clean_golden(case: GoldenCase) -> None:
    errors: dict[str, list[ValidationError]] = {}
    try:
        case.full_clean(exclude=["version"], validate_unique=False)
    except ValidationError as error:
        for name, messages in error.message_dict.items():
            errors.setdefault(name, []).extend(ValidationError(m, code="invalid") for m in messages)
    try:
        golden_profile(case.profile, places=place_names())
    except GoldenProfileError as error:
        name = f"profile.{error.field}" if error.field else "profile"
        errors.setdefault(name, []).append(ValidationError(error.message, code=error.code))
    if GoldenCase.objects.filter(version_id=case.version_id, name=case.name).exclude(pk=case.pk).exists():
        errors.setdefault("name", []).append(ValidationError("同一版本中已有同名案例", code="unique"))
    if errors:
        raise ValidationError(errors)


def _require_draft_for_golden(version: PolicyVersion) -> None:
    if not version.is_editable:
        raise ApplicationError(
            "已提交的版本不能修改标准案例；如需修改，请新建版本",
            code="version_locked",
            extra={"status": version.status},
        )


@transaction.atomic
def golden_case_create(
    *, version: PolicyVersion, by: User, name: str, profile: dict, expected: str, on: date | None = None
) -> GoldenCase:
    require_policy_editor(by)
    version = _lock_version(version)
    _require_draft_for_golden(version)
    case = GoldenCase(version=version, name=name, profile=profile, expected=expected, on=on)
    _clean_golden(case)
    case.save()
    return case


@transaction.atomic
def golden_case_update(*, case: GoldenCase, by: User, **fields: Any) -> GoldenCase:
    require_policy_editor(by)
    _check_field_names(fields, GOLDEN_FIELDS)
    version = _lock_version(case.version)
    _require_draft_for_golden(version)
    case = GoldenCase.objects.get(pk=case.pk)
    for name, value in fields.items():
        setattr(case, name, value)
    _clean_golden(case)
    case.save()
    return case


@transaction.atomic
def golden_case_delete(*, case: GoldenCase, by: User) -> None:
    require_policy_editor(by)
    version = _lock_version(case.version)
    _require_draft_for_golden(version)
    GoldenCase.objects.filter(pk=case.pk).delete()


def version_content(version: PolicyVersion) -> dict[str, Any]:
    """The content fields of a version, as a dict comparable with what an import would write."""
    return {name: getattr(version, name) for name in CONTENT_FIELDS}


def golden_content(cases: Iterable[GoldenCase | dict[str, Any]]) -> list[tuple]:
    """Golden cases in a canonical, comparable form."""
    rows = []
    for case in cases:
        get = case.get if isinstance(case, dict) else lambda name, c=case: getattr(c, name)
        rows.append((get("name"), get("expected"), get("on"), _canonical_json(get("profile"))))
    return sorted(rows, key=lambda row: row[0])


def _canonical_json(value: Any) -> str:
    import json

    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def validate_import(*, fields: dict[str, Any], golden_cases: list[dict[str, Any]]) -> None:
    """Everything `policy_version_import` would refuse, without writing (ValidationError/ApplicationError)."""
    _check_field_names(fields, CONTENT_FIELDS)
    version = PolicyVersion(number=1, status=Status.DRAFT, **fields)
    _validate_version(version)
    _require_contact(version)
    _require_decidable_for_exempt(mode=version.mode, rule=version.rule)  # an import is published
    errors: dict[str, list[ValidationError]] = {}
    names = [case.get("name") for case in golden_cases]
    for index, case in enumerate(golden_cases):
        _check_field_names(case, GOLDEN_FIELDS)
        golden = GoldenCase(**case)
        try:
            golden.full_clean(exclude=["version"], validate_unique=False)
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                errors.setdefault(f"golden_cases[{index}].{name}", []).extend(ValidationError(m) for m in messages)
        if names.count(case.get("name")) > 1:
            errors.setdefault(f"golden_cases[{index}].name", []).append(
                ValidationError("同一政策中已有同名案例", code="unique")
            )
    if errors:
        raise ValidationError(errors)

    results = golden_check_cases(
        rule=version.rule,
        effective_from=version.effective_from,
        effective_to=version.effective_to,
        cases=[GoldenInput(c["name"], c["profile"], c["expected"], c.get("on")) for c in golden_cases],
        places=place_names(),
    )
    failures = [r for r in results if not r.passed]
    if failures:
        raise ApplicationError(
            "；".join(r.reason for r in failures),
            code="golden_case_failed",
            extra={"failures": [r.to_dict() for r in failures]},
        )


@transaction.atomic
def policy_version_import(
    *, key: str, fields: dict[str, Any], golden_cases: list[dict[str, Any]], by: User, comment: str
) -> tuple[PolicyVersion | None, str]:
    """Publish `fields` as the policy `key` unless the last version `by` imported already says the same.

    For the catalogue loader: `by` is the system user that authors catalogue versions. Comparing with
    the last version *it* wrote (not the newest one) means a re-load does not undo a staff edit, while
    a changed data file becomes a new published version. Returns (version or None, "created" /
    "updated" / "unchanged"). The caller validates first (`validate_import`); this checks again.
    """
    validate_import(fields=fields, golden_cases=golden_cases)
    policy, created = Policy.objects.get_or_create(key=key, defaults={"created_by": by})
    if not created and policy.created_by_id != by.pk:
        raise ApplicationError(f"标识 {key} 已被非政策清单创建的政策使用", code="key_taken", field="key")
    Policy.objects.select_for_update().filter(pk=policy.pk).first()
    versions = PolicyVersion.objects.filter(policy=policy)
    last = versions.filter(author=by).order_by("-number").first()
    if (
        last is not None
        and version_content(last) == fields
        and golden_content(last.golden_cases.all()) == (golden_content(golden_cases))
    ):
        return None, "unchanged"
    number = (versions.aggregate(m=Max("number"))["m"] or 0) + 1
    version = PolicyVersion.objects.create(policy=policy, number=number, status=Status.DRAFT, author=by, **fields)
    GoldenCase.objects.bulk_create(GoldenCase(version=version, **case) for case in golden_cases)
    _transition(version, action=Action.CREATE, from_status="", by=by, comment=comment)
    version.status = Status.IN_REVIEW
    version.submitted_by = by
    version.submitted_at = timezone.now()
    version.save(update_fields=["status", "submitted_by", "submitted_at", "updated_at"])
    _transition(version, action=Action.SUBMIT, from_status=Status.DRAFT, by=by, comment=comment)
    _publish(version, by=by, comment=comment)
    return version, "created" if last is None else "updated"


# Preview before publishing (发布前预览), computed by a worker: request → claim → execute (or fail).

PREVIEW_CHUNK = 500  # enterprises between two progress updates
PREVIEW_SAMPLE_SIZE = 8


def preview_run_request(*, version: PolicyVersion, by: User, on: date | None = None) -> PreviewRun:
    """Record a preview and send its task once the row is committed. Any staff role may ask."""
    require_staff(by)
    with transaction.atomic():
        run = PreviewRun.objects.create(version=version, requested_by=by, on=on or timezone.localdate())
        run_id = run.pk
        transaction.on_commit(lambda: _send_preview(run_id))
    return run


def _send_preview(run_id: int) -> None:
    from kombu.exceptions import OperationalError as BrokerError

    try:
        tasks.preview_run_task.delay(run_id)
    except BrokerError:
        # The row stays queued and the page says so; asking again sends a new one.
        logger.warning("broker unavailable: preview run %s stays queued", run_id)


def preview_run_claim(*, run_id: int) -> PreviewRun | None:
    """Mark a run running under a new claim (portal.jobs.job_claim); None when another worker has it or it
    is finished.

    A redelivered message (the same id again) finds the row running or done and does nothing; only a
    run whose worker died (no heartbeat for JOB_STALE_AFTER_SECONDS) is taken over. It starts again from
    the first enterprise: a preview only counts, and keeps no partial tally worth resuming from.
    """
    return job_claim(
        PreviewRun.objects.select_related("version"), pk=run_id, processed=0, total=Enterprise.objects.count()
    )


def preview_run_execute(*, run: PreviewRun, chunk: int = PREVIEW_CHUNK) -> PreviewRun:
    """Count the district for a claimed run, saving progress every `chunk` enterprises, then the result."""

    def counted(profiles: Iterable[Any]) -> Iterable[Any]:
        for done, profile in enumerate(profiles, start=1):
            yield profile
            if done % chunk == 0:
                job_progress(run, processed=done)  # JobLost once another worker took the run over

    result = policy_preview(
        version=run.version,
        on=run.on,
        sample_size=PREVIEW_SAMPLE_SIZE,
        profiles=counted(enterprise_selectors.enterprise_profiles(chunk_size=chunk)),
    )
    job_finish(run, result=result, processed=result["total"], total=result["total"])
    run.refresh_from_db()
    return run


def preview_runs_sweep(*, queued_after_seconds: float | None = None) -> int:
    """Send again previews whose task was lost: queued (broker down when asked) or running with a stale heartbeat.

    Sending twice is harmless: only one claim succeeds (preview_run_claim).
    """
    return job_sweep(PreviewRun.objects.all(), send=_send_preview, queued_after_seconds=queued_after_seconds)


def preview_run_fail(*, run_id: int, error: BaseException | str, claim: uuid.UUID | None = None) -> None:
    """Record a preview as failed (unless done); with `claim`, only while that claim still holds it."""
    job_fail(PreviewRun.objects.all(), pk=run_id, error=error, claim=claim)
