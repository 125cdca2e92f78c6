"""应享未享: the funnel of each published policy, eligible → notified → applied → granted → disbursed.

Counted with aggregate queries over the current (published) version's match records, never with a
loop over enterprises: one grouped query gives every policy's stages and drop-out reasons, one more the
needs_info counts. Each stage counts the enterprises found eligible now that reached it:

| stage | 免申即享 (exempt) | 申报 (apply) |
|---|---|---|
| eligible 符合条件 | an eligible record of the published version (verified or not) | the same |
| notified 已告知 | an entitlement was created (created with its push) | a 可申报 push for the version |
| applied 已办理 | the enterprise confirmed or objected (确认 / 异议) | an application not withdrawn |
| granted 已认定 | confirmed or disbursed | approved |
| disbursed 已兑现 | disbursed | not recorded in the portal: None |

Drop-out reasons: missing facts (needs_info records; for exempt also eligible on self-declared facts,
so no entitlement), window closed (apply, eligible, the window ended, no application), objection
(exempt: objected and not confirmed since), not approved (apply: rejected), same-kind benefit
(exempt: 同类不重复享受). The to-contact list: eligible enterprises that have not benefited (nothing
granted, no same-kind benefit held instead).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from django.db.models import BigIntegerField, Count, Exists, OuterRef, Q, QuerySet
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.utils import timezone

from matching.models import MatchOutcome, MatchRecord
from policies.models import Mode, PolicyVersion
from portal.accounts.roles import is_staff_user
from portal.applications.models import Application
from portal.entitlements.models import Entitlement
from portal.notifications.models import Notification

if TYPE_CHECKING:
    from portal.accounts.models import User

STAGES: tuple[tuple[str, str], ...] = (
    ("eligible", "符合条件"),
    ("notified", "已告知"),
    ("applied", "已办理（确认/申报）"),
    ("granted", "已认定/已通过"),
    ("disbursed", "已兑现"),
)
REASONS: tuple[tuple[str, str], ...] = (
    ("missing_facts", "缺少信息"),
    ("window_closed", "申报期已过"),
    ("objection", "企业有异议"),
    ("not_approved", "申报未通过"),
    ("excluded", "同类不重复享受"),
)
UNBENEFITED_LIMIT = 200

ES = Entitlement.Status
AS = Application.Status
RESPONDED = (ES.CONFIRMED, ES.DISBURSED, ES.OBJECTED)
GRANTED = (ES.CONFIRMED, ES.DISBURSED)


@dataclass
class FunnelRow:
    version: PolicyVersion
    eligible: int = 0
    notified: int = 0
    applied: int = 0
    granted: int = 0
    disbursed: int | None = 0  # None: not recorded (申报 policies)
    reasons: dict[str, int] = field(default_factory=dict)

    @property
    def exempt(self) -> bool:
        return self.version.mode == Mode.EXEMPT

    @property
    def unbenefited(self) -> int:
        """Eligible, nothing granted and no same-kind benefit instead: whom to contact."""
        return self.eligible - self.granted - self.reasons.get("excluded", 0)

    def stages(self) -> list[tuple[str, str, int | None]]:
        return [(key, label, getattr(self, key)) for key, label in STAGES]


def _entitlements(*statuses: str, objected: bool = False) -> Exists:
    rows = Entitlement.objects.filter(
        enterprise_id=OuterRef("enterprise_id"),
        policy_id=OuterRef("policy_version__policy_id"),
        duplicate_of__isnull=True,
    )
    if statuses:
        rows = rows.filter(status__in=statuses)
    if objected:
        rows = rows.exclude(objection_reason="").exclude(status__in=GRANTED)
    return Exists(rows)


def _applications(*statuses: str, exclude: Iterable[str] = ()) -> Exists:
    rows = Application.objects.filter(
        enterprise_id=OuterRef("enterprise_id"), policy_version__policy_id=OuterRef("policy_version__policy_id")
    )
    if statuses:
        rows = rows.filter(status__in=statuses)
    return Exists(rows.exclude(status__in=list(exclude)))


def _may_apply_pushed() -> Exists:
    pushed = Notification.objects.filter(enterprise_id=OuterRef("enterprise_id"), kind=Notification.Kind.MAY_APPLY)
    version = Cast(KT("payload__policy_version_id"), BigIntegerField())
    return Exists(pushed.annotate(pushed_version=version).filter(pushed_version=OuterRef("policy_version_id")))


def _annotated(records: QuerySet[MatchRecord]) -> QuerySet[Any]:
    """Each record with what its enterprise reached for the record's policy (one EXISTS each)."""
    annotations: dict[str, Exists] = {
        "has_entitlement": _entitlements(),
        "responded": _entitlements(*RESPONDED),
        "entitlement_granted": _entitlements(*GRANTED),
        "entitlement_disbursed": _entitlements(ES.DISBURSED),
        "entitlement_objected": _entitlements(objected=True),
        "entitlement_excluded": _entitlements(ES.EXCLUDED),
        "may_apply": _may_apply_pushed(),
        "applied_any": _applications(exclude=[AS.WITHDRAWN]),
        "approved": _applications(AS.APPROVED),
        "rejected": _applications(AS.REJECTED),
    }
    return records.annotate(**annotations)


