"""Daily reminders: 申报 windows about to close, and qualifications that matches rest on about to expire."""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.db import transaction

from portal.notifications.models import Notification
from portal.notifications.services import NotificationSpec, notifications_create_bulk


@transaction.atomic
def apply_deadline_reminders(*, today: date, lead_days: int | None = None) -> int:
    """Remind eligible enterprises of apply policies whose window closes within `lead_days`."""
    from matching.models import MatchRecord, Outcome
    from policies.models import Mode, PolicyVersion

    lead = settings.NOTIFY_APPLY_DEADLINE_DAYS if lead_days is None else lead_days
    versions = PolicyVersion.objects.filter(
        status=PolicyVersion.Status.PUBLISHED,
        mode=Mode.APPLY,
        application_end__gte=today,
        application_end__lte=today + timedelta(days=lead),
    )
    specs = []
    for version in versions:
        days = (version.application_end - today).days
        when = "今天" if days == 0 else f"{days}天后"
        for enterprise_id in MatchRecord.objects.filter(policy_version=version, outcome=Outcome.ELIGIBLE).values_list(
            "enterprise_id", flat=True
        ):
            specs.append(
                NotificationSpec(
                    enterprise_id,
                    Notification.Kind.APPLY_DEADLINE,
                    f"pv{version.pk}:apply_deadline",
                    title=f"申报即将截止：{version.title}",
                    body=f"“{version.title}”将于{when}（{version.application_end.isoformat()}）截止申报，贵企业符合条件。",
                    link=f"/policies/{version.policy_id}/",
                    payload={"policy_version_id": version.pk},
                )
            )
    return notifications_create_bulk(items=specs) if specs else 0


@transaction.atomic
def qualification_expiry_reminders(*, today: date, lead_days: int | None = None) -> int:
    """Remind enterprises whose eligible matches rest on a qualification expiring within `lead_days`."""
    from matching.models import MatchRecord, Outcome
    from matching.rules import iter_conditions
    from policies.models import PolicyVersion
    from portal.enterprises.models import Qualification

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
        versions = [v for v, kinds in kinds_by_version.items() if q.kind in kinds]
        if not versions:
            continue
        titles = list(
            MatchRecord.objects.filter(
                enterprise_id=q.enterprise_id, policy_version_id__in=versions, outcome=Outcome.ELIGIBLE
            ).values_list("policy_version__title", flat=True)[:5]
        )
        if not titles:
            continue
        specs.append(
            NotificationSpec(
                q.enterprise_id,
                Notification.Kind.QUALIFICATION_EXPIRING,
                f"q{q.pk}:{q.valid_to.isoformat()}:expiring",
                title=f"资质即将到期：{q.get_kind_display()}",
                body=(
                    f"贵企业的{q.get_kind_display()}资质将于{q.valid_to.isoformat()}到期。以下政策的享受条件依赖该资质："
                    f"{'、'.join(titles)}。请及时办理复审或重新认定。"
                ),
                link="/workspace/profile/",
                payload={"qualification_id": q.pk},
            )
        )
    return notifications_create_bulk(items=specs) if specs else 0
