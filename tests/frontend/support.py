"""Data for the page tests, built with the shared factories and the real services."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from policies.models import Mode, PolicyVersion
from portal.enterprises.models import Enterprise
from tests.enterprises.factories import EnterpriseFactory, QualificationFactory
from tests.policies.factories import PolicyVersionFactory

# Software and IT services (65) holding 高新技术企业; the factory enterprise is 3973, so it needs industry 65.
SOFTWARE_HIGH_TECH = {
    "all": [
        {"fact": "industry", "op": "under", "value": ["65"]},
        {"fact": "qualification", "op": "has", "value": "high_tech"},
    ]
}


def published_policy(**fields: Any) -> PolicyVersion:
    """A published, in-effect version (default: 申报, software + 高新技术企业)."""
    fields.setdefault("rule", SOFTWARE_HIGH_TECH)
    fields.setdefault("title", "软件企业研发补贴（示例）")
    return PolicyVersionFactory(published=True, **fields)


def exempt_policy(**fields: Any) -> PolicyVersion:
    fields.setdefault("title", "高新技术企业奖励（示例）")
    return published_policy(mode=Mode.EXEMPT, **fields)


def software_enterprise(**fields: Any) -> Enterprise:
    """A verified 6513 software enterprise holding a valid 高新技术企业 certificate."""
    fields.setdefault("industry_code", "6513")
    enterprise = EnterpriseFactory(**fields)
    QualificationFactory(enterprise=enterprise)
    return enterprise


def match(enterprise: Enterprise) -> None:
    """Decide every published policy for the enterprise with the matching engine (writes MatchRecords)."""
    from matching.services import enterprise_match

    enterprise_match(enterprise_id=enterprise.pk, on=timezone.localdate())
