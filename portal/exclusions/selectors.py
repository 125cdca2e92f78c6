"""Reads of the exclusion claims (the caller has checked the user may see the enterprise)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .services import conflict_message, holders_by_enterprise

if TYPE_CHECKING:
    from policies.models import PolicyVersion


def exclusion_conflict_note(*, version: PolicyVersion, enterprise_id: int) -> str:
    """与「X」同属一类事项，不重复享受 when another benefit holds one of `version`'s groups, else ""."""
    holders = holders_by_enterprise(version=version, enterprise_ids=[enterprise_id]).get(enterprise_id, [])
    return conflict_message(holders) if holders else ""
