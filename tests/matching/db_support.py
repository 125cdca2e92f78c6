"""Store plain-data profiles as registry rows, and published policy versions, for database tests."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

from django.contrib.auth import get_user_model

from matching.core.profile import EnterpriseProfile
from portal.enterprises.models import FACT_FIELDS, Enterprise, Park, Qualification, Site, Township, Zone

_serial = itertools.count(1)
TOWNSHIP_BY_ZONE = {
    "tech_ecology": "320505407",
    "business_innovation": "320505002",
    "advanced_manufacturing": "320505101",
}
NO_ZONE_TOWNSHIP = "320505999"  # a township whose zone administrators have not set


def _township(zone: str | None) -> Township:
    if zone is None:
        township, _ = Township.objects.get_or_create(code=NO_ZONE_TOWNSHIP, defaults={"name": "未划分功能区（测试）"})
        return township
    township = Township.objects.get(code=TOWNSHIP_BY_ZONE[zone])
    assert township.zone == Zone.objects.get(code=zone)
    return township


def store_profile(profile: EnterpriseProfile) -> Enterprise:
    """An enterprise whose registry rows carry `profile`'s facts, qualifications and sites.

    `size` is not stored: the registry derives it from industry and indicators.
    """
    values: dict[str, Any] = {}
    provenance: dict[str, Any] = {}
    for key, fact in profile.facts.items():
        if key in FACT_FIELDS and fact.value is not None:
            values[key] = fact.value
            provenance[key] = {"source": fact.source, "as_of": fact.as_of.isoformat() if fact.as_of else None}
    n = next(_serial)
    enterprise = Enterprise(credit_code=f"TEST{n:014d}", name=f"测试企业{n}", provenance=provenance, **values)
    enterprise.recompute_size()
    enterprise.save()
    for q in profile.qualifications:
        Qualification.objects.create(
            enterprise=enterprise, kind=q.kind, valid_from=q.valid_from, valid_to=q.valid_to, source=q.source
        )
    for s in profile.sites:
        site = Site.objects.create(
            enterprise=enterprise, address="测试地址", township=_township(s.zone_code), source=s.source
        )
        site.parks.set(Park.objects.filter(code__in=s.park_codes))
    return enterprise


def publish_version(rule: dict, *, key: str | None = None, mode: str = "apply", **fields: Any):
    """A published policy version with `rule`, in effect from 2000 on (written directly, no workflow)."""
    from policies.models import Policy, PolicyVersion

    user, _ = get_user_model().objects.get_or_create(username="matching-tests")
    policy = Policy.objects.create(key=key or f"test-policy-{next(_serial)}", created_by=user)
    defaults = {
        "title": "测试政策",
        "benefit_kind": "subsidy",
        "mode": mode,
        "effective_from": date(2000, 1, 1),
        "author": user,
        "status": PolicyVersion.Status.PUBLISHED,
    }
    return PolicyVersion.objects.create(policy=policy, number=1, rule=rule, **{**defaults, **fields})
