"""Staff roles (stored as Django Groups named by the role code) and the helpers every app uses."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from portal.accounts.models import User


class Role(models.TextChoices):
    POLICY_EDITOR = "policy_editor", "政策编辑"
    REVIEWER = "reviewer", "审核人"
    DATA_OFFICER = "data_officer", "数据专员"
    AUDITOR = "auditor", "审计员"


# The staff who decide on an enterprise's case (entitlements, applications), in the order pages name them.
DECIDING_ROLES: tuple[Role, ...] = (Role.REVIEWER, Role.DATA_OFFICER)

_CACHE_ATTR = "_huiqi_role_codes"


def roles_of(user: User | AnonymousUser | None) -> frozenset[str]:
    """Role codes the user holds; superusers hold every role. Cached on the user object for the request."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    if user.is_superuser:
        return frozenset(Role.values)
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is None:
        cached = frozenset(user.groups.filter(name__in=Role.values).values_list("name", flat=True))
        setattr(user, _CACHE_ATTR, cached)
    return cached


def remember_roles(user: User | AnonymousUser, roles: frozenset[str]) -> None:
    """Set the roles the user holds, read by the caller in this request (portal.accounts.backends)."""
    setattr(user, _CACHE_ATTR, roles)


def forget_roles(user: User | AnonymousUser | None) -> None:
    """Drop the cached roles (after the user's groups changed)."""
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def has_role(user: User | AnonymousUser | None, role: Role | str) -> bool:
    return str(role) in roles_of(user)


def has_any_role(user: User | AnonymousUser | None, *roles: Role | str) -> bool:
    held = roles_of(user)
    return any(str(r) in held for r in roles)


def is_staff_user(user: User | AnonymousUser | None) -> bool:
    """Government staff: a superuser or anyone holding at least one role."""
    return bool(roles_of(user))


def is_enterprise_user(user: User | AnonymousUser | None) -> bool:
    """A user who belongs to an enterprise (and is not staff)."""
    return (
        user is not None
        and getattr(user, "is_authenticated", False)
        and user.is_active
        and getattr(user, "enterprise_id", None) is not None
        and not is_staff_user(user)
    )
