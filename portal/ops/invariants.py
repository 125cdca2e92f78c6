"""Rules the data must always obey, counted in SQL (`manage.py check_invariants`, the nightly beat).

Each count is the number of rows that break one rule; all must be zero:
- unexplained_entitlements / unexplained_records: an entitlement, or an eligible / needs-info match
  record, with no explanation (认定依据): a decision without its reasons;
- undecided_entitlements: an entitlement still standing (not revoked, not in 待复核, not a disbursed one
  already listed for 追回) whose current match record is not eligible and verified (or that has none):
  a benefit standing on no current decision;
- duplicate_payable_entitlements: entitlements beyond the first for one benefit (`payable_key`:
  enterprise, policy, benefit period) among the payable statuses: the same benefit could be paid twice.
  Rows the per-benefit migration already marked as duplicates (revoked, or listed for 追回) are known
  and not counted again.
- duplicate_exclusive_benefits: payable entitlements and approved applications beyond the first per
  (enterprise, exclusion group, period) of their versions (同一事项不重复享受): the claims table prevents
  them; one could only come from groups added to a policy after both benefits were granted.
"""

from __future__ import annotations

from django.db import connection, transaction
from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.utils import timezone

from matching.models import MatchOutcome, MatchRecord
from policies.models import PolicyVersion
from portal.applications.models import Application
from portal.entitlements.models import Entitlement

from .models import InvariantCheck

# Chinese names for the dashboard and the command's output (codes stay in the stored JSON).
LABELS: dict[str, str] = {
    "unexplained_entitlements": "无认定依据的免申即享兑现记录",
    "unexplained_records": "无判断依据的符合/待补充匹配记录",
    "undecided_entitlements": "当前判断已不是“符合且已核验”的未撤销兑现记录",
    "duplicate_payable_entitlements": "同一企业同一政策同一兑现期重复的可兑现记录",
    "duplicate_exclusive_benefits": "同一企业同一互斥事项组同一兑现期重复享受的记录",
}


def payable_statuses() -> tuple[str, ...]:
    """Statuses in which an entitlement has been, or may yet be, paid."""
    Status = Entitlement.Status
    return (
        Status.DETERMINED,
        Status.NOTIFIED,
        Status.CONFIRMED,
        Status.OBJECTED,
        Status.DISBURSED,
        Status.PENDING_REVIEW,  # staff may keep it: payable again
    )


def payable_key() -> tuple[str, ...]:
    """What may be paid once: the benefit (the database's unique key on entitlements says the same)."""
    return ("enterprise_id", "policy_id", "period")


def invariant_counts() -> dict[str, int]:
    """The number of rows breaking each rule (codes as in LABELS), one query per rule."""
    current_grant = MatchRecord.objects.filter(
        enterprise_id=OuterRef("enterprise_id"),
        policy_version_id=OuterRef("policy_version_id"),
        outcome=MatchOutcome.ELIGIBLE,
        verified=True,
    )
    duplicates = (
        Entitlement.objects.filter(status__in=payable_statuses(), duplicate_of__isnull=True)
        .values(*payable_key())
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .aggregate(extra=Sum("n") - Count("n"))["extra"]
    )
    return {
        "unexplained_entitlements": Entitlement.objects.filter(explanation__isnull=True).count(),
        "unexplained_records": MatchRecord.objects.filter(
            Q(outcome=MatchOutcome.ELIGIBLE) | Q(outcome=MatchOutcome.NEEDS_INFO), explanation__isnull=True
        ).count(),
        "undecided_entitlements": Entitlement.objects.exclude(
            status__in=(Entitlement.Status.REVOKED, Entitlement.Status.PENDING_REVIEW, Entitlement.Status.EXCLUDED)
        )
        .exclude(status=Entitlement.Status.DISBURSED, recovery_flagged_at__isnull=False)
        .filter(~Exists(current_grant))
        .count(),
        "duplicate_payable_entitlements": duplicates or 0,
        "duplicate_exclusive_benefits": _duplicate_exclusive_benefits(),
    }


def _duplicate_exclusive_benefits() -> int:
    """Benefits beyond the first per (enterprise, exclusion group, period): one query over both tables."""
    entitlement = connection.ops.quote_name(Entitlement._meta.db_table)
    application = connection.ops.quote_name(Application._meta.db_table)
    version = connection.ops.quote_name(PolicyVersion._meta.db_table)
    groups = "jsonb_array_elements_text(v.exclusion_groups)"
    # Table names from model metadata; every value is a parameter.
    sql = f"""
        SELECT COALESCE(SUM(n - 1), 0) FROM (
            SELECT b.enterprise_id, g.name, v.benefit_period, count(*) AS n
            FROM (
                SELECT enterprise_id, policy_version_id FROM {entitlement}
                WHERE status = ANY(%(payable)s) AND duplicate_of_id IS NULL
                UNION ALL
                SELECT enterprise_id, policy_version_id FROM {application} WHERE status = %(approved)s
            ) b
            JOIN {version} v ON v.id = b.policy_version_id
            CROSS JOIN LATERAL {groups} AS g(name)
            GROUP BY b.enterprise_id, g.name, v.benefit_period HAVING count(*) > 1
        ) d
    """  # noqa: S608
    if connection.vendor != "postgresql":
        return 0  # SQLite (`make run` without PostgreSQL) has no LATERAL; the claims' unique key holds there
    with connection.cursor() as cursor:
        cursor.execute(sql, {"payable": [str(s) for s in payable_statuses()], "approved": "approved"})
        return int(cursor.fetchone()[0])


def invariants_check() -> InvariantCheck:
    """Count every rule's offenders and store the result (the dashboard shows the latest)."""
    counts = invariant_counts()
    with transaction.atomic():
        return InvariantCheck.objects.create(checked_at=timezone.now(), counts=counts, ok=not any(counts.values()))


def latest_check() -> InvariantCheck | None:
    return InvariantCheck.objects.order_by("-checked_at", "-id").first()
