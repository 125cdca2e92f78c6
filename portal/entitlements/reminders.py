"""Daily reminders: 申报 windows about to close, and qualifications that matches rest on about to expire."""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.db import transaction

from matching.core.rules import iter_conditions
from matching.models import MatchOutcome, MatchRecord
from policies.models import Mode, PolicyVersion
from portal.applications.models import Application
from portal.applications.requirements import cn_date, window_text
from portal.enterprises.models import Qualification
from portal.notifications.models import Notification
from portal.notifications.services import NotificationSpec, notifications_create_bulk
from portal.notifications.text import sentences

from .contacts import policy_contact


@transaction.atomic
def apply_deadline_reminders(*, today: date, lead_days: int | None = None) -> int:
    """Remind eligible enterprises of apply policies whose window closes within `lead_days`."""
    lead = settings.NOTIFY_APPLY_DEADLINE_DAYS if lead_days is None else lead_days
    versions = PolicyVersion.objects.filter(
        status=PolicyVersion.Status.PUBLISHED,
        mode=Mode.APPLY,
        application_end__gte=today,
        application_end__lte=today + timedelta(days=lead),
    )

    specs = []
    for version in versions:
        end = version.application_end
        if end is None:  # excluded by the filter; narrows the type
            continue
        days = (end - today).days
        when = "今天" if days == 0 else f"{days}天后"
        # Enterprises that have applied (and not withdrawn) need no reminder to apply.
        applied = Application.objects.filter(policy_version=version).exclude(status=Application.Status.WITHDRAWN)
        eligible = (
            MatchRecord.objects.filter(policy_version=version, outcome=MatchOutcome.ELIGIBLE)
            .exclude(enterprise_id__in=applied.values("enterprise_id"))
            .values_list("enterprise_id", flat=True)
        )
        for enterprise_id in eligible:
            specs.append(
                NotificationSpec(
                    enterprise_id,
                    Notification.Kind.APPLY_DEADLINE,
                    f"pv{version.pk}:apply_deadline",
                    title=f"申报即将截止：{version.title}",
                    body=sentences(
                        f"“{version.title}”将于{when}（{cn_date(end)}）截止申报",
                        "贵企业符合申报条件，尚未提交申报",
                    ),
                    link=f"/policies/{version.policy_id}/",
                    payload={"policy_version_id": version.pk},
                )
            )
    return notifications_create_bulk(items=specs) if specs else 0


@transaction.atomic
def qualification_expiry_reminders(*, today: date, lead_days: int | None = None) -> int:
    """Remind enterprises whose eligible matches rest on a qualification expiring within `lead_days`."""
    lead = settings.NOTIFY_QUALIFICATION_EXPIRY_DAYS if lead_days is None else lead_days
    # Which published versions need which qualification kinds.
    kinds_by_version: dict[int, set[str]] = {}
    for pk, rule in PolicyVersion.objects.filter(status=PolicyVersion.Status.PUBLISHED).values_list("pk", "rule"):
        conditions = iter_conditions(rule)  # attestations and judgements have no "fact"
        kinds = {c["value"] for _, c, negated in conditions if c.get("fact") == "qualification" and not negated}
        if kinds:
            kinds_by_version[pk] = kinds
    expiring = Qualification.objects.filter(valid_to__gte=today, valid_to__lte=today + timedelta(days=lead))
    specs = []
    for q in expiring.iterator(chunk_size=2000):
        valid_to = q.valid_to
        if valid_to is None:  # excluded by the filter; narrows the type
            continue
        versions = [v for v, kinds in kinds_by_version.items() if q.kind in kinds]
        if not versions:
            continue
        titles = list(
            MatchRecord.objects.filter(
                enterprise_id=q.enterprise_id, policy_version_id__in=versions, outcome=MatchOutcome.ELIGIBLE
            ).values_list("policy_version__title", flat=True)[:5]
        )
        if not titles:
            continue
        specs.append(
            NotificationSpec(
                q.enterprise_id,
                Notification.Kind.QUALIFICATION_EXPIRING,
                f"q{q.pk}:{valid_to.isoformat()}:expiring",
                title=f"资质即将到期：{q.get_kind_display()}",
                body=sentences(
                    f"贵企业的{q.get_kind_display()}资质将于{cn_date(valid_to)}到期",
                    f"以下政策的享受条件依赖该资质：{'、'.join(titles)}",
                    "请及时办理复审或重新认定",
                ),
                link="/workspace/profile/",
                payload={"qualification_id": q.pk},
            )
        )
    return notifications_create_bulk(items=specs) if specs else 0


def window_closed(version: PolicyVersion, on: date) -> bool:
    return bool(version.application_end and on > version.application_end)


def window_is_open(version: PolicyVersion, on: date) -> bool:
    """Whether `on` lies in the version's application window (a missing bound is open on that side)."""
    start, end = version.application_start, version.application_end
    return not (start and on < start) and not (end and on > end)


def may_apply_spec(*, enterprise_id: int, version: PolicyVersion) -> NotificationSpec:
    """The 可申报 push: the same text and dedupe key at decision time and on the window's opening day."""
    return NotificationSpec(
        enterprise_id,
        Notification.Kind.MAY_APPLY,
        f"pv{version.pk}:{Notification.Kind.MAY_APPLY}",
        title=f"可申报：{version.title}",
        body=sentences(
            f"贵企业符合“{version.title}”的申报条件",
            f"申报时间：{window_text(version)}",
            f"申报条件：{version.conditions_text}" if version.conditions_text.strip() else "",
            f"政策咨询：{policy_contact(version)}" if policy_contact(version) else "",
        ),
        link=f"/policies/{version.policy_id}/",
        payload={"policy_version_id": version.pk},
    )


@transaction.atomic
def apply_window_opening_pushes(*, today: date) -> int:
    """可申报 for eligible enterprises of 申报 versions whose window opens `today`.

    The push at decision time is skipped while the window is not open yet; this daily job sends it on
    the opening day. The dedupe key is the decision-time one, so running it twice (or after a push at
    decision time) creates nothing more. Enterprises that already applied are not told again.
    """
    versions = PolicyVersion.objects.filter(
        status=PolicyVersion.Status.PUBLISHED, mode=Mode.APPLY, application_start=today
    )
    specs = []
    for version in versions:
        if not window_is_open(version, today):
            continue
        applied = Application.objects.filter(policy_version=version).exclude(status=Application.Status.WITHDRAWN)
        eligible = (
            MatchRecord.objects.filter(policy_version=version, outcome=MatchOutcome.ELIGIBLE)
            .exclude(enterprise_id__in=applied.values("enterprise_id"))
            .values_list("enterprise_id", flat=True)
        )
        specs += [may_apply_spec(enterprise_id=e, version=version) for e in eligible.iterator(chunk_size=5000)]
    return notifications_create_bulk(items=specs) if specs else 0
