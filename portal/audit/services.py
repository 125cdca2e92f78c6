"""Writing the audit trail. Called inside the caller's transaction: an action rolled back leaves no row."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.utils import timezone

from portal.accounts.roles import roles_of

from .context import current_actor
from .models import AuditEvent

if TYPE_CHECKING:
    from django.db.models import Model

    from portal.accounts.models import User


# Fields never copied into the trail.
SECRET_FIELDS = frozenset({"password", "key_hash", "secret", "key"})


def snapshot(instance: Any, fields: list[str] | None = None) -> dict[str, Any]:
    """A JSON-able dict of a model instance's concrete fields (secrets left out)."""
    out: dict[str, Any] = {}
    for field in instance._meta.concrete_fields:
        name = field.attname
        if name in SECRET_FIELDS or (fields is not None and field.name not in fields):
            continue
        value = getattr(instance, name)
        out[field.name] = value if isinstance(value, (str, int, float, bool, type(None), list, dict)) else str(value)
    return out


def audit_record(
    *,
    action: str,
    obj: Model | None = None,
    object_type: str = "",
    object_id: Any = "",
    label: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    detail: str = "",
    actor: User | None = None,
) -> AuditEvent:
    """Append one event; the actor and address come from the request unless `actor` is given."""
    context = current_actor()
    user = actor if actor is not None else context.user
    signed_in = user if user is not None and user.is_authenticated else None
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
        label = label or str(obj)
    return AuditEvent.objects.create(
        at=timezone.now(),
        actor_id=signed_in.pk if signed_in else None,
        actor_name=signed_in.get_username() if signed_in else "",
        actor_roles=",".join(sorted(roles_of(signed_in))) if signed_in else "",
        ip=context.ip,
        action=action,
        object_type=object_type,
        object_id=str(object_id or ""),
        object_label=label[:300],
        before=before,
        after=after,
        detail=detail[:4000],
    )
