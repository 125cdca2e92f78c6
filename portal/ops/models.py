"""A row a worker writes when asked: proves the broker → worker → database path end to end."""

from __future__ import annotations

from django.db import models


class WorkerProbe(models.Model):
    token = models.CharField(max_length=64, unique=True)
    worker_hostname = models.CharField(max_length=255)
    processed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "Worker 探针"
        verbose_name_plural = "Worker 探针"

    def __str__(self) -> str:
        return f"{self.token} @ {self.worker_hostname}"


class InvariantCheck(models.Model):
    """One run of `check_invariants` (nightly, or by hand): the counts of rows that break a rule of
    the data (see portal.ops.invariants). The latest is shown on the staff dashboard."""

    checked_at = models.DateTimeField("检查时间", db_index=True)
    counts = models.JSONField("各项计数", default=dict)  # invariant code → number of offending rows
    ok = models.BooleanField("全部为零", default=False)

    class Meta:
        verbose_name = "数据一致性检查"
        verbose_name_plural = "数据一致性检查"
        ordering = ("-checked_at", "-id")

    def __str__(self) -> str:
        return f"{self.checked_at:%Y-%m-%d %H:%M}: {'ok' if self.ok else self.counts}"
