"""Decision notices (决定通知书): one immutable row per decision told to an enterprise.

A notice is written in the transaction that makes the decision (a 免申即享 grant, a revocation, a request
for more information, a review) and never changes afterwards: everything it states (the policy and its
legal basis, the facts used with their sources and dates, the remedies and their deadlines) is copied onto
the row, so it reads the same in ten years whatever happens to the policy or the enterprise's data. On
PostgreSQL a trigger refuses UPDATE and DELETE (migration 0002); `save` refuses to change a stored row.
"""

from __future__ import annotations

from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone

NUMBER_PREFIX = "HQ"


def notice_number(year: int, sequence: int) -> str:
    return f"{NUMBER_PREFIX}-{year}-{sequence:06d}"


class NoticeCounter(models.Model):
    """The last notice number issued in a year. Its row is locked while numbers are taken, so numbers are
    sequential per year without gaps or duplicates (a rolled-back decision gives its numbers back)."""

    year = models.PositiveSmallIntegerField("年度", primary_key=True)
    last = models.PositiveIntegerField("已用编号", default=0)

    class Meta:
        verbose_name = "通知书编号计数"
        verbose_name_plural = "通知书编号计数"

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class DecisionNotice(models.Model):
    class Kind(models.TextChoices):
        GRANTED = "granted", "享受"
        REFUSED = "refused", "不予享受"
        NEEDS_INFO = "needs_info", "需补充"
        PENDING_REVIEW = "pending_review", "待复核"

    TITLES: dict[str, str] = {
        Kind.GRANTED: "享受政策决定通知书",
        Kind.REFUSED: "不予享受政策决定通知书",
        Kind.NEEDS_INFO: "补充信息通知书",
        Kind.PENDING_REVIEW: "待复核通知书",
    }

    number = models.CharField("编号", max_length=20, unique=True)
    year = models.PositiveSmallIntegerField("年度")
    sequence = models.PositiveIntegerField("年度序号")
    # The unique (enterprise, dedupe_key) index starts with enterprise: no separate FK index needed.
    enterprise = models.ForeignKey(
        "enterprises.Enterprise", verbose_name="企业", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    enterprise_name = models.CharField("企业名称", max_length=200)
    credit_code = models.CharField("统一社会信用代码", max_length=18)
    kind = models.CharField("决定", max_length=16, choices=Kind.choices)
    # What the notice is about, e.g. "ent12:revoked" (the same key as the inbox notice): one notice per decision.
    dedupe_key = models.CharField("去重键", max_length=200)
    subject = models.CharField("事项", max_length=20)  # 免申即享 / 在线申报
    policy = models.ForeignKey("policies.Policy", verbose_name="政策", on_delete=models.PROTECT, related_name="+")
    policy_version = models.ForeignKey(
        "policies.PolicyVersion", verbose_name="政策版本", on_delete=models.PROTECT, related_name="+"
    )
    version_number = models.PositiveIntegerField("版本号")
    policy_title = models.CharField("政策名称", max_length=200)
    document_number = models.CharField("文号", max_length=100, blank=True)  # "" when the policy states none
    source_document = models.CharField("出处文件", max_length=300, blank=True)
    source_section = models.CharField("出处章节", max_length=100, blank=True)
    source_quote = models.TextField("出处原文", blank=True)
    department = models.CharField("作出决定的部门", max_length=100, blank=True)
    contact_name = models.CharField("联系人", max_length=50, blank=True)
    contact_phone = models.CharField("联系电话", max_length=50, blank=True)
    decision = models.TextField("决定内容")
    reasons = models.TextField("理由", blank=True)
    decided_by = models.CharField("决定方式", max_length=100)
    # [{"fact", "label", "value", "source", "as_of", "verified", "result"}]: the data the decision used.
    facts = models.JSONField("所依据的数据", default=list, blank=True, encoder=DjangoJSONEncoder)
    link = models.CharField("办理入口", max_length=500, blank=True)
    correction_link = models.CharField("数据纠错入口", max_length=500)
    issued_at = models.DateTimeField("作出时间", default=timezone.now)
    issued_on = models.DateField("通知书日期")
    review_deadline = models.DateField("行政复议申请期限")
    litigation_deadline = models.DateField("行政诉讼起诉期限")

    class Meta:
        ordering = ("-issued_at", "-id")
        verbose_name = "决定通知书"
        verbose_name_plural = "决定通知书"
        constraints = [
            models.UniqueConstraint(fields=("enterprise", "dedupe_key"), name="notice_once_per_key"),
            models.UniqueConstraint(fields=("year", "sequence"), name="notice_sequence_per_year"),
            models.CheckConstraint(
                condition=models.Q(kind__in=["granted", "refused", "needs_info", "pending_review"]),
                name="notice_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ValueError("决定通知书一经作出不得修改")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ValueError("决定通知书一经作出不得删除")

    @property
    def title(self) -> str:
        return self.TITLES[self.kind]
