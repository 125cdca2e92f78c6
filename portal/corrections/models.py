"""数据纠错 / 申请核验: an enterprise asks the department that owns a fact to correct or verify it.

A request names one registry fact (matching.core.registry), the value the enterprise believes is right
(for a verification: the self-declared value it holds), the department whose queue it goes to, a due date
in working days and the data officer responsible. The department accepts (the value is written with the
department as its source, through portal.enterprises.services) or rejects with a reason; every step is a
transition row. Data officers see the queues of the departments they are assigned to (DepartmentAssignment).
"""

from __future__ import annotations

import os
import secrets

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils import timezone

from matching.core.registry import FACTS, source_label
from portal.accounts.models import DEPARTMENT_CHOICES
from portal.lifecycle import Transition


class DepartmentAssignment(models.Model):
    """A staff user works for a department (数据专员 of 税务局, …): they see and decide its correction queue."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="工作人员",
        on_delete=models.CASCADE,
        related_name="department_assignments",
        db_index=False,
    )
    department = models.CharField("部门", max_length=32, choices=DEPARTMENT_CHOICES)
    created_at = models.DateTimeField("指派时间", auto_now_add=True)

    class Meta:
        verbose_name = "部门指派"
        verbose_name_plural = "部门指派"
        ordering = ("department", "user_id")
        constraints = [
            models.UniqueConstraint(fields=("user", "department"), name="department_assignment_once"),
        ]
        indexes = [models.Index(fields=("department",), name="department_assignment_dept_idx")]

    def __str__(self) -> str:
        return f"{self.user} → {self.get_department_display()}"


class CorrectionRequest(models.Model):
    class Kind(models.TextChoices):
        CORRECTION = "correction", "数据纠错"
        VERIFICATION = "verification", "申请核验"

    class Status(models.TextChoices):
        SUBMITTED = "submitted", "待办理"
        ACCEPTED = "accepted", "已采纳"
        REJECTED = "rejected", "未采纳"

    enterprise = models.ForeignKey(
        "enterprises.Enterprise", verbose_name="企业", on_delete=models.CASCADE, related_name="correction_requests"
    )
    kind = models.CharField("类型", max_length=16, choices=Kind.choices)
    fact = models.CharField("信息项", max_length=40)  # the registry fact's name (matching.core.registry.FACTS)
    field = models.CharField("字段", max_length=40)  # its column on the register (the fact's profile_key)
    department = models.CharField("办理部门", max_length=32, choices=DEPARTMENT_CHOICES)
    # What the register held when the request was made (value, source and date), and what is asked for.
    current_value = models.JSONField("原值", null=True, blank=True, encoder=DjangoJSONEncoder)
    current_source = models.CharField("原值来源", max_length=64, blank=True, default="")
    current_as_of = models.DateField("原值数据日期", null=True, blank=True)
    proposed_value = models.JSONField("申请值", encoder=DjangoJSONEncoder)
    statement = models.TextField("情况说明", blank=True, default="")
    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.SUBMITTED)
    due_on = models.DateField("办理期限")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="责任人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decision_reason = models.TextField("办理意见", blank=True, default="")
    decided_at = models.DateTimeField("办结时间", null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="提交人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("提交时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "数据纠错申请"
        verbose_name_plural = "数据纠错申请"
        ordering = ("-created_at", "-id")
        constraints = [
            # One open request per enterprise and fact: a second is a duplicate until the first is decided.
            models.UniqueConstraint(
                fields=("enterprise", "field"), condition=Q(status="submitted"), name="correction_open_once_per_fact"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["submitted", "accepted", "rejected"]), name="correction_status"
            ),
            models.CheckConstraint(condition=Q(kind__in=["correction", "verification"]), name="correction_kind"),
        ]
        indexes = [models.Index(fields=("department", "status", "due_on"), name="correction_queue_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}: {self.enterprise_id} {self.fact}"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.SUBMITTED

    @property
    def is_overdue(self) -> bool:
        """Open past its due date (逾期)."""
        return self.is_open and self.due_on < timezone.localdate()

    # The fact's words, from its registry definition (portal.corrections.facts).
    @property
    def fact_label(self) -> str:

        spec = FACTS.get(self.fact)
        return spec.label if spec else self.fact

    @property
    def current_text(self) -> str:
        from .facts import value_text

        spec = FACTS.get(self.fact)
        if not self.current_source:
            return "未提供"
        return value_text(spec, self.current_value) if spec else str(self.current_value)

    @property
    def proposed_text(self) -> str:
        from .facts import value_text

        spec = FACTS.get(self.fact)
        return value_text(spec, self.proposed_value) if spec else str(self.proposed_value)

    @property
    def current_source_label(self) -> str:
        return source_label(self.current_source)


def evidence_path(instance: CorrectionEvidence, filename: str) -> str:
    """An unguessable path: 256 random bits and the validated extension only (never the uploaded name)."""
    ext = os.path.splitext(filename)[1].lower()
    token = secrets.token_hex(32)
    return f"corrections/{token[:2]}/{token}{ext}"


class CorrectionEvidence(models.Model):
    """A file the enterprise attached as evidence (证明材料); served only by scoped views."""

    request = models.ForeignKey(CorrectionRequest, on_delete=models.CASCADE, related_name="evidence")
    file = models.FileField("文件", upload_to=evidence_path, max_length=200)
    original_name = models.CharField("原文件名", max_length=255)
    size = models.PositiveBigIntegerField("大小（字节）")
    content_type = models.CharField("文件类型", max_length=100)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField("上传时间")

    class Meta:
        verbose_name = "证明材料"
        verbose_name_plural = "证明材料"
        ordering = ("id",)

    def __str__(self) -> str:
        return self.original_name


class CorrectionTransition(Transition):
    """One step of a request's timeline: submitted, assigned, accepted or rejected (with its note)."""

    request = models.ForeignKey(CorrectionRequest, on_delete=models.CASCADE, related_name="transitions")
    to_status = models.CharField("新状态", max_length=16, choices=CorrectionRequest.Status.choices)
    note = models.TextField("说明", blank=True, default="")

    class Meta(Transition.Meta):
        verbose_name = "数据纠错状态变更"
        verbose_name_plural = "数据纠错状态变更"
