"""免申即享 entitlements (兑现记录): created when an enterprise's verified data makes it eligible."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q

from policies.models import PolicyVersion, benefit_period_label
from portal.lifecycle import Transition

ACTIVE_STATUSES = ("determined", "notified", "confirmed", "objected")


class Entitlement(models.Model):
    """One enterprise's benefit under an exempt policy for one benefit period, decided from department data.

    The benefit, not the version: a corrected version of the policy for the same period re-decides the
    entitlement (`policy_version` then points to the newer decision) but never creates a second one.
    `policy` and `period` are copied from the version so the database can hold that uniqueness.
    """

    class Status(models.TextChoices):
        DETERMINED = "determined", "已认定"
        NOTIFIED = "notified", "已通知，待确认"
        CONFIRMED = "confirmed", "企业已确认"
        OBJECTED = "objected", "企业有异议"
        DISBURSED = "disbursed", "已兑现"
        REVOKED = "revoked", "已撤销"
        # A newer version of the policy no longer finds the enterprise eligible: staff decide.
        PENDING_REVIEW = "pending_review", "待复核"
        # 同一事项不重复享受: another benefit of the same exclusion group holds the period (never payable;
        # the enterprise may choose this one instead while the other is not yet paid).
        EXCLUDED = "excluded", "同类不重复享受"

    enterprise = models.ForeignKey("enterprises.Enterprise", on_delete=models.CASCADE, related_name="entitlements")
    # No index of its own: every read by policy also names the period (entitlement_benefit_ver_idx, and the
    # unique per-benefit index with the enterprise). One on the policy alone drew the planner to it for
    # the reconcile pre-check, reading each benefit's every entitlement (262 ms against 2–3 ms on the bench).
    policy = models.ForeignKey("policies.Policy", on_delete=models.PROTECT, related_name="entitlements", db_index=False)
    period = models.CharField("兑现期", max_length=8)
    # The version whose (eligible, verified) decision backs the entitlement now.
    policy_version = models.ForeignKey("policies.PolicyVersion", on_delete=models.PROTECT, related_name="entitlements")
    status = models.CharField("状态", max_length=16, choices=Status.choices, default=Status.DETERMINED)
    # The evaluator's explanation that justified the entitlement (Outcome.to_dict()), written in the
    # decision's transaction and kept current while the outcome stands (frozen once disbursed or revoked).
    explanation = models.JSONField("认定依据", null=True, blank=True)
    objection_reason = models.TextField("异议理由", blank=True, default="")
    resolution = models.TextField("处理意见", blank=True, default="")
    revoke_reason = models.TextField("撤销理由", blank=True, default="")
    # Why the entitlement is 同类不重复享受: 与「X」同属一类事项，不重复享受.
    exclusion_note = models.CharField("不重复享受说明", max_length=300, blank=True, default="", db_default="")
    # A newer version that did NOT find the enterprise eligible, and its explanation (null when it stored
    # none: an ineligible decision without a record is evaluated when the review is opened).
    review_version = models.ForeignKey(
        "policies.PolicyVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    review_explanation = models.JSONField("复核依据", null=True, blank=True)
    status_before_review = models.CharField("复核前状态", max_length=16, choices=Status.choices, blank=True, default="")
    # Already disbursed but a newer version finds it no longer eligible: a possible 追回 case for staff.
    recovery_flagged_at = models.DateTimeField("列为可能追回", null=True, blank=True)
    recovery_note = models.TextField("追回核查意见", blank=True, default="")
    # Set only on rows merged by the data migration (two versions had each granted the same benefit).
    duplicate_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    determined_at = models.DateTimeField("认定时间")
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "免申即享兑现记录"
        verbose_name_plural = "免申即享兑现记录"
        ordering = ("-determined_at", "-id")
        constraints = [
            # Exactly once per benefit: however often matching runs, and whatever versions are published.
            models.UniqueConstraint(
                fields=("enterprise", "policy", "period"),
                condition=Q(duplicate_of__isnull=True),
                name="entitlement_once_per_benefit",
            ),
            models.CheckConstraint(
                condition=Q(
                    status__in=[
                        "determined",
                        "notified",
                        "confirmed",
                        "objected",
                        "disbursed",
                        "revoked",
                        "pending_review",
                        "excluded",
                    ]
                ),
                name="entitlement_status",
            ),
        ]
        indexes = [
            models.Index(fields=("status", "determined_at"), name="entitlement_status_idx"),
            # "Rests on another version than the benefit's current one" (entitlements_reconcile's pre-check):
            # two range probes that stop at the first row, instead of reading the benefit's every entitlement.
            models.Index(
                fields=("policy", "period", "policy_version"),
                condition=Q(duplicate_of__isnull=True),
                name="entitlement_benefit_ver_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.enterprise_id} × {self.policy_id}/{self.period}: {self.status}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Policy and period follow from the version that first granted the benefit.
        if self.policy_id is None or not self.period:
            policy_id, period = PolicyVersion.objects.values_list("policy_id", "benefit_period").get(
                pk=self.policy_version_id
            )
            self.policy_id = self.policy_id or policy_id
            self.period = self.period or period
        super().save(*args, **kwargs)

    @property
    def period_label(self) -> str:
        return benefit_period_label(self.period)


class EntitlementTransition(Transition):
    """Audit row: who moved an entitlement, when and why (by is null for the system).

    `by_role` is the actor's role at that moment (enterprise, reviewer, data_officer, system): pages
    show the enterprise the role of a staff member, never the person's user name. A row whose
    from_status equals to_status records a new decision under a newer policy version; the decision
    it replaced is kept in previous_version / previous_explanation.
    """

    entitlement = models.ForeignKey(Entitlement, on_delete=models.CASCADE, related_name="transitions")
    to_status = models.CharField("新状态", max_length=16, choices=Entitlement.Status.choices)
    policy_version = models.ForeignKey(
        "policies.PolicyVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    previous_version = models.ForeignKey(
        "policies.PolicyVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    previous_explanation = models.JSONField("原认定依据", null=True, blank=True)
    reason = models.TextField("说明", blank=True, default="")

    class Meta(Transition.Meta):
        verbose_name = "兑现状态变更"
        verbose_name_plural = "兑现状态变更"
