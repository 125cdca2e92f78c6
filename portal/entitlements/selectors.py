"""Reads of entitlements, scoped: an enterprise's own, or all for staff."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Prefetch, QuerySet
from django.http import Http404

from matching.models import MatchOutcome
from policies.models import Mode, PolicyVersion, benefit_period_label
from portal.accounts.roles import is_staff_user
from portal.applications.models import Application
from portal.exclusions.combos import Option, advise
from portal.exclusions.models import ExclusionClaim

from .models import Entitlement, EntitlementTransition
from .services import sentence

if TYPE_CHECKING:
    from matching.models import MatchRecord
    from portal.accounts.models import User
    from portal.enterprises.models import Enterprise


_TRANSITIONS = Prefetch(
    "transitions",
    queryset=EntitlementTransition.objects.select_related("by", "policy_version", "previous_version").order_by(
        "at", "id"
    ),
)


def entitlements_for_enterprise(*, enterprise: Enterprise) -> QuerySet[Entitlement]:
    return (
        Entitlement.objects.filter(enterprise=enterprise)
        .select_related("policy_version", "review_version", "enterprise")
        .prefetch_related(_TRANSITIONS)
    )


def entitlement_get_for_user(*, user: User, enterprise: Enterprise, entitlement_id: int) -> Entitlement:
    """The entitlement if it belongs to `enterprise` (which the caller may see); 404 otherwise."""
    entitlement = entitlements_for_enterprise(enterprise=enterprise).filter(pk=entitlement_id).first()
    if entitlement is None:
        raise Http404("未找到该兑现记录")
    return entitlement


def entitlements_for_staff(*, user: User, status: str | None = None, recovery: bool = False) -> QuerySet[Entitlement]:
    """All entitlements for staff; `recovery`: only the possible 追回 cases (disbursed, no longer eligible)."""
    if not is_staff_user(user):
        return Entitlement.objects.none()
    queryset = Entitlement.objects.select_related("policy_version", "review_version", "enterprise").prefetch_related(
        _TRANSITIONS
    )
    if recovery:
        queryset = queryset.filter(recovery_flagged_at__isnull=False)
    return queryset.filter(status=status) if status else queryset


def _who(transition: EntitlementTransition, *, for_staff: bool) -> str:
    """Who took a step. The enterprise sees a staff member's role (审核人), never the person's user name."""
    ByRole = EntitlementTransition.ByRole
    role = ByRole(transition.by_role) if transition.by_role in ByRole.values else ByRole.SYSTEM
    if role == ByRole.SYSTEM:
        return role.label
    user = transition.by
    if role == ByRole.ENTERPRISE:
        name = (user.get_full_name() or user.username) if user is not None else ""
        return f"{role.label}（{name}）" if name else role.label
    if for_staff and user is not None:
        return f"{role.label}（{user.username}）"
    return role.label


def entitlement_timeline(*, entitlement: Entitlement, for_staff: bool = False) -> list[dict[str, Any]]:
    """The entitlement's steps, oldest first, each with who, when, what and why, ready for a page."""
    steps = []
    for t in entitlement.transitions.all():
        if t.from_status == t.to_status and t.previous_version is not None and t.policy_version is not None:
            what = f"依据更新：第{t.previous_version.number}版 → 第{t.policy_version.number}版"
        elif t.from_status == t.to_status:
            what = f"仍为“{t.get_to_status_display()}”"
        else:
            what = t.get_to_status_display()
        steps.append({"transition": t, "what": what, "who": _who(t, for_staff=for_staff)})
    return steps


def entitlement_next_step(*, entitlement: Entitlement) -> str:
    """What happens next, in the enterprise's words (shown under the status)."""
    Status = Entitlement.Status
    status = entitlement.status
    if status in (Status.DETERMINED, Status.NOTIFIED):
        if entitlement.resolution:
            return (
                f"您提出的异议已处理：维持认定。处理意见：{sentence(entitlement.resolution)}"
                "下一步：请确认兑现，确认后工作人员安排兑现；如仍有异议，可再次提出。"
            )
        return "下一步：请确认兑现；如认定有误，可提出异议。"
    if status == Status.CONFIRMED:
        return "已确认。下一步：等待工作人员办理兑现，无需再办理。"
    if status == Status.OBJECTED:
        return "异议已提交。下一步：等待工作人员处理，结果会通过消息告知；处理前不会兑现，也不会撤销。"
    if status == Status.PENDING_REVIEW:
        number = entitlement.review_version.number if entitlement.review_version else ""
        return (
            f"政策已更新为第{number}版，按新版本未认定贵企业符合条件，工作人员正在复核。"
            "复核期间兑现记录不会撤销，也暂不兑现；复核结果会通过消息告知。"
        )
    if status == Status.DISBURSED:
        return "已兑现。"
    if status == Status.EXCLUDED:
        return (
            f"{sentence(entitlement.exclusion_note or '与同组政策同属一类事项，不重复享受')}"
            "如希望改为享受本项，可选择“改为享受本项”（同组已享受的一项尚未兑现时可改选）。"
        )
    reason = entitlement.revoke_reason or entitlement.resolution
    return f"已撤销。理由：{sentence(reason)}如有疑问，请联系政策的责任部门。" if reason else "已撤销。"


