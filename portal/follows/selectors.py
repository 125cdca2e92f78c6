"""Reads of 关注 and 申报日历, scoped by the enterprise the caller may see (enterprise_get_for_user)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from matching.core.evaluator import Outcome, Status, compile_rule
from matching.core.profile import EnterpriseProfile
from matching.core.thresholds import Threshold, Warning, date_threshold, group_thresholds, number_thresholds
from matching.models import MatchOutcome, MatchRecord
from policies.models import Mode, PolicyVersion
from policies.selectors import published_versions_in_effect
from portal.applications.selectors import applied_version_ids
from portal.enterprises.models import Enterprise
from portal.enterprises.selectors import SIZE_DERIVATION, enterprise_profile

from .models import CalendarToken, Follow
from .services import token_digest

if TYPE_CHECKING:
    from portal.accounts.models import User


def follows_for_enterprise(*, enterprise: Enterprise) -> QuerySet[Follow]:
    return Follow.objects.filter(enterprise=enterprise).select_related("policy").order_by("-created_at", "-pk")


def followed_policy_ids(*, enterprise: Enterprise) -> set[int]:
    return set(Follow.objects.filter(enterprise=enterprise).values_list("policy_id", flat=True))


@dataclass(frozen=True)
class FollowRow:
    follow: Follow
    version: PolicyVersion | None  # the policy's published version (None: retired since)
    outcome: str  # MatchOutcome value ("ineligible" when there is no record)
    summary: str
    title: str


def follow_rows(*, enterprise: Enterprise) -> list[FollowRow]:
    follows = list(follows_for_enterprise(enterprise=enterprise))
    versions = {
        v.policy_id: v
        for v in PolicyVersion.objects.filter(
            policy_id__in=[f.policy_id for f in follows], status=PolicyVersion.Status.PUBLISHED
        )
    }
    records = {
        r.policy_version_id: r
        for r in MatchRecord.objects.filter(enterprise=enterprise, policy_version__in=list(versions.values()))
    }
    # A policy retired since it was followed is still named, by its latest version's title.
    titles = dict(
        PolicyVersion.objects.filter(policy_id__in=[f.policy_id for f in follows if f.policy_id not in versions])
        .order_by("policy_id", "number")
        .values_list("policy_id", "title")
    )
    rows = []
    profile: EnterpriseProfile | None = None
    for follow in follows:
        version = versions.get(follow.policy_id)
        record = records.get(version.pk) if version is not None else None
        outcome = record.outcome if record is not None else MatchOutcome.INELIGIBLE
        summary = (record.explanation or {}).get("summary", "") if record is not None else ""
        if version is not None and record is None:
            # Never eligible, so no record: say what stands in the way, by the rule evaluated now, only
            # when that agrees with matching's decision (不符合).
            if profile is None:
                profile = enterprise_profile(enterprise=enterprise)
            now = compile_rule(version.rule).evaluate(profile, on=timezone.localdate())
            summary = now.summary if now.status == Status.INELIGIBLE else ""
        title = version.title if version is not None else titles.get(follow.policy_id, "")
        rows.append(FollowRow(follow=follow, version=version, outcome=outcome, summary=summary, title=title))
    return rows


# --- threshold warnings ------------------------------------------------------------------------------


@dataclass(frozen=True)
class WarningView:
    text: str
    on: date | None
    policies: list[tuple[PolicyVersion, str, str]]  # (version, before label, after label)
    losses: int


_LABELS = {Status.ELIGIBLE: "符合", Status.INELIGIBLE: "不符合", Status.NEEDS_INFO: "需补充信息"}


def threshold_warnings(*, enterprise: Enterprise, on: date | None = None) -> list[WarningView]:
    """Where the enterprise's decisions would change: each number the published rules test (and size, by
    the 2017 table) moved to its nearest flip, and each coming date (anniversary, qualification expiry
    within THRESHOLD_WARNING_HORIZON_DAYS). Only changes into or out of 符合 are listed."""
    on = on or timezone.localdate()
    until = on + timedelta(days=settings.THRESHOLD_WARNING_HORIZON_DAYS)
    profile = enterprise_profile(enterprise=enterprise)
    pairs: list[tuple[int, Threshold]] = []
    versions = {v.pk: v for v in published_versions_in_effect(on=on)}
    for version in versions.values():
        compiled = compile_rule(version.rule)
        found: list[Threshold] = [*number_thresholds(compiled, profile, on=on, derivations=(SIZE_DERIVATION,))]
        dated = date_threshold(compiled, profile, on=on, until=until)
        if dated is not None:
            found.append(dated)
        pairs += [(version.pk, t) for t in found if Status.ELIGIBLE in (t.before, t.after)]
    views = []
    for warning in group_thresholds(pairs):
        views.append(_view(warning, versions))
    return views[: settings.THRESHOLD_WARNING_MAX]


def _view(warning: Warning, versions: dict[int, PolicyVersion]) -> WarningView:
    policies = [(versions[int(str(pk))], _LABELS[before], _LABELS[after]) for pk, before, after in warning.policies]
    return WarningView(text=warning.text, on=warning.on, policies=policies, losses=warning.losses)


# --- the calendar ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CalendarEntry:
    version: PolicyVersion
    start: date | None  # 申报开始
    end: date | None  # 申报截止
    why: str  # 符合条件 / 需补充信息 / 已关注
    applied: bool


def calendar_entries(*, enterprise: Enterprise) -> list[CalendarEntry]:
    """The application windows that concern the enterprise: 申报 policies it matches (eligible or needs
    info) and the policies it follows, each with a window or a deadline; soonest deadline first."""
    published = PolicyVersion.objects.filter(status=PolicyVersion.Status.PUBLISHED, mode=Mode.APPLY).exclude(
        application_start__isnull=True, application_end__isnull=True
    )
    records: dict[int, str] = {}
    for version_id, outcome, explanation in MatchRecord.objects.filter(
        enterprise=enterprise,
        policy_version__in=published,
        outcome__in=(MatchOutcome.ELIGIBLE, MatchOutcome.NEEDS_INFO),
    ).values_list("policy_version_id", "outcome", "explanation"):
        # Only a commitment or a department's judgement stands in the way: it is applied for (as the
        # workspace lists it under 可申报), not waiting for information.
        if outcome == MatchOutcome.NEEDS_INFO and explanation and Outcome.from_dict(explanation).pending_only:
            outcome = "pending"
        records[version_id] = outcome
    followed = followed_policy_ids(enterprise=enterprise)
    applied = applied_version_ids(enterprise=enterprise)
    entries = []
    for version in published.filter(Q(pk__in=list(records)) | Q(policy_id__in=followed)):
        decided = records.get(version.pk)
        why_by_outcome: dict[str, str] = {
            MatchOutcome.ELIGIBLE: "符合条件",
            MatchOutcome.NEEDS_INFO: "需补充信息",
            "pending": "可申报（需承诺或待认定）",
        }
        why = why_by_outcome.get(decided or "", "已关注")
        if decided and version.policy_id in followed:
            why += "，已关注"
        entries.append(
            CalendarEntry(
                version=version,
                start=version.application_start,
                end=version.application_end,
                why=why,
                applied=version.pk in applied,
            )
        )
    return sorted(entries, key=lambda e: (e.end or e.start or date.max, e.version.pk))


def calendar_token_get(*, user: User) -> CalendarToken | None:
    return CalendarToken.objects.filter(user=user).first()


def calendar_owner(*, token: str) -> tuple[User, Enterprise]:
    """The user (and their enterprise) a feed token belongs to; 404 for any other string."""
    if not token or len(token) > 100:
        raise Http404
    found = CalendarToken.objects.select_related("user__enterprise").filter(digest=token_digest(token)).first()
    if found is None or not found.user.is_active or found.user.enterprise is None:
        raise Http404
    return found.user, found.user.enterprise
