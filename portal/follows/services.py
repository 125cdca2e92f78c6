"""Writes of 关注 and 申报日历: follow / unfollow, the calendar token, and the notices they lead to.

`on_match_changes` answers events.MATCH_RECORDS_CHANGED inside the decision's transaction: an
enterprise that follows the policy is told once (through its inbox and channel preferences,
portal.notifications) when the decision becomes eligible, and once per set of facts when facts the
decision was missing have been supplied. Every notice is keyed (Notification's unique
(enterprise, dedupe_key)), so a redelivered task or a re-run never notifies twice.

`threshold_date_pushes` (beat, daily) warns an enterprise ahead of a date on which a decision that is
eligible today stops being so (an anniversary of establishment, a qualification's expiry), computed
by matching.core.thresholds from the live rule; one notice per (enterprise, policy version, boundary).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from matching.core.evaluator import Status, compile_rule
from matching.core.thresholds import date_text, date_threshold
from matching.models import MatchOutcome, MatchRecord
from policies.models import Policy, PolicyVersion
from portal.accounts.permissions import require_enterprise_member
from portal.api.exceptions import ApplicationError
from portal.enterprises.models import Enterprise
from portal.enterprises.selectors import enterprise_profiles_by_id
from portal.notifications.models import Notification
from portal.notifications.services import NotificationSpec, notifications_create_bulk
from portal.notifications.text import sentences

from .models import CalendarToken, Follow

if TYPE_CHECKING:
    from portal.accounts.models import User

Kind = Notification.Kind


def _unknown_facts(explanation: dict[str, Any] | None) -> list[str]:
    """The facts a decision was missing (conditions whose result was unknown), in document order."""
    if not explanation:
        return []
    facts = [c["fact"] for c in explanation.get("conditions", []) if c.get("result") == "unknown" and c.get("fact")]
    return list(dict.fromkeys(facts))


def _fact_labels(explanation: dict[str, Any] | None, facts: Sequence[str]) -> list[str]:
    labels = {c["fact"]: c["fact_label"] for c in (explanation or {}).get("conditions", []) if c.get("fact")}
    return [labels.get(f, f) for f in facts]


@transaction.atomic
def follow_create(*, user: User, enterprise: Enterprise, policy: Policy) -> Follow:
    """关注: the enterprise's own user follows a published policy. Following again changes nothing."""
    require_enterprise_member(user, enterprise.pk, message="只有该企业的用户可以关注政策")
    version = policy.versions.filter(status=PolicyVersion.Status.PUBLISHED).first()
    if version is None:
        raise ApplicationError("该政策未发布，不能关注", code="policy_not_published", field="policy")
    existing = Follow.objects.filter(enterprise=enterprise, policy=policy).first()
    if existing is not None:
        return existing
    record = MatchRecord.objects.filter(enterprise=enterprise, policy_version=version).first()
    try:
        with transaction.atomic():
            return Follow.objects.create(
                enterprise=enterprise,
                policy=policy,
                created_by=user,
                missing_facts=_unknown_facts(record.explanation if record else None),
            )
    except IntegrityError:  # a second click that raced the first: the follow exists
        return Follow.objects.get(enterprise=enterprise, policy=policy)


@transaction.atomic
def follow_delete(*, user: User, enterprise: Enterprise, policy: Policy) -> bool:
    """取消关注; True when there was a follow to remove."""
    require_enterprise_member(user, enterprise.pk, message="只有该企业的用户可以取消关注")
    deleted, _ = Follow.objects.filter(enterprise=enterprise, policy=policy).delete()
    return bool(deleted)


def on_match_changes(*, version_id: int, changes: Sequence[Any], run_id: int | None) -> None:
    """Notices for followed policies whose decision changed (inside the decision's transaction)."""
    if not changes:
        return
    version = PolicyVersion.objects.filter(pk=version_id, status=PolicyVersion.Status.PUBLISHED).first()
    if version is None:  # a retired version's decisions are history
        return
    # A district chunk carries up to MATCH_CHUNK_SIZE changes and a policy has few followers: read the
    # policy's follows (one indexed query) and keep those among the changes, not the other way round.
    followers = dict(Follow.objects.filter(policy_id=version.policy_id).values_list("enterprise_id", "pk"))
    _followed_changes(version, changes, followers)


