"""Online applications (在线申报) for 申报-mode policies: one submission with attachments and a status timeline.

One row per (enterprise, policy version): a withdrawn application is reopened by submitting again (the same
row goes back to "submitted" and its timeline continues), so the history of the pair stays in one place.
"""

from __future__ import annotations

import os
import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q

from portal.lifecycle import Transition


class Application(models.Model):
    class Status(models.TextChoices):
        SUBMITTED = "submitted", "已提交"
        ACCEPTED = "accepted", "已受理"
        APPROVED = "approved", "已通过"
        REJECTED = "rejected", "未通过"
        RETURNED = "returned", "退回补正"
        WITHDRAWN = "withdrawn", "已撤回"

    enterprise = models.ForeignKey(
        "enterprises.Enterprise", verbose_name="企业", on_delete=models.CASCADE, related_name="applications"
    )
    policy_version = models.ForeignKey(
        "policies.PolicyVersion", verbose_name="政策版本", on_delete=models.PROTECT, related_name="applications"
    )
    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.SUBMITTED)
    contact_name = models.CharField("联系人", max_length=50)
    contact_phone = models.CharField("联系电话", max_length=30)
    statement = models.TextField("申报说明", blank=True, default="")
    # The latest staff reason (退回补正 / 未通过); every reason also stays on its transition row.
    staff_note = models.TextField("处理意见", blank=True, default="")
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="提交人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    submitted_at = models.DateTimeField("提交时间")
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "在线申报"
        verbose_name_plural = "在线申报"
        ordering = ("-submitted_at", "-id")
        constraints = [
            # One application per enterprise and policy version ("一次提交"); withdrawn ones are reopened.
            models.UniqueConstraint(fields=("enterprise", "policy_version"), name="application_once_per_version"),
            models.CheckConstraint(
                condition=Q(status__in=["submitted", "accepted", "approved", "rejected", "returned", "withdrawn"]),
                name="application_status",
            ),
        ]
        indexes = [models.Index(fields=("status", "submitted_at"), name="application_status_idx")]

    def __str__(self) -> str:
        return f"{self.enterprise_id} × {self.policy_version_id}: {self.status}"

    @property
    def is_decided(self) -> bool:
        return self.status in (self.Status.APPROVED, self.Status.REJECTED)

    @property
    def can_withdraw(self) -> bool:
        return self.status in (self.Status.SUBMITTED, self.Status.ACCEPTED, self.Status.RETURNED)

    @property
    def can_resubmit(self) -> bool:
        return self.status == self.Status.RETURNED


def attachment_path(instance: ApplicationAttachment, filename: str) -> str:
    """An unguessable path: 256 random bits, the validated extension only (never the uploaded name)."""
    ext = os.path.splitext(filename)[1].lower()
    token = secrets.token_hex(32)
    return f"applications/{token[:2]}/{token}{ext}"


class ApplicationAttachment(models.Model):
    """One uploaded file answering one required material (申报材料) of the policy version."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="attachments")
    material = models.CharField("对应材料", max_length=300)
    file = models.FileField("文件", upload_to=attachment_path, max_length=200)
    original_name = models.CharField("原文件名", max_length=255)
    size = models.PositiveBigIntegerField("大小（字节）")
    content_type = models.CharField("文件类型", max_length=100)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField("上传时间")

    class Meta:
        verbose_name = "申报材料"
        verbose_name_plural = "申报材料"
        ordering = ("id",)

    def __str__(self) -> str:
        return f"{self.material}: {self.original_name}"


class ApplicationTransition(Transition):
    """Audit row and status timeline: who moved an application, when and why (by is null for the system)."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="transitions")
    to_status = models.CharField("新状态", max_length=16, choices=Application.Status.choices)
    note = models.TextField("说明", blank=True, default="")

    class Meta(Transition.Meta):
        verbose_name = "申报状态变更"
        verbose_name_plural = "申报状态变更"
