"""What a page needs to put 此数据有误 / 申请核验 beside a fact: the form's address and the open requests."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from portal.accounts.roles import is_enterprise_user
from portal.corrections import selectors
from portal.corrections.facts import correctable_facts
from portal.enterprises.models import Enterprise

# Register field (the fact's profile_key) → registry fact name, for the facts a department can correct.
CORRECTABLE_FIELDS: dict[str, str] = {spec.profile_key: spec.name for spec in correctable_facts()}
CORRECTABLE_FACTS: frozenset[str] = frozenset(CORRECTABLE_FIELDS.values())


def correction_links(request: Any, enterprise: Enterprise) -> dict[str, Any]:
    """For the enterprise's own users only (nothing for staff or anyone else)."""
    user = request.user
    if not is_enterprise_user(user) or user.enterprise_id != enterprise.pk:
        return {}
    return {
        "correction_url": reverse("frontend:enterprise_correction_new", args=[enterprise.credit_code]),
        "correction_open": selectors.open_fields(enterprise=enterprise),
        "correctable_facts": CORRECTABLE_FACTS,
    }
