"""Policies (惠企政策): a stable identity, immutable versions with a review workflow, golden cases."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q

from portal.jobs import Job
from portal.lifecycle import Transition


class BenefitKind(models.TextChoices):
    SUBSIDY = "subsidy", "资金补贴"
    TAX = "tax", "税收优惠"
    FINANCING = "financing", "融资支持"
    QUALIFICATION = "qualification", "资质认定"
    APPROVAL = "approval", "审批便利"
    SERVICE = "service", "服务"


class Mode(models.TextChoices):
    EXEMPT = "exempt", "免申即享"
    APPLY = "apply", "申报"


class ExpectedOutcome(models.TextChoices):
    """The evaluator's outcome statuses, as choices for golden cases."""

    ELIGIBLE = "eligible", "符合条件"
    NEEDS_INFO = "needs_info", "需补充信息"
    INELIGIBLE = "ineligible", "不符合条件"


# Every catalogue policy cites a section of this plan (policies/catalogue/plan.txt, whose heading carries the
# document number; tests/policies/test_plan_citation.py holds these to that text).
SOURCE_PLAN_TITLE = "《苏州高新区（虎丘区）国民经济和社会发展第十四个五年规划纲要和二〇三五年远景目标》"
SOURCE_PLAN_DOCUMENT_NUMBER = "苏高新管〔2021〕60号"

ONCE = "once"
benefit_period_validator = RegexValidator(
    r"^(once|20[0-9]{2})$", "兑现期应为“一次性”或四位年份（如 2026）", code="invalid_benefit_period"
)


def benefit_period_label(period: str) -> str:
    """一次性 / 2026年度: how a benefit period reads on a page (the stored code never does)."""
    return "一次性" if period == ONCE else f"{period}年度"


