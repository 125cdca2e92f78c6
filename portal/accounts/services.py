"""Writes for accounts: staff roles and department API keys."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from matching.core.vocabulary import DEPARTMENT_SOURCES
from portal.api.exceptions import ApplicationError

from .models import DepartmentApiKey, User
from .roles import Role, forget_roles


@transaction.atomic
def user_set_roles(*, user: User, roles: Iterable[Role | str]) -> None:
    """Give `user` exactly these staff roles (Groups named by role code)."""
    wanted = {str(r) for r in roles}
    unknown = wanted - set(Role.values)
    if unknown:
        raise ApplicationError("未知的角色", code="invalid_role", field="roles")
    groups = {g.name: g for g in Group.objects.filter(name__in=Role.values)}
    for code in Role.values:
        if code not in groups:
            groups[code] = Group.objects.create(name=code)
    keep = [g for g in user.groups.all() if g.name not in Role.values]
    user.groups.set(keep + [groups[code] for code in sorted(wanted)])
    forget_roles(user)


@transaction.atomic
def api_key_create(*, name: str, source: str, by: User | None = None) -> tuple[DepartmentApiKey, str]:
    """Create a key for one department; returns the row and the key in clear (shown once, never stored)."""
    if source not in DEPARTMENT_SOURCES:
        raise ApplicationError("接口密钥只能发放给数据共享部门", code="invalid_source", field="source")
    prefix, key = DepartmentApiKey.new_key()
    row = DepartmentApiKey.objects.create(
        name=name, source=source, prefix=prefix, key_hash=DepartmentApiKey.hash_key(key), created_by=by
    )
    return row, key


def api_key_authenticate(*, key: str) -> DepartmentApiKey | None:
    """The active key row for `key`, or None."""
    key = key.strip()
    # Keys are short printable ASCII: anything else (a NUL byte, a megabyte of text) is no key, and
    # must not reach the database, which refuses NUL in a text parameter with an error.
    if len(key) > 200 or not key.isascii() or not key.isprintable():
        return None
    prefix, _, secret = key.partition(".")
    if not prefix or not secret:
        return None
    row = DepartmentApiKey.objects.filter(prefix=prefix, is_active=True).first()
    if row is None or not row.matches(key):
        return None
    now = timezone.now()
    if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=1):
        # Coarse on purpose: one write a minute per key, not one per request.
        DepartmentApiKey.objects.filter(pk=row.pk).update(last_used_at=now)
        row.last_used_at = now
    return row