def _published(versions: QuerySet[PolicyVersion] | None = None) -> QuerySet[PolicyVersion]:
    base = versions if versions is not None else PolicyVersion.objects.all()
    return base.filter(status=PolicyVersion.Status.PUBLISHED)


def funnel_rows(*, on: date | None = None, versions: QuerySet[PolicyVersion] | None = None) -> list[FunnelRow]:
    """Every published policy's funnel, in three queries (versions, the grouped stages, needs_info)."""
    on = on or timezone.localdate()
    published = list(_published(versions).order_by("policy_id"))
    if not published:
        return []
    exempt, apply = Q(policy_version__mode=Mode.EXEMPT), Q(policy_version__mode=Mode.APPLY)
    closed = Q(policy_version__application_end__lt=on)
    counts = (
        _annotated(MatchRecord.objects.filter(policy_version__in=published, outcome=MatchOutcome.ELIGIBLE))
        .values("policy_version_id")
        .annotate(
            eligible=Count("id"),
            notified=Count("id", filter=(exempt & Q(has_entitlement=True)) | (apply & Q(may_apply=True))),
            applied=Count("id", filter=(exempt & Q(responded=True)) | (apply & Q(applied_any=True))),
            granted=Count("id", filter=(exempt & Q(entitlement_granted=True)) | (apply & Q(approved=True))),
            disbursed=Count("id", filter=exempt & Q(entitlement_disbursed=True)),
            self_declared=Count("id", filter=exempt & Q(verified=False, has_entitlement=False)),
            window_closed=Count("id", filter=apply & closed & Q(applied_any=False)),
            objection=Count("id", filter=exempt & Q(entitlement_objected=True)),
            not_approved=Count("id", filter=apply & Q(rejected=True, approved=False)),
            excluded=Count("id", filter=exempt & Q(entitlement_excluded=True, entitlement_granted=False)),
        )
        .order_by()
    )
    by_version = {row["policy_version_id"]: row for row in counts}
    needs_info = dict(
        MatchRecord.objects.filter(policy_version__in=published, outcome=MatchOutcome.NEEDS_INFO)
        .values("policy_version_id")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("policy_version_id", "n")
    )
    rows = []
    for version in published:
        got: dict[str, Any] = dict(by_version.get(version.pk, {}))
        row = FunnelRow(
            version=version,
            eligible=got.get("eligible", 0),
            notified=got.get("notified", 0),
            applied=got.get("applied", 0),
            granted=got.get("granted", 0),
            disbursed=got.get("disbursed", 0) if version.mode == Mode.EXEMPT else None,
        )
        row.reasons = {
            "missing_facts": needs_info.get(version.pk, 0) + got.get("self_declared", 0),
            "window_closed": got.get("window_closed", 0),
            "objection": got.get("objection", 0),
            "not_approved": got.get("not_approved", 0),
            "excluded": got.get("excluded", 0),
        }
        rows.append(row)
    return rows


def officer_names(user: User) -> set[str]:
    """The names a policy's 责任人 may give for this user: full name (Chinese order too) or user name."""
    names = {user.get_username(), user.get_full_name(), f"{user.last_name}{user.first_name}"}
    return {name.strip() for name in names if name and name.strip()}


