"""Recall after a correction: list the past decisions a corrected rule or fact would now decide otherwise.

Old decision: the latest decision receipt of (enterprise, version); none means never decided eligible (the
bulk path writes nothing for an ineligible pair). Entitled: eligible and verified, for a 免申即享 version.
New evaluation: the pure evaluator, today, on the enterprise's current profile, with the corrected rule
(a rule correction) or the version's own rule (a fact correction). An item is listed where the two differ
in what the enterprise gets: 补发 (new entitled, old not) or 追回复核 (old entitled, new not; with the benefit's
entitlement, disbursed or not). Nothing is paid, revoked or clawed back here: staff approve or dismiss.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from matching.core.evaluator import CompiledRule, Outcome, Status, compile_rule
from matching.core.registry import FACTS
from matching.selectors import published_versions_any_period, today
from policies.models import Mode, PolicyVersion
from portal.accounts.models import User
from portal.accounts.permissions import require_deciding_staff, require_reason
from portal.api.exceptions import ApplicationError
from portal.enterprises.models import SIZE_INPUTS, Enterprise
from portal.enterprises.selectors import enterprise_profiles_by_id
from portal.entitlements.models import Entitlement
from portal.lifecycle import actor_role, status_move
from portal.receipts.services import latest_decision_receipts

from . import tasks
from .models import Correction, RecallItem, RecallItemTransition

if TYPE_CHECKING:
    from portal.receipts.models import Receipt

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Difference:
    """One past decision that would now differ (what the brute-force test compares)."""

    kind: str  # RecallItem.Kind
    enterprise_id: int
    policy_version_id: int
    old_receipt_id: int | None
    new_outcome: str
    new_verified: bool


def entitled(outcome: str, verified: bool) -> bool:
    return outcome == Status.ELIGIBLE and verified


def _new_outcome(compiled: CompiledRule, version: PolicyVersion, profile: Any, on: date) -> Outcome | None:
    """The new evaluation; None when the version is not in effect (it decides nobody)."""
    return compiled.evaluate(profile, on=on) if version.in_effect_on(on) else None


def differences(
    *,
    decided: PolicyVersion,
    deciding: PolicyVersion,
    enterprise_ids: Sequence[int] | None,
    on: date,
) -> list[tuple[Difference, Outcome | None]]:
    """Past decisions of `decided` that `deciding`'s rule (the same version for a fact correction) now decides
    otherwise, for these enterprises (None: the whole district)."""
    compiled = compile_rule(deciding.rule)
    queryset = Enterprise.objects.all() if enterprise_ids is None else Enterprise.objects.filter(pk__in=enterprise_ids)
    found: list[tuple[Difference, Outcome | None]] = []
    batch: list[tuple[int, Any]] = []

    def flush() -> None:
        receipts = latest_decision_receipts(pairs=[(pk, decided.pk) for pk, _ in batch])
        for pk, profile in batch:
            old: Receipt | None = receipts.get((pk, decided.pk))
            was = old is not None and entitled(old.outcome, old.verified)
            outcome = _new_outcome(compiled, deciding, profile, on)
            status = str(outcome.status) if outcome is not None else Status.INELIGIBLE
            verified = outcome.verified if outcome is not None else False
            now = entitled(status, verified)
            if was == now:
                continue
            kind = RecallItem.Kind.REISSUE if now else RecallItem.Kind.RECOVERY
            found.append(
                (Difference(kind, pk, decided.pk, old.pk if old is not None else None, status, verified), outcome)
            )
        batch.clear()

    for pk, profile in enterprise_profiles_by_id(queryset=queryset.order_by("pk")):
        batch.append((pk, profile))
        if len(batch) >= 2000:
            flush()
    flush()
    return found


def _items_create(
    *, correction: Correction, deciding: PolicyVersion, found: Iterable[tuple[Difference, Outcome | None]]
) -> list[RecallItem]:
    found = list(found)
    if not found:
        return []
    versions = {d.policy_version_id for d, _ in found}
    benefits = dict(PolicyVersion.objects.filter(pk__in=versions).values_list("pk", "policy_id"))
    periods = dict(PolicyVersion.objects.filter(pk__in=versions).values_list("pk", "benefit_period"))
    entitlements = {
        (e.enterprise_id, e.policy_id, e.period): e
        for e in Entitlement.objects.filter(
            enterprise_id__in={d.enterprise_id for d, _ in found},
            policy_id__in=set(benefits.values()),
            duplicate_of__isnull=True,
        )
    }
    now = timezone.now()
    items = []
    for d, outcome in found:
        entitlement = entitlements.get((d.enterprise_id, benefits[d.policy_version_id], periods[d.policy_version_id]))
        items.append(
            RecallItem(
                correction=correction,
                kind=d.kind,
                enterprise_id=d.enterprise_id,
                policy_version_id=d.policy_version_id,
                old_receipt_id=d.old_receipt_id,
                new_version=deciding,
                new_outcome=d.new_outcome,
                new_verified=d.new_verified,
                new_explanation=outcome.to_dict() if outcome is not None else None,
                entitlement=entitlement,
                disbursed=entitlement is not None and entitlement.status == Entitlement.Status.DISBURSED,
                created_at=now,
            )
        )
    RecallItem.objects.bulk_create(items, batch_size=2000, ignore_conflicts=True)
    return items


def replaced_version(version: PolicyVersion) -> PolicyVersion | None:
    """The earlier 免申即享 version whose benefit (same policy, same period) `version` corrects, if any."""
    if version.mode != Mode.EXEMPT:
        return None
    return (
        PolicyVersion.objects.filter(
            policy_id=version.policy_id,
            benefit_period=version.benefit_period,
            number__lt=version.number,
            status__in=(PolicyVersion.Status.RETIRED, PolicyVersion.Status.PUBLISHED),
            mode=Mode.EXEMPT,
        )
        .order_by("-number")
        .first()
    )


def recall_for_version_correction(
    *, version_id: int, by: User | int | None = None, on: date | None = None
) -> Correction | None:
    """A corrected version (it replaced an earlier version of the same benefit): every enterprise's decision
    under the earlier version, against the corrected rule. Once per version (a repeated call returns the
    first). None when the version corrects nothing (a first version, another period, not 免申即享)."""
    version = PolicyVersion.objects.get(pk=version_id)
    old = replaced_version(version)
    if old is None:
        return None
    existing = Correction.objects.filter(kind=Correction.Kind.RULE, version=version).first()
    if existing is not None:
        return existing
    found = differences(decided=old, deciding=version, enterprise_ids=None, on=on or today())
    try:
        with transaction.atomic():
            correction = Correction.objects.create(
                kind=Correction.Kind.RULE,
                version=version,
                replaced_version=old,
                by_id=by.pk if isinstance(by, User) else by,
                evaluated=Enterprise.objects.count(),
                at=timezone.now(),
            )
            _items_create(correction=correction, deciding=version, found=found)
    except IntegrityError:  # a concurrent call recorded it first
        return Correction.objects.get(kind=Correction.Kind.RULE, version=version)
    logger.info("recall for version %s (replacing %s): %s items", version.pk, old.pk, len(found))
    return correction


def recall_request_for_version(*, version_id: int) -> None:
    """POLICY_PUBLISHED handler (after commit): the district-wide recall runs in a worker."""
    from kombu.exceptions import OperationalError as BrokerError

    version = PolicyVersion.objects.filter(pk=version_id).first()
    if version is None or replaced_version(version) is None:
        return
    try:
        tasks.recall_version_task.delay(version_id)
    except BrokerError:
        # Not lost for good: recall_for_version_correction is idempotent, and `manage.py recall_version`
        # (or the task sent again) lists the same items once the broker is back.
        logger.warning("broker unavailable: recall for version %s not sent", version_id)


def affected_facts(names: Iterable[str]) -> set[str]:
    """The registry facts whose value a correction of `names` may move: the names, and 企业规模 when one of its
    inputs (industry, employees, revenue, total assets) was corrected. ValueError names an unknown fact."""
    read = set()
    for name in names:
        if name not in FACTS:
            raise ValueError(f"unknown fact {name!r}")
        read.add(name)
        if FACTS[name].profile_key in SIZE_INPUTS:
            read.add("size")
    return read


def recall_for_fact_correction(
    *, enterprise_ids: Sequence[int], facts: Sequence[str], by: User | int | None = None, on: date | None = None
) -> Correction | None:
    """Corrected department facts of these enterprises (a 数据纠错 accepted): their past decisions under every
    published 免申即享 version whose rule reads one of `facts`, against the corrected facts.

    The FACTS_CORRECTED handler: it runs in the correcting transaction, before the re-match that the
    correction's FACTS_CHANGED starts after commit, so each past decision is still the latest receipt.
    None when no published 免申即享 version reads those facts."""
    ids = sorted(set(enterprise_ids))
    names = sorted(set(facts))
    read = affected_facts(names)
    on = on or today()
    versions = [
        v for v in published_versions_any_period().filter(mode=Mode.EXEMPT) if compile_rule(v.rule).facts & read
    ]
    if not ids or not versions:
        return None
    with transaction.atomic():
        correction = Correction.objects.create(
            kind=Correction.Kind.FACT,
            enterprise_ids=ids,
            facts=names,
            by_id=by.pk if isinstance(by, User) else by,
            evaluated=len(ids) * len(versions),
            at=timezone.now(),
        )
        for version in versions:
            found = differences(decided=version, deciding=version, enterprise_ids=ids, on=on)
            _items_create(correction=correction, deciding=version, found=found)
    return correction


# --- Staff decisions ------------------------------------------------------------------------------

DECISIONS = {"approve": RecallItem.Status.APPROVED, "dismiss": RecallItem.Status.DISMISSED}


def recall_item_decide(*, item: RecallItem, by: User, decision: str, reason: str) -> RecallItem:
    """Approve or dismiss a pending item, with a reason (审核人 or 数据专员). Records the decision only:
    a 补发 is paid, and a 追回 pursued, through the usual procedures, never from here."""
    require_deciding_staff(by)
    if decision not in DECISIONS:
        raise ApplicationError("处理决定应为“批准”或“驳回”", code="invalid_choice", field="decision")
    reason = require_reason(reason)
    to = DECISIONS[decision]
    with transaction.atomic():
        locked = RecallItem.objects.select_for_update().get(pk=item.pk)
        previous = status_move(locked, to=to, allowed=(RecallItem.Status.PENDING,), reason=reason)
        RecallItemTransition.objects.create(
            item=locked,
            from_status=previous,
            to_status=to,
            by=by,
            by_role=actor_role(by),
            reason=reason,
            at=timezone.now(),
        )
    return locked
