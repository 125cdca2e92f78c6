"""Users of the portal: enterprise users (belong to one enterprise) and staff with roles."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser


class User(AbstractUser):
    """The portal's user. Enterprise membership and staff roles are added by the registry."""

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"
