"""Reads of receipts, scoped by user: staff see every receipt, an enterprise's users their own, others none."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet
from django.http import Http404

from matching.core.receipt import rule_hash
from portal.accounts.roles import is_enterprise_user, is_staff_user

from .models import Receipt

if TYPE_CHECKING:
    from portal.accounts.models import User
    from portal.enterprises.models import Enterprise

OUTCOME_LABELS = {"eligible": "符合", "needs_info": "需补充信息", "ineligible": "不符合", "": "—"}
STATUS_LABELS = {
    "determined": "已认定",
    "notified": "已通知，待确认",
    "confirmed": "企业已确认",
    "objected": "企业有异议",
    "disbursed": "已兑现",
    "revoked": "已撤销（不予享受）",
    "pending_review": "待复核",
    "": "—",
}


def receipts_queryset_for_user(*, user: User) -> QuerySet[Receipt]:
    queryset = Receipt.objects.select_related("policy_version", "enterprise")
    if is_staff_user(user):
        return queryset
    if is_enterprise_user(user) and user.enterprise_id is not None:
        return queryset.filter(enterprise_id=user.enterprise_id)
    return queryset.none()


def receipt_get_for_user(*, user: User, receipt_id: int) -> Receipt:
    """The receipt if the user may see it; Http404 otherwise (a stranger learns nothing, not even that it exists)."""
    receipt = receipts_queryset_for_user(user=user).filter(pk=receipt_id).first()
    if receipt is None:
        raise Http404("未找到该认定依据")
    return receipt


def receipts_for_enterprise(*, enterprise: Enterprise, limit: int = 500) -> list[Receipt]:
    """The enterprise's receipts, newest first (the caller has already scoped the enterprise to the user)."""
    return list(Receipt.objects.filter(enterprise=enterprise).select_related("policy_version")[:limit])


def latest_receipt_ids_for_enterprise(
    *, enterprise_id: int, version_ids: list[int], entitlement_ids: list[int]
) -> tuple[dict[int, int], dict[int, int]]:
    """One query for a workspace page: (version id → latest decision receipt id, entitlement id → latest receipt id)."""
    rows = (
        Receipt.objects.filter(enterprise_id=enterprise_id)
        .filter(
            Q(kind=Receipt.Kind.DECISION, policy_version_id__in=version_ids)
            | Q(kind=Receipt.Kind.ENTITLEMENT, entitlement_id__in=entitlement_ids)
        )
        .order_by("-id")
        .values_list("kind", "policy_version_id", "entitlement_id", "id")
    )
    decisions: dict[int, int] = {}
    entitlements: dict[int, int] = {}
    for kind, version_id, entitlement_id, receipt_id in rows:
        if kind == Receipt.Kind.DECISION:
            decisions.setdefault(version_id, receipt_id)
        elif entitlement_id is not None:
            entitlements.setdefault(entitlement_id, receipt_id)
    return decisions, entitlements


def latest_entitlement_receipt_ids(*, entitlement_ids: list[int]) -> dict[int, int]:
    """entitlement id → the id of its latest receipt."""
    rows = (
        Receipt.objects.filter(entitlement_id__in=entitlement_ids, kind="entitlement")
        .order_by("entitlement_id", "-id")
        .values_list("entitlement_id", "id")
    )
    found: dict[int, int] = {}
    for entitlement_id, receipt_id in rows:
        if entitlement_id is not None:
            found.setdefault(entitlement_id, receipt_id)
    return found


def receipt_document(receipt: Receipt) -> dict[str, Any]:
    """The receipt as a self-contained JSON document: with the rule itself, so its hash can be checked."""
    version = receipt.policy_version
    return {
        "receipt_id": receipt.pk,
        "kind": receipt.kind,
        "kind_label": receipt.get_kind_display(),
        "at": receipt.at.isoformat(),
        "enterprise": {"credit_code": receipt.enterprise.credit_code, "name": receipt.enterprise.name},
        "policy_version": {
            "id": version.pk,
            "policy_id": version.policy_id,
            "number": version.number,
            "title": version.title,
            "mode": version.mode,
            "benefit_period": version.benefit_period,
        },
        "rule": version.rule,
        "rule_hash": receipt.rule_hash,
        "rule_hash_algorithm": "sha256 of canonical JSON (sorted keys, no spaces, UTF-8)",
        "rule_hash_matches": rule_hash(version.rule) == receipt.rule_hash,
        "engine_version": receipt.engine_version,
        "outcome": receipt.outcome,
        "outcome_label": OUTCOME_LABELS.get(receipt.outcome, receipt.outcome),
        "verified": receipt.verified,
        "previous_outcome": receipt.previous_outcome,
        "previous_outcome_label": OUTCOME_LABELS.get(receipt.previous_outcome, receipt.previous_outcome),
        "previous_verified": receipt.previous_verified,
        "entitlement_id": receipt.entitlement_id,
        "status": receipt.status,
        "status_label": STATUS_LABELS.get(receipt.status, receipt.status),
        "previous_status": receipt.previous_status,
        "reason": receipt.reason,
        "by_role": receipt.by_role,
        "basis_receipt_id": receipt.basis_id,
        "facts": receipt.facts,
        "explanation": receipt.explanation,
    }
