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
