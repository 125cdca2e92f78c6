"""免申即享 entitlements (兑现记录): created when an enterprise's verified data makes it eligible."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class Entitlement(models.Model):
    """One enterprise's benefit under one exempt policy version, decided from department data."""

    class Status(models.TextChoices):
        DETERMINED = "determined", "已认定"
        NOTIFIED = "notified", "已通知，待确认"
        CONFIRMED = "confirmed", "企业已确认"
        OBJECTED = "objected", "企业有异议"
        DISBURSED = "disbursed", "已兑现"
        REVOKED = "revoked", "已撤销"

    enterprise = models.ForeignKey("enterprises.Enterprise", on_delete=models.CASCADE, related_name="entitlements")
    policy_version = models.ForeignKey("policies.PolicyVersion", on_delete=models.PROTECT, related_name="entitlements")
    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.DETERMINED)
    # The evaluator's explanation that justified the entitlement (Outcome.to_dict()), written in the
    # decision's transaction and kept current while the outcome stands (frozen once disbursed or revoked).
    explanation = models.JSONField("认定依据", null=True, blank=True)
    objection_reason = models.TextField("异议理由", blank=True, default="")
    resolution = models.TextField("处理意见", blank=True, default="")
    revoke_reason = models.TextField("撤销理由", blank=True, default="")
    determined_at = models.DateTimeField("认定时间")
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "免申即享兑现记录"
        verbose_name_plural = "免申即享兑现记录"
        ordering = ("-determined_at", "-id")
        constraints = [
            # Exactly once: however often matching runs or a task is redelivered.
            models.UniqueConstraint(fields=("enterprise", "policy_version"), name="entitlement_once_per_version"),
            models.CheckConstraint(
                condition=Q(status__in=["determined", "notified", "confirmed", "objected", "disbursed", "revoked"]),
                name="entitlement_status",
            ),
        ]
        indexes = [models.Index(fields=("status", "determined_at"), name="entitlement_status_idx")]

    def __str__(self) -> str:
        return f"{self.enterprise_id} × {self.policy_version_id}: {self.status}"


class EntitlementTransition(models.Model):
    """Audit row: who moved an entitlement, when and why (by is null for the system)."""

    entitlement = models.ForeignKey(Entitlement, on_delete=models.CASCADE, related_name="transitions")
    from_status = models.CharField("原状态", max_length=12, blank=True, default="")
    to_status = models.CharField("新状态", max_length=12, choices=Entitlement.Status.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.TextField("说明", blank=True, default="")
    at = models.DateTimeField("时间")

    class Meta:
        verbose_name = "兑现状态变更"
        verbose_name_plural = "兑现状态变更"
        ordering = ("at", "id")

    def __str__(self) -> str:
        return f"{self.from_status or '—'} → {self.to_status}"