def exclusion_overview(
    *,
    enterprise: Enterprise,
    entitlements: Iterable[Entitlement],
    applications: Iterable[Application],
    records: Iterable[MatchRecord],
) -> list[dict[str, Any]]:
    """同一事项不重复享受, for the enterprise's workspace: each set of its benefits that exclude one another
    (shared exclusion group, same period), what it holds in each, and the combination that gives the most
    by the policies' stated 最高金额 (or, when one states no amount, that the choice is the enterprise's).

    From the rows the workspace already loaded (its entitlements, applications and match records on published
    versions, each with its version); one more query (the claims) only when two benefits share a group.
    """
    options: dict[int, dict[str, Any]] = {}  # by policy: one option per benefit

    def add(version: PolicyVersion, state: str, **extra: Any) -> None:
        if version.exclusion_groups and version.policy_id not in options:
            options[version.policy_id] = {"version": version, "state": state, "entitlement": None, **extra}

    for entitlement in entitlements:
        if entitlement.status != Entitlement.Status.REVOKED:
            add(entitlement.policy_version, entitlement.get_status_display(), entitlement=entitlement)
    for application in applications:
        if application.status == Application.Status.APPROVED:
            add(application.policy_version, "申报已通过")
    for record in records:
        version = record.policy_version
        if record.outcome == MatchOutcome.NEEDS_INFO:
            state = "需补充信息"
        elif record.outcome == MatchOutcome.ELIGIBLE:
            state = "符合条件，待部门数据核验" if version.mode == Mode.EXEMPT else "可申报"
        else:
            continue
        add(version, state)
    if len(options) < 2:
        return []
    held = set(ExclusionClaim.objects.filter(enterprise=enterprise).values_list("policy_id", flat=True))
    keyed = [
        Option(
            key=policy_id,
            groups=frozenset(
                f"{group}｜{item['version'].benefit_period}" for group in item["version"].exclusion_groups
            ),
            amount=item["version"].amount_max_wan,
        )
        for policy_id, item in options.items()
    ]
    overview = []
    for advice in advise(keyed):
        best = {option.key for option in advice.best}
        overview.append(
            {
                "groups": [
                    f"{name}（{benefit_period_label(period)}）"
                    for name, period in (group.split("｜") for group in advice.groups)
                ],
                "by_amount": advice.by_amount,
                "total": advice.total,
                "best_titles": [options[option.key]["version"].title for option in advice.best],
                "options": [
                    {**options[option.key], "held": option.key in held, "best": option.key in best}
                    for option in advice.options
                ],
            }
        )
    return overview


def exclusion_conflicts_for_staff(*, user: User, limit: int = 200) -> dict[str, Any]:
    """同一事项不重复享受 for staff: per group and period, how many enterprises each policy holds and how
    many of its entitlements were set aside; then the set-aside entitlements with the benefit holding the
    group. Three queries. Nothing for a non-staff user."""
    if not is_staff_user(user):
        return {"groups": [], "excluded": [], "excluded_total": 0}
    held = {
        (row["group"], row["period"], row["policy_id"]): row["n"]
        for row in ExclusionClaim.objects.values("group", "period", "policy_id").annotate(n=Count("id"))
    }
    excluded_qs = Entitlement.objects.filter(status=Entitlement.Status.EXCLUDED)
    excluded_counts = dict(excluded_qs.values("policy_id").annotate(n=Count("id")).values_list("policy_id", "n"))
    versions = PolicyVersion.objects.filter(status=PolicyVersion.Status.PUBLISHED).exclude(exclusion_groups=[])
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for version in versions.only("id", "policy_id", "title", "exclusion_groups", "benefit_period", "amount_max_wan"):
        for group in version.exclusion_groups:
            groups.setdefault((group, version.benefit_period), []).append(
                {
                    "version": version,
                    "held": held.get((group, version.benefit_period, version.policy_id), 0),
                    "excluded": excluded_counts.get(version.policy_id, 0),
                }
            )
    excluded = list(excluded_qs.select_related("enterprise", "policy_version").order_by("-updated_at", "-id")[:limit])
    return {
        "groups": [
            {"group": group, "period_label": benefit_period_label(period), "policies": rows}
            for (group, period), rows in sorted(groups.items())
        ],
        "excluded": excluded,
        "excluded_total": excluded_qs.count(),
    }
