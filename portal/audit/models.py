"""The audit trail (审计日志): who did what, when, to what, from where; append-only.

No foreign keys on purpose: an audit row must outlive (and never be changed by the deletion of) the
user or object it names. PostgreSQL refuses UPDATE and DELETE on the table (migration 0002); in
production the application's role should also lack those privileges (deploy/SECURITY.md).
"""

from __future__ import annotations

from django.db import models


class AuditEvent(models.Model):
    at = models.DateTimeField("时间", db_index=True)
    actor_id = models.BigIntegerField("操作人ID", null=True, blank=True)
    actor_name = models.CharField("操作人", max_length=150, blank=True, default="")
    actor_roles = models.CharField("操作人角色", max_length=200, blank=True, default="")
    ip = models.GenericIPAddressField("来源地址", null=True, blank=True)
    action = models.CharField("操作", max_length=64, db_index=True)
    object_type = models.CharField("对象类型", max_length=64, blank=True, default="")
    object_id = models.CharField("对象ID", max_length=64, blank=True, default="")
    object_label = models.CharField("对象", max_length=300, blank=True, default="")
    before = models.JSONField("变更前", null=True, blank=True)
    after = models.JSONField("变更后", null=True, blank=True)
    detail = models.TextField("说明", blank=True, default="")

    class Meta:
        verbose_name = "审计日志"
        verbose_name_plural = "审计日志"
        ordering = ("-at", "-id")
        indexes = [models.Index(fields=("object_type", "object_id"), name="audit_object_idx")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name or '系统'} {self.action} {self.object_label}"