@dataclass
class OfficerRow:
    officer: str
    policies: int = 0
    totals: dict[str, int] = field(default_factory=dict)


def by_officer(rows: Iterable[FunnelRow]) -> list[OfficerRow]:
    """The policies' funnels summed per 责任人 (contact_name; 未填 when empty)."""
    officers: dict[str, OfficerRow] = {}
    for row in rows:
        name = row.version.contact_name.strip() or "未填"
        summary = officers.setdefault(name, OfficerRow(name))
        summary.policies += 1
        for key, _ in STAGES:
            summary.totals[key] = summary.totals.get(key, 0) + (getattr(row, key) or 0)
        summary.totals["unbenefited"] = summary.totals.get("unbenefited", 0) + row.unbenefited
    return sorted(officers.values(), key=lambda o: (-o.totals.get("unbenefited", 0), o.officer))


def funnel_for_staff(*, user: User, on: date | None = None) -> dict[str, Any]:
    """The funnel page's figures: the officer's own policies first, then the others; per officer; totals."""
    if not is_staff_user(user):
        return {"mine": [], "others": [], "officers": [], "totals": {}}
    rows = funnel_rows(on=on)
    names = officer_names(user)
    mine = [row for row in rows if row.version.contact_name.strip() in names]
    others = [row for row in rows if row.version.contact_name.strip() not in names]
    mine.sort(key=lambda r: -r.unbenefited)
    others.sort(key=lambda r: -r.unbenefited)
    totals = {key: sum(getattr(r, key) or 0 for r in rows) for key, _ in STAGES}
    totals["unbenefited"] = sum(r.unbenefited for r in rows)
    for key, _ in REASONS:
        totals[key] = sum(r.reasons.get(key, 0) for r in rows)
    return {"mine": mine, "others": others, "officers": by_officer(rows), "totals": totals}


def unbenefited(
    *, user: User, policy_id: int | None = None, limit: int | None = UNBENEFITED_LIMIT
) -> list[MatchRecord]:
    """Eligible enterprises (current published versions) that have not benefited: nothing confirmed,
    disbursed or approved, and no same-kind benefit held instead. Each record carries its enterprise,
    its version and the stage reached (annotations of _annotated). One query."""
    if not is_staff_user(user):
        return []
    records = MatchRecord.objects.filter(
        policy_version__status=PolicyVersion.Status.PUBLISHED, outcome=MatchOutcome.ELIGIBLE
    )
    if policy_id is not None:
        records = records.filter(policy_version__policy_id=policy_id)
    queryset = (
        _annotated(records)
        .filter(entitlement_granted=False, approved=False, entitlement_excluded=False)
        .select_related("enterprise", "policy_version")
        .only(
            "enterprise_id",
            "policy_version_id",
            "outcome",
            "verified",
            "decided_at",
            "enterprise__name",
            "enterprise__credit_code",
            "policy_version__policy_id",
            "policy_version__title",
            "policy_version__mode",
            "policy_version__application_end",
            "policy_version__contact_name",
        )
        .order_by("policy_version__policy_id", "enterprise__name", "enterprise_id")
    )
    return list(queryset[:limit] if limit else queryset)


def unbenefited_stage(record: Any, *, on: date | None = None) -> tuple[str, str]:
    """(stage reached, why not further) for one to-contact record, from its annotations."""
    on = on or timezone.localdate()
    version = record.policy_version
    if version.mode == Mode.EXEMPT:
        if record.entitlement_objected:
            return "已告知", "企业有异议"
        if record.has_entitlement:
            return "已告知", "待企业确认"
        if not record.verified:
            return "符合条件", "缺少信息：自行填报的信息待部门核验"
        return "符合条件", "尚未生成兑现记录"
    if record.rejected:
        return "已办理", "申报未通过"
    if record.applied_any:
        return "已办理", "申报审核中"
    if version.application_end and version.application_end < on:
        return "已告知" if record.may_apply else "符合条件", "申报期已过"
    if record.may_apply:
        return "已告知", "尚未申报"
    return "符合条件", "尚未告知（申报期未开始或未推送）"
