"""Writes of receipts: only ever INSERTs (see models). Called inside the deciding transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from matching.core.receipt import ENGINE_VERSION, receipt_facts, rule_hash
from policies.models import PolicyVersion

from .models import Receipt


@dataclass(frozen=True, slots=True)
class DecisionRow:
    """One changed match decision, as the writing path knows it."""

    record_id: int
    enterprise_id: int
    outcome: str
    verified: bool
    previous_outcome: str
    previous_verified: bool
    explanation: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class EntitlementChange:
    """One creation or status change of an entitlement (an EntitlementTransition, as written)."""

    entitlement_id: int
    enterprise_id: int
    policy_version_id: int
    status: str
    previous_status: str
    reason: str
    by_role: str
    explanation: dict[str, Any] | None = None  # the entitlement's 认定依据 when no decision receipt exists


def version_rule_hash(version_id: int) -> str:
    """sha256 of the version's rule (canonical JSON): one small query per call."""
    return rule_hash(PolicyVersion.objects.values_list("rule", flat=True).get(pk=version_id))


def facts_texts(explanation_texts: Sequence[str]) -> str:
    """A JSON array of receipt_facts for each explanation text (same order), for a bulk INSERT."""
    # orjson: thousands of explanations per statement in the nightly run; json's parse and dump cost ten times more.
    return "[" + ",".join(orjson.dumps(receipt_facts(orjson.loads(t))).decode() for t in explanation_texts) + "]"


def decision_receipts_create(*, version_id: int, rows: Sequence[DecisionRow], run_id: int | None, at: datetime) -> int:
    """Receipts for changed decisions (the ORM paths; PostgreSQL's bulk path writes them in its upsert)."""
    if not rows:
        return 0
    digest = version_rule_hash(version_id)
    Receipt.objects.bulk_create(
        [
            Receipt(
                kind=Receipt.Kind.DECISION,
                enterprise_id=r.enterprise_id,
                policy_version_id=version_id,
                match_record_id=r.record_id,
                outcome=r.outcome,
                verified=r.verified,
                previous_outcome=r.previous_outcome or "",
                previous_verified=bool(r.previous_verified),
                rule_hash=digest,
                engine_version=ENGINE_VERSION,
                explanation=r.explanation,
                facts=receipt_facts(r.explanation),
                run_id=run_id,
                at=at,
            )
            for r in rows
        ],
        batch_size=2000,
    )
    return len(rows)


def latest_decision_receipts(*, pairs: Sequence[tuple[int, int]]) -> dict[tuple[int, int], Receipt]:
    """(enterprise id, version id) → the latest decision receipt of that pair, for the pairs that have one."""
    if not pairs:
        return {}
    wanted = set(pairs)
    found: dict[tuple[int, int], Receipt] = {}
    enterprise_ids = sorted({e for e, _ in wanted})
    version_ids = sorted({v for _, v in wanted})
    rows = (
        Receipt.objects.filter(
            kind=Receipt.Kind.DECISION, enterprise_id__in=enterprise_ids, policy_version_id__in=version_ids
        )
        .order_by("enterprise_id", "policy_version_id", "-id")
        .iterator(chunk_size=2000)
    )
    for receipt in rows:
        key = (receipt.enterprise_id, receipt.policy_version_id)
        if key in wanted and key not in found:
            found[key] = receipt
    return found


def entitlement_receipts_create(*, changes: Sequence[EntitlementChange], at: datetime) -> int:
    """One receipt per entitlement change, resting on the latest decision receipt of its (enterprise, version):
    the rule hash, engine, explanation and facts are that decision's (else the entitlement's own 认定依据)."""
    if not changes:
        return 0
    bases = latest_decision_receipts(pairs=[(c.enterprise_id, c.policy_version_id) for c in changes])
    hashes: dict[int, str] = {}
    receipts = []
    for c in changes:
        basis = bases.get((c.enterprise_id, c.policy_version_id))
        explanation = basis.explanation if basis is not None and basis.explanation is not None else c.explanation
        if basis is not None:
            digest = basis.rule_hash
        else:
            digest = hashes.get(c.policy_version_id) or version_rule_hash(c.policy_version_id)
            hashes[c.policy_version_id] = digest
        receipts.append(
            Receipt(
                kind=Receipt.Kind.ENTITLEMENT,
                enterprise_id=c.enterprise_id,
                policy_version_id=c.policy_version_id,
                entitlement_id=c.entitlement_id,
                match_record_id=basis.match_record_id if basis is not None else None,
                outcome=basis.outcome if basis is not None else "",
                verified=basis.verified if basis is not None else False,
                status=c.status,
                previous_status=c.previous_status,
                reason=c.reason,
                by_role=c.by_role,
                rule_hash=digest,
                engine_version=basis.engine_version if basis is not None else ENGINE_VERSION,
                explanation=explanation,
                facts=receipt_facts(explanation),
                basis=basis,
                at=at,
            )
        )
    Receipt.objects.bulk_create(receipts, batch_size=2000)
    return len(receipts)