def _on_match_changes_many(payloads: Sequence[dict[str, Any]]) -> None:
    """`on_match_changes` for many versions' changes written together (matching's nightly run): the
    published versions and their policies' follows read once for all of them."""
    by_version = {p["version_id"]: p["changes"] for p in payloads if p["changes"]}
    if not by_version:
        return
    versions = PolicyVersion.objects.filter(pk__in=list(by_version), status=PolicyVersion.Status.PUBLISHED)
    policy_of = dict(versions.values_list("pk", "policy_id"))
    followers: dict[int, dict[int, int]] = {}
    rows = Follow.objects.filter(policy_id__in=set(policy_of.values())).values_list("policy_id", "enterprise_id", "pk")
    for policy_id, enterprise_id, pk in rows:
        followers.setdefault(policy_id, {})[enterprise_id] = pk
    followed = [pk for pk in sorted(policy_of) if followers.get(policy_of[pk])]
    if not followed:
        return
    loaded = PolicyVersion.objects.in_bulk(followed)
    for pk in followed:  # in the order the per-version calls would run
        _followed_changes(loaded[pk], by_version[pk], followers[policy_of[pk]])


# The events table calls one handler per version unless the handler answers many at once (events.emit_many).
on_match_changes.many = _on_match_changes_many  # type: ignore[attr-defined]


def _followed_changes(version: PolicyVersion, changes: Sequence[Any], followers: dict[int, int]) -> None:
    """The notices of one published version's changes for its policy's followers (enterprise id → follow id)."""
    if not followers:
        return
    by_enterprise = {c.enterprise_id: c for c in changes if c.enterprise_id in followers}
    follows = list(Follow.objects.filter(pk__in=[followers[e] for e in by_enterprise]).order_by("pk"))
    if not follows:
        return
    records = {
        r.enterprise_id: r
        for r in MatchRecord.objects.filter(
            policy_version=version, enterprise_id__in=[f.enterprise_id for f in follows]
        ).only("enterprise_id", "explanation", "outcome")
    }
    specs: list[NotificationSpec] = []
    moved: list[Follow] = []
    link = f"/policies/{version.policy_id}/"
    for follow in follows:
        change = by_enterprise[follow.enterprise_id]
        record = records.get(follow.enterprise_id)
        explanation = record.explanation if record is not None else None
        unknown = _unknown_facts(explanation)
        supplied = [f for f in follow.missing_facts if f not in unknown]
        if change.outcome == MatchOutcome.ELIGIBLE and change.previous_outcome != MatchOutcome.ELIGIBLE:
            specs.append(
                NotificationSpec(
                    follow.enterprise_id,
                    Kind.FOLLOWED_POLICY,
                    f"follow{follow.pk}:pv{version.pk}:eligible",
                    title=f"您关注的政策已符合条件：{version.title}",
                    body=sentences(
                        f"按目前的企业信息，贵企业符合“{version.title}”的条件",
                        "请查看政策详情和申报时间" if version.mode == "apply" else "请在“政策匹配”中查看兑现进度",
                    ),
                    link=link,
                    payload={"policy_version_id": version.pk, "follow_id": follow.pk},
                )
            )
        elif supplied:
            result = {
                MatchOutcome.NEEDS_INFO: "仍需补充其他信息",
                MatchOutcome.INELIGIBLE: "按补充后的信息暂不符合",
            }.get(change.outcome, "结果已更新")
            summary = (explanation or {}).get("summary", "")
            specs.append(
                NotificationSpec(
                    follow.enterprise_id,
                    Kind.FOLLOWED_POLICY,
                    f"follow{follow.pk}:pv{version.pk}:supplied:{','.join(sorted(supplied))}"[:200],
                    title=f"您关注的政策已按补充的信息重新判定：{version.title}",
                    body=sentences(
                        f"已补充：{'、'.join(_fact_labels(explanation, supplied))}",
                        f"判定结果：{result}" + (f"（{summary}）" if summary else ""),
                    ),
                    link=link,
                    payload={"policy_version_id": version.pk, "follow_id": follow.pk},
                )
            )
        if unknown != follow.missing_facts:
            follow.missing_facts = unknown
            moved.append(follow)
    if moved:
        Follow.objects.bulk_update(moved, ["missing_facts"])
    if specs:
        notifications_create_bulk(items=specs)