class Policy(models.Model):
    """The stable identity of a policy; its content lives in versions."""

    key = models.SlugField("标识", max_length=80, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="创建人", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "政策"
        verbose_name_plural = "政策"
        ordering = ["id"]

    def __str__(self) -> str:
        return self.key

    @property
    def current_published(self) -> PolicyVersion | None:
        """The published version, if any (at most one, by constraint)."""
        return self.versions.filter(status=PolicyVersion.Status.PUBLISHED).first()


class PolicyVersion(models.Model):
    """One version of a policy's content. Editable only while a draft; immutable once submitted."""

    class Status(models.TextChoices):
        DRAFT = "draft", "草稿"
        IN_REVIEW = "in_review", "审核中"
        PUBLISHED = "published", "已发布"
        RETIRED = "retired", "已停用"

    policy = models.ForeignKey(Policy, verbose_name="政策", on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField("版本号")
    status = models.CharField("状态", max_length=16, choices=Status.choices, default=Status.DRAFT)

    title = models.CharField("标题", max_length=200)
    summary = models.TextField("摘要", blank=True)
    body = models.TextField("正文", blank=True)
    source_section = models.CharField("出处章节", max_length=100, blank=True)
    source_quote = models.TextField("出处原文", blank=True)
    # The policy's own 文号 (e.g. 苏高新管〔2026〕1号) where the issuing document is known; "" when not stated.
    # Never filled by guess: notices say （未载明文号） instead.
    document_number = models.CharField("文号", max_length=100, blank=True, default="")
    department = models.CharField("责任部门", max_length=100, blank=True)
    contact_name = models.CharField("责任人", max_length=50, blank=True)
    contact_phone = models.CharField("联系电话", max_length=50, blank=True)

    benefit_kind = models.CharField("惠企类型", max_length=16, choices=BenefitKind.choices)
    benefit_description = models.TextField("惠企内容", blank=True)
    amount_max_wan = models.DecimalField("最高金额（万元）", max_digits=12, decimal_places=2, null=True, blank=True)
    amount_note = models.CharField("金额说明", max_length=200, blank=True)

    mode = models.CharField("兑现方式", max_length=16, choices=Mode.choices)
    # The benefit this version pays: "once" (一次性) or a year (年度). A corrected version of the same
    # period is the same benefit (one entitlement per enterprise); a new period is a new benefit.
    benefit_period = models.CharField(
        "兑现期",
        max_length=8,
        default=ONCE,
        validators=[benefit_period_validator],
        help_text="一次性，或按年度兑现的年份",
    )
    application_start = models.DateField("申报开始", null=True, blank=True)
    application_end = models.DateField("申报截止", null=True, blank=True)
    conditions_text = models.TextField("申报条件", blank=True)
    materials = models.JSONField("申报材料", default=list, blank=True)

    effective_from = models.DateField("生效日期")
    effective_to = models.DateField("失效日期", null=True, blank=True)
    chains = models.JSONField("产业链标签", default=list, blank=True)
    # 同一事项不重复享受: names of the exclusion groups (互斥事项组) this version belongs to. Within one
    # group an enterprise holds at most one payable benefit per 兑现期 (portal.exclusions holds the claims).
    exclusion_groups = models.JSONField("互斥事项组", default=list, blank=True)
    rule = models.JSONField("匹配规则")

    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="作者", on_delete=models.PROTECT, related_name="+"
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="提交人",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="审核人",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    approved_at = models.DateTimeField("审核时间", null=True, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    submitted_at = models.DateTimeField("提交时间", null=True, blank=True)
    published_at = models.DateTimeField("发布时间", null=True, blank=True)
    retired_at = models.DateTimeField("停用时间", null=True, blank=True)

    class Meta:
        verbose_name = "政策版本"
        verbose_name_plural = "政策版本"
        ordering = ["policy_id", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "number"], name="policy_version_number_unique"),
            # The public catalogue shows exactly one version per policy.
            models.UniqueConstraint(
                fields=["policy"],
                condition=Q(status="published"),
                name="policy_one_published_version",
                violation_error_message="每项政策只能有一个已发布版本",
            ),
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True) | Q(effective_to__gte=models.F("effective_from")),
                name="policy_version_effective_period_ordered",
                violation_error_message="失效日期不能早于生效日期",
            ),
            models.CheckConstraint(
                condition=Q(application_start__isnull=True)
                | Q(application_end__isnull=True)
                | Q(application_end__gte=models.F("application_start")),
                name="policy_version_application_window_ordered",
                violation_error_message="申报截止日期不能早于开始日期",
            ),
        ]
        indexes = [
            # The published catalogue's stamp (matching.selectors.published_stamp_sql: count, latest update,
            # highest id), which the one-enterprise read carries on every call: read from this index alone
            # instead of visiting every published version's row.
            models.Index(
                fields=["updated_at"],
                include=["id"],
                condition=Q(status="published"),
                name="policy_published_stamp",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title}（第{self.number}版）"

    @property
    def is_editable(self) -> bool:
        return self.status == self.Status.DRAFT

    @property
    def benefit_period_label(self) -> str:
        return benefit_period_label(self.benefit_period)

    def in_effect_on(self, day: date) -> bool:
        return dates_in_effect(self.effective_from, self.effective_to, day)


EXCLUSION_GROUP_MAX_LENGTH = 40
EXCLUSION_GROUPS_MAX = 5


def dates_in_effect(effective_from: date, effective_to: date | None, day: date) -> bool:
    """Whether a version with these dates is in effect on `day` (both ends included; no end: open)."""
    return effective_from <= day and (effective_to is None or day <= effective_to)


class PolicyTransition(Transition):
    """Audit row: who moved a version from one status to another, when, and why."""

    class Action(models.TextChoices):
        CREATE = "create", "创建"
        SUBMIT = "submit", "提交审核"
        APPROVE = "approve", "审核通过"
        REJECT = "reject", "退回修改"
        PUBLISH = "publish", "发布"
        RETIRE = "retire", "停用"

    version = models.ForeignKey(
        PolicyVersion, verbose_name="政策版本", on_delete=models.CASCADE, related_name="transitions"
    )
    action = models.CharField("操作", max_length=16, choices=Action.choices)
    to_status = models.CharField("新状态", max_length=16, choices=PolicyVersion.Status.choices)
    # Always a person, kept: an editor who moved a version cannot be deleted from under its record.
    by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="操作人", on_delete=models.PROTECT, related_name="+")
    comment = models.TextField("意见", blank=True)

    class Meta(Transition.Meta):
        verbose_name = "流转记录"
        verbose_name_plural = "流转记录"

    def __str__(self) -> str:
        return f"{self.get_action_display()}：{super().__str__()}"


class GoldenCase(models.Model):
    """An example enterprise profile with the outcome the version's rule must give it."""

    version = models.ForeignKey(
        PolicyVersion, verbose_name="政策版本", on_delete=models.CASCADE, related_name="golden_cases"
    )
    name = models.CharField("名称", max_length=200)
    # The golden-case profile format of the catalogue (see policies/golden.py).
    profile = models.JSONField("企业画像", default=dict, blank=True)
    expected = models.CharField("预期结果", max_length=16, choices=ExpectedOutcome.choices)
    # Evaluate as of this date; empty means today, moved into the version's effective period.
    on = models.DateField("评估日期", null=True, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "标准案例"
        verbose_name_plural = "标准案例"
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["version", "name"], name="golden_case_name_unique_per_version"),
        ]

    def __str__(self) -> str:
        return self.name


class PreviewRun(Job):
    """A pre-publication preview (发布前预览) computed by a worker, with progress for the console page.

    The page never waits for the district-wide count: it creates this row, a task fills it in, and
    the page polls. `result` is what policies.selectors.policy_preview returns. Status, claim and
    heartbeat: portal.jobs.
    """

    RUNNING_LABEL = "试算中"

    version = models.ForeignKey(
        PolicyVersion, verbose_name="政策版本", on_delete=models.CASCADE, related_name="preview_runs"
    )
    on = models.DateField("试算日期")
    result = models.JSONField("结果", null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="发起人", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "发布前预览"
        verbose_name_plural = "发布前预览"
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return f"{self.version} 预览 #{self.pk} {self.status_label}"
