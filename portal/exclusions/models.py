"""同一事项不重复享受: the claim an enterprise's benefit holds on an exclusion group (互斥事项组).

A policy version names its groups (`PolicyVersion.exclusion_groups`). Whenever an entitlement is created
payable or an application is approved, the same transaction writes one claim per group of its version;
the unique key on (enterprise, group, period) is what makes two payable benefits of one group for one
period impossible, also between two concurrent match runs. The benefit that finds a group taken loses:
its entitlement is created as 同类不重复享受 (`excluded`), its approval is refused.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class ExclusionClaim(models.Model):
    enterprise = models.ForeignKey(
        "enterprises.Enterprise", verbose_name="企业", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    group = models.CharField("互斥事项组", max_length=40)
    period = models.CharField("兑现期", max_length=8)
    policy = models.ForeignKey("policies.Policy", verbose_name="政策", on_delete=models.PROTECT, related_name="+")
    # The version that took the claim (its title names the holder in the loser's notice).
    policy_version = models.ForeignKey(
        "policies.PolicyVersion", verbose_name="政策版本", on_delete=models.PROTECT, related_name="+"
    )
    # Exactly one of these holds the claim; deleting the holder releases it.
    entitlement = models.ForeignKey(
        "entitlements.Entitlement",
        verbose_name="免申即享兑现记录",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="exclusion_claims",
    )
    application = models.ForeignKey(
        "applications.Application",
        verbose_name="在线申报",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="exclusion_claims",
    )
    claimed_at = models.DateTimeField("占用时间")

    class Meta:
        verbose_name = "互斥事项占用"
        verbose_name_plural = "互斥事项占用"
        ordering = ("enterprise_id", "group", "period")
        constraints = [
            models.UniqueConstraint(
                fields=("enterprise", "group", "period"),
                name="exclusion_claim_once_per_group",
                violation_error_message="同一企业同一互斥事项组同一兑现期只能享受一项",
            ),
            models.CheckConstraint(
                condition=Q(entitlement__isnull=False, application__isnull=True)
                | Q(entitlement__isnull=True, application__isnull=False),
                name="exclusion_claim_one_holder",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.enterprise_id} × {self.group}/{self.period}"

    @property
    def holder_title(self) -> str:
        return self.policy_version.title
