"""Writes of the exclusion claims. Called inside the caller's transaction (the entitlement's creation, the
application's approval), never on their own: a claim commits or rolls back with the benefit it holds."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils import timezone

from portal.api.exceptions import ApplicationError

from .models import ExclusionClaim

if TYPE_CHECKING:
    from policies.models import PolicyVersion


def conflict_message(holders: Sequence[ExclusionClaim]) -> str:
    """与「X」同属一类事项，不重复享受 (naming every holder once)."""
    titles = "」「".join(dict.fromkeys(claim.holder_title for claim in holders)) or "其他政策"
    return f"与「{titles}」同属一类事项，不重复享受"


def _claims(
    version: PolicyVersion, enterprise_id: int, *, entitlement_id: int | None = None, application_id: int | None = None
) -> list[ExclusionClaim]:
    now = timezone.now()
    return [
        ExclusionClaim(
            enterprise_id=enterprise_id,
            group=group,
            period=version.benefit_period,
            policy_id=version.policy_id,
            policy_version=version,
            entitlement_id=entitlement_id,
            application_id=application_id,
            claimed_at=now,
        )
        for group in sorted(version.exclusion_groups)
    ]


def claims_take_for_entitlements(
    *, version: PolicyVersion, entitlements: Sequence[tuple[int, int]]
) -> dict[int, list[ExclusionClaim]]:
    """Claim every group of `version` for these new entitlements [(entitlement_id, enterprise_id)].

    Set-based: one INSERT … ON CONFLICT DO NOTHING (rows in (enterprise, group) order, so two concurrent runs
    wait for each other instead of deadlocking); the unique key decides. An entitlement that did not get
    every group keeps none of them. Returns the losers: {entitlement_id: the claims of the other benefits
    that hold its groups}.
    """
    if not version.exclusion_groups or not entitlements:
        return {}
    ordered = sorted(entitlements, key=lambda pair: pair[1])
    rows = [
        claim
        for entitlement_id, enterprise_id in ordered
        for claim in _claims(version, enterprise_id, entitlement_id=entitlement_id)
    ]
    ExclusionClaim.objects.bulk_create(rows, ignore_conflicts=True, batch_size=5000)
    ids = [entitlement_id for entitlement_id, _ in ordered]
    held: dict[int, int] = {}
    for entitlement_id in ExclusionClaim.objects.filter(entitlement_id__in=ids).values_list(
        "entitlement_id", flat=True
    ):
        held[entitlement_id] = held.get(entitlement_id, 0) + 1
    wanted = len(version.exclusion_groups)
    losers = {e: enterprise for e, enterprise in ordered if held.get(e, 0) < wanted}
    if not losers:
        return {}
    ExclusionClaim.objects.filter(entitlement_id__in=list(losers)).delete()
    holders = holders_by_enterprise(version=version, enterprise_ids=list(losers.values()))
    return {e: holders.get(enterprise, []) for e, enterprise in losers.items()}


def claims_take_where_free(*, version: PolicyVersion, entitlements: Sequence[tuple[int, int]]) -> None:
    """Claim `version`'s groups for entitlements that already stand (rebased on a version that names groups
    its predecessor did not): whatever is free is taken, nothing is set aside. A group another benefit holds
    stays with it; check_invariants counts such a pair (duplicate_exclusive_benefits) for staff."""
    if not version.exclusion_groups or not entitlements:
        return
    rows = [
        claim
        for entitlement_id, enterprise_id in sorted(entitlements, key=lambda pair: pair[1])
        for claim in _claims(version, enterprise_id, entitlement_id=entitlement_id)
    ]
    ExclusionClaim.objects.bulk_create(rows, ignore_conflicts=True, batch_size=5000)


def holders_by_enterprise(*, version: PolicyVersion, enterprise_ids: Sequence[int]) -> dict[int, list[ExclusionClaim]]:
    """The claims other benefits hold on `version`'s groups for its period, by enterprise."""
    found: dict[int, list[ExclusionClaim]] = {}
    if not version.exclusion_groups:
        return found
    claims = (
        ExclusionClaim.objects.filter(
            enterprise_id__in=list(enterprise_ids), group__in=version.exclusion_groups, period=version.benefit_period
        )
        .exclude(policy_id=version.policy_id)
        .select_related("policy_version")
        .order_by("enterprise_id", "group")
    )
    for claim in claims:
        found.setdefault(claim.enterprise_id, []).append(claim)
    return found


def claims_take_for_application(*, version: PolicyVersion, enterprise_id: int, application_id: int) -> None:
    """Claim every group of `version` for an approved application, or refuse (409 `exclusive_conflict`)."""
    if not version.exclusion_groups:
        return
    holders = holders_by_enterprise(version=version, enterprise_ids=[enterprise_id]).get(enterprise_id, [])
    if not holders:
        try:
            with transaction.atomic():  # a savepoint: a concurrent claim turns into the same refusal
                ExclusionClaim.objects.bulk_create(_claims(version, enterprise_id, application_id=application_id))
            return
        except IntegrityError:
            holders = holders_by_enterprise(version=version, enterprise_ids=[enterprise_id]).get(enterprise_id, [])
    raise ApplicationError(
        f"{conflict_message(holders)}：该企业已享受同组政策，不能再通过本项申报",
        code="exclusive_conflict",
        http_status=409,
        extra={"groups": sorted({claim.group for claim in holders})},
    )


def claims_take_for_entitlement(*, version: PolicyVersion, enterprise_id: int, entitlement_id: int) -> None:
    """Claim every group for one entitlement the enterprise chose (the groups must be free)."""
    if not version.exclusion_groups:
        return
    try:
        with transaction.atomic():
            ExclusionClaim.objects.bulk_create(_claims(version, enterprise_id, entitlement_id=entitlement_id))
    except IntegrityError as error:
        holders = holders_by_enterprise(version=version, enterprise_ids=[enterprise_id]).get(enterprise_id, [])
        raise ApplicationError(conflict_message(holders), code="exclusive_conflict", http_status=409) from error


def claims_release(*, entitlement_id: int | None = None, application_id: int | None = None) -> int:
    """Free the groups a revoked entitlement or a set-aside benefit held."""
    if entitlement_id is not None:
        return ExclusionClaim.objects.filter(entitlement_id=entitlement_id).delete()[0]
    if application_id is not None:
        return ExclusionClaim.objects.filter(application_id=application_id).delete()[0]
    return 0
