"""Recall after a correction (补发 / 追回): past decisions a corrected rule or fact would now decide otherwise.

A `Correction` is one corrected policy version (its rule replaced an earlier version's for the same benefit)
or one accepted correction of department facts for some enterprises. Its `RecallItem`s are the past
decisions whose outcome would now differ, each with the receipt of the old decision and the new evaluation
side by side: 补发 (should have been entitled) or 追回复核 (an entitlement that should not have been granted,
disbursed or not). Staff approve or dismiss each with a reason; nothing is paid or clawed back here.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from matching.core.registry import FACTS
from portal.lifecycle import Transition


class Correction(models.Model):
    class Kind(models.TextChoices):
        RULE = "rule", "政策规则更正"
        FACT = "fact", "企业数据更正"

    kind = models.CharField("更正类型", max_length=8, choices=Kind.choices)
    # kind rule: the corrected version and the version it replaced.
    version = models.ForeignKey(
        "policies.PolicyVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    replaced_version = models.ForeignKey(
        "policies.PolicyVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # kind fact: whose facts, which facts.
    enterprise_ids = models.JSONField("企业", default=list, blank=True)
    facts = models.JSONField("更正的数据项", default=list, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    evaluated = models.PositiveIntegerField("重新判定数", default=0)
    at = models.DateTimeField("时间")

    class Meta:
        verbose_name = "更正"
        verbose_name_plural = "更正"
        ordering = ("-at", "-id")
        constraints = [
            # A corrected version is recalled once, however often its publication is announced.
            models.UniqueConstraint(fields=("version",), condition=Q(kind="rule"), name="correction_once_per_version"),
            models.CheckConstraint(condition=Q(kind__in=["rule", "fact"]), name="recall_correction_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def facts_label(self) -> str:
        """The corrected facts in words: 纳税信用等级、失信主体认定."""
        return "、".join(FACTS[name].label if name in FACTS else name for name in self.facts)


class RecallItem(models.Model):
    class Kind(models.TextChoices):
        REISSUE = "reissue", "补发"
        RECOVERY = "recovery", "追回复核"

    class Status(models.TextChoices):
        PENDING = "pending", "待处理"
        APPROVED = "approved", "已批准"
        DISMISSED = "dismissed", "已驳回"

    correction = models.ForeignKey(Correction, on_delete=models.PROTECT, related_name="items")
    kind = models.CharField("类型", max_length=12, choices=Kind.choices)
    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.PENDING)
    enterprise = models.ForeignKey("enterprises.Enterprise", on_delete=models.PROTECT, related_name="+")
    # The version whose past decision is recalled, and the receipt of that decision (none: the enterprise
    # was never decided eligible, which the bulk path records by writing nothing).
    policy_version = models.ForeignKey("policies.PolicyVersion", on_delete=models.PROTECT, related_name="+")
    old_receipt = models.ForeignKey(
        "receipts.Receipt", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The version the new evaluation used (the corrected one for a rule correction, else policy_version).
    new_version = models.ForeignKey("policies.PolicyVersion", on_delete=models.PROTECT, related_name="+")
    new_outcome = models.CharField("重新判定结果", max_length=12)
    new_verified = models.BooleanField("重新判定已核验", default=False)
    new_explanation = models.JSONField("重新判定说明", null=True, blank=True)
    entitlement = models.ForeignKey(
        "entitlements.Entitlement", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    disbursed = models.BooleanField("列出时已兑现", default=False)
    reason = models.TextField("处理理由", blank=True, default="")
    created_at = models.DateTimeField("列出时间")
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "补发 / 追回复核事项"
        verbose_name_plural = "补发 / 追回复核事项"
        ordering = ("status", "-created_at", "-id")
        constraints = [
            models.UniqueConstraint(fields=("correction", "enterprise", "policy_version"), name="recall_item_once"),
            models.CheckConstraint(condition=Q(kind__in=["reissue", "recovery"]), name="recall_item_kind"),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "approved", "dismissed"]), name="recall_item_status"
            ),
        ]
        indexes = [models.Index(fields=("status", "created_at"), name="recall_item_status_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.enterprise_id} × {self.policy_version_id}: {self.status}"


class RecallItemTransition(Transition):
    item = models.ForeignKey(RecallItem, on_delete=models.CASCADE, related_name="transitions")
    to_status = models.CharField("新状态", max_length=12, choices=RecallItem.Status.choices)
    reason = models.TextField("理由", blank=True, default="")

    class Meta(Transition.Meta):
        verbose_name = "补发 / 追回复核处理记录"
        verbose_name_plural = "补发 / 追回复核处理记录"
