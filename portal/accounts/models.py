"""Users of the portal: enterprise users (belong to one enterprise) and staff with roles; department API keys."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models

from matching.core.vocabulary import DEPARTMENT_SOURCES, SOURCES

DEPARTMENT_CHOICES = [(code, name) for code, name in SOURCES.items() if code in DEPARTMENT_SOURCES]


class User(AbstractUser):
    """The portal's user. `enterprise` set: an enterprise user; staff roles are Groups (see roles.py)."""

    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        verbose_name="所属企业",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"


class DepartmentApiKey(models.Model):
    """A key a department's system uses to push its records (部门信息共享); valid for one source only.

    Only a SHA-256 hash of the key is stored: keys are 256-bit random, so a slow hash adds nothing.
    The key is shown once, when it is created.
    """

    name = models.CharField("名称", max_length=100)
    source = models.CharField("数据来源部门", max_length=32, choices=DEPARTMENT_CHOICES)
    prefix = models.CharField("前缀", max_length=16, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    is_active = models.BooleanField("启用", default=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_used_at = models.DateTimeField("最近使用", null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "部门接口密钥"
        verbose_name_plural = "部门接口密钥"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(source__in=sorted(DEPARTMENT_SOURCES)), name="apikey_source_is_department"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.get_source_display()}）"

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @staticmethod
    def new_key() -> tuple[str, str]:
        """(prefix, full key) for a new key; the full key is `<prefix>.<secret>`."""
        prefix = secrets.token_hex(6)
        return prefix, f"{prefix}.{secrets.token_urlsafe(32)}"

    def matches(self, key: str) -> bool:
        return hmac.compare_digest(self.key_hash, self.hash_key(key))
