"""Follows (关注) and the private calendar tokens of the iCal feed."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Follow(models.Model):
    """An enterprise follows a policy (every version of it): it is told once when it becomes eligible,
    and when a fact the decision was missing has been supplied."""

    # The unique (enterprise, policy) index starts with enterprise: no separate FK index needed.
    enterprise = models.ForeignKey(
        "enterprises.Enterprise", verbose_name="企业", on_delete=models.CASCADE, related_name="follows", db_index=False
    )
    policy = models.ForeignKey("policies.Policy", verbose_name="政策", on_delete=models.CASCADE, related_name="follows")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="关注人", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField("关注时间", default=timezone.now)
    # The facts the decision was missing (registry names) when last looked at: a change that makes one
    # of them known is worth a notice.
    missing_facts = models.JSONField("待补充信息", default=list, blank=True)

    class Meta:
        verbose_name = "政策关注"
        verbose_name_plural = "政策关注"
        ordering = ("-created_at", "-id")
        constraints = [models.UniqueConstraint(fields=("enterprise", "policy"), name="follow_once_per_policy")]

    def __str__(self) -> str:
        return f"{self.enterprise_id} → {self.policy_id}"


class CalendarToken(models.Model):
    """The secret of a user's private iCal feed URL. Only its SHA-256 is kept: the URL is shown once,
    when it is made; regenerating replaces it, revoking deletes it (the old URL then answers 404)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name="用户", on_delete=models.CASCADE, related_name="calendar_token"
    )
    digest = models.CharField("令牌摘要", max_length=64, unique=True)
    created_at = models.DateTimeField("生成时间", default=timezone.now)
    last_used_at = models.DateTimeField("最近订阅时间", null=True, blank=True)

    class Meta:
        verbose_name = "日历订阅令牌"
        verbose_name_plural = "日历订阅令牌"

    def __str__(self) -> str:
        return f"calendar token of {self.user_id}"
