"""Small pieces shared by the models and services that move a row through statuses (jobs: portal.jobs)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from portal.accounts.roles import Role, has_any_role
from portal.api.exceptions import ApplicationError


def status_move(locked: Any, *, to: str, allowed: Iterable[str], **fields: Any) -> str:
    """Move a row (already locked by the caller) to status `to` and save; returns the previous status.

    Refused with `invalid_transition` (409) unless its current status is in `allowed`; `fields` are
    saved with the status (e.g. a reason).
    """
    if locked.status not in tuple(allowed):
        raise ApplicationError(
            f"当前状态为“{locked.get_status_display()}”，不能改为“{type(locked).Status(to).label}”",
            code="invalid_transition",
            field="status",
            http_status=409,
        )
    previous = locked.status
    locked.status = to
    for name, value in fields.items():
        setattr(locked, name, value)
    locked.save(update_fields=["status", "updated_at", *fields])
    return previous


class ActorRole(models.TextChoices):
    """The role an actor held when they moved a row: what a timeline shows instead of a staff member's name."""

    SYSTEM = "system", "系统（部门数据核验）"
    ENTERPRISE = "enterprise", "企业用户"
    REVIEWER = "reviewer", "审核人"
    DATA_OFFICER = "data_officer", "数据专员"
    POLICY_EDITOR = "policy_editor", "政策编辑"


def actor_role(user: Any) -> ActorRole:
    """The role an actor holds for the audit trail: none (the system), the deciding staff role they hold
    (审核人 before 数据专员 before 政策编辑), else the enterprise's own user."""
    if user is None:
        return ActorRole.SYSTEM
    for role in (ActorRole.REVIEWER, ActorRole.DATA_OFFICER, ActorRole.POLICY_EDITOR):
        if has_any_role(user, Role(role.value)):
            return role
    return ActorRole.ENTERPRISE


class Transition(models.Model):
    """One step of a status timeline (an entitlement's, an application's, a policy version's): from which
    status to which, who took it, in which role, and when. Oldest first.

    Each subclass adds the row it moves (a foreign key with related_name="transitions"), `to_status` with
    its model's status choices, and its own words (reason, note, comment). `by_role` is the actor's role
    at that moment, filled from `by` when the row is written without one.
    """

    ByRole = ActorRole

    from_status = models.CharField("原状态", max_length=16, blank=True, default="")
    to_status = models.CharField("新状态", max_length=16)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    by_role = models.CharField("操作角色", max_length=16, choices=ActorRole.choices, default=ActorRole.SYSTEM)
    at = models.DateTimeField("时间", default=timezone.now)

    class Meta:
        abstract = True
        ordering = ("at", "id")

    def __str__(self) -> str:
        return f"{self.from_status or '—'} → {self.to_status}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self._state.adding and self.by_id is not None and self.by_role == ActorRole.SYSTEM:
            self.by_role = actor_role(self.by)  # a person is never "the system": their role now
        super().save(*args, **kwargs)