# --- the calendar token ---------------------------------------------------------------------------


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def calendar_token_regenerate(*, user: User) -> str:
    """A new secret for the user's iCal feed (the previous URL stops working); the plain token is
    returned once, to be shown in the URL, and never stored."""
    if getattr(user, "enterprise_id", None) is None:
        raise ApplicationError("只有企业用户可以订阅申报日历", code="not_enterprise_user", http_status=403)
    token = secrets.token_urlsafe(32)
    CalendarToken.objects.update_or_create(user=user, defaults={"digest": token_digest(token)})
    return token


@transaction.atomic
def calendar_token_revoke(*, user: User) -> bool:
    """停用订阅链接: the URL answers 404 from now on. True when there was one."""
    deleted, _ = CalendarToken.objects.filter(user=user).delete()
    return bool(deleted)


def calendar_token_used(*, user: User) -> None:
    """Note when the feed was last fetched (shown beside the link, so a leaked link can be noticed)."""
    CalendarToken.objects.filter(user=user).update(last_used_at=timezone.now())


# --- date thresholds pushed ahead of the day --------------------------------------------------------

_DATED_FACTS = ("age_years", "qualification")
PUSH_CHUNK = 500


def _has_dated_condition(rule: Any) -> bool:
    from matching.core.rules import rule_facts

    return bool(rule_facts(rule) & set(_DATED_FACTS))


def threshold_date_pushes(*, today: date, lead_days: int | None = None) -> int:
    """Warn enterprises whose eligible decision changes within `lead_days` (THRESHOLD_WARNING_LEAD_DAYS)
    because of a date: one notice per (enterprise, policy version, boundary day), however often it runs."""
    lead = settings.THRESHOLD_WARNING_LEAD_DAYS if lead_days is None else lead_days
    until = today + timedelta(days=lead)
    versions = [
        v for v in PolicyVersion.objects.filter(status=PolicyVersion.Status.PUBLISHED) if _has_dated_condition(v.rule)
    ]
    created = 0
    for version in versions:
        compiled = compile_rule(version.rule)
        enterprise_ids = list(
            MatchRecord.objects.filter(policy_version=version, outcome=MatchOutcome.ELIGIBLE)
            .order_by("enterprise_id")
            .values_list("enterprise_id", flat=True)
        )
        for start in range(0, len(enterprise_ids), PUSH_CHUNK):
            chunk = enterprise_ids[start : start + PUSH_CHUNK]
            specs: list[NotificationSpec] = []
            for enterprise_id, profile in enterprise_profiles_by_id(queryset=Enterprise.objects.filter(pk__in=chunk)):
                found = date_threshold(compiled, profile, on=today, until=until)
                if found is None or found.before != Status.ELIGIBLE:
                    continue
                what = date_text(found)
                specs.append(
                    NotificationSpec(
                        enterprise_id,
                        Kind.THRESHOLD_WARNING,
                        f"thr:pv{version.pk}:{found.on.isoformat()}:"
                        + ",".join(f"{fact}={detail}" for fact, detail in found.causes),
                        title=f"条件变化提醒：{version.title}",
                        body=sentences(
                            what,
                            f"届时贵企业将不再符合“{version.title}”的条件（自{found.on.isoformat()}起）",
                            "如有需要，请提前办理相关手续或关注其他政策",
                        ),
                        link="/workspace/follows/",
                        payload={"policy_version_id": version.pk, "on": found.on.isoformat()},
                    )
                )
            if specs:
                with transaction.atomic():
                    created += notifications_create_bulk(items=specs)
    return created
