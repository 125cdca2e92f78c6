"""关注与提醒 and 申报日历 pass the same basic audit as the other workspace pages (labels, heading levels)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from portal.follows import services
from tests.enterprises.factories import EnterpriseFactory, EnterpriseUserFactory, QualificationFactory
from tests.frontend.support import match, published_policy
from tests.frontend.test_accessibility import assert_accessible

pytestmark = pytest.mark.django_db


def test_follows_and_calendar_pages_are_accessible(client) -> None:
    today = timezone.localdate()
    enterprise = EnterpriseFactory(industry_code="6513", employees=94, revenue=Decimal("5000.00"))
    QualificationFactory(enterprise=enterprise, valid_to=today + timedelta(days=30))
    member = EnterpriseUserFactory(enterprise=enterprise)
    small = published_policy(
        rule={"fact": "size", "op": "in", "value": ["small"]}, application_end=today + timedelta(days=9)
    )
    staff = published_policy(
        rule={"fact": "social_insurance_staff", "op": "gte", "value": 100}, application_end=today + timedelta(days=9)
    )
    match(enterprise)
    services.follow_create(user=member, enterprise=enterprise, policy=staff.policy)
    client.force_login(member)
    base = f"/enterprises/{enterprise.credit_code}"

    follows = client.get(f"{base}/follows/")
    assert "threshold-warning" in follows.content.decode()
    calendar = client.get(f"{base}/calendar/")
    with_link = client.post(f"{base}/calendar/token/", {"action": "regenerate"})
    policy = client.get(f"/policies/{small.policy_id}/")
    for response in (follows, calendar, with_link, policy):
        assert response.status_code == 200
        assert_accessible(response.content.decode())
