"""Threshold warnings: computed from the live rules and the 2017 size table, shown in the workspace,
and date-driven ones pushed once ahead of the day by the beat task."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import override_settings
from django.utils import timezone

from portal.follows.selectors import threshold_warnings
from portal.follows.services import threshold_date_pushes
from portal.follows.tasks import threshold_warnings_task
from portal.notifications.models import Notification
from tests.enterprises.factories import EnterpriseFactory, EnterpriseUserFactory, QualificationFactory
from tests.frontend.support import match, published_policy

pytestmark = pytest.mark.django_db

SMALL = {"fact": "size", "op": "in", "value": ["small", "micro"]}
HIGH_TECH = {"fact": "qualification", "op": "has", "value": "high_tech"}


@pytest.fixture
def member(db):
    # 软件和信息技术服务业: 94 staff → 小型, 5000 万元 revenue → 中型; the lowest tier: 小型 (2017 table).
    enterprise = EnterpriseFactory(industry_code="6513", employees=94, revenue=Decimal("5000.00"))
    assert enterprise.size == "small"
    return EnterpriseUserFactory(username="member", enterprise=enterprise)


def test_six_more_staff_and_the_small_enterprise_policies_no_longer_fit(client, member) -> None:
    for n in range(3):
        published_policy(title=f"小微企业政策{n + 1}（示例）", rule=SMALL)
    warnings = threshold_warnings(enterprise=member.enterprise)
    first = warnings[0]
    assert first.text == "从业人员再增加6人（达到100人），企业规模将由小型变为中型"
    assert first.losses == 3
    assert sorted(v.title for v, _, _ in first.policies) == [f"小微企业政策{n}（示例）" for n in (1, 2, 3)]
    assert {(before, after) for _, before, after in first.policies} == {("符合", "不符合")}

    client.force_login(member)
    page = client.get(f"/enterprises/{member.enterprise.credit_code}/follows/").content.decode()
    assert "从业人员再增加6人（达到100人），企业规模将由小型变为中型，将影响以下 3 项政策" in page


def test_expiry_is_warned_with_its_date(member) -> None:
    today = timezone.localdate()
    QualificationFactory(enterprise=member.enterprise, valid_to=today + timedelta(days=50))
    published_policy(title="高企奖励（示例）", rule=HIGH_TECH)
    texts = [w.text for w in threshold_warnings(enterprise=member.enterprise)]
    assert f"高新技术企业资质将于{(today + timedelta(days=50)).isoformat()}到期" in texts


def test_nothing_is_invented_for_a_rule_without_numbers_or_dates(member) -> None:
    published_policy(rule={"fact": "industry", "op": "under", "value": ["65"]})
    assert threshold_warnings(enterprise=member.enterprise) == []


@override_settings(THRESHOLD_WARNING_LEAD_DAYS=60)
def test_date_warnings_are_pushed_once_within_the_lead(member, charlie) -> None:
    today = timezone.localdate()
    last_day = today + timedelta(days=30)
    QualificationFactory(enterprise=member.enterprise, valid_to=last_day)
    late = QualificationFactory(enterprise=charlie.enterprise, valid_to=today + timedelta(days=200))
    version = published_policy(title="高企奖励（示例）", rule=HIGH_TECH)
    match(member.enterprise)
    match(charlie.enterprise)

    assert threshold_date_pushes(today=today) == 1
    assert threshold_date_pushes(today=today) == 0  # idempotent
    assert threshold_warnings_task.apply().get() == 0  # the beat task: same key, nothing more

    notice = Notification.objects.get(kind=Notification.Kind.THRESHOLD_WARNING)
    assert notice.enterprise_id == member.enterprise.pk
    day = last_day + timedelta(days=1)
    assert notice.dedupe_key == f"thr:pv{version.pk}:{day.isoformat()}:qualification=high_tech:end"
    assert f"高新技术企业资质将于{last_day.isoformat()}到期" in notice.body
    assert "届时贵企业将不再符合“高企奖励（示例）”的条件" in notice.body
    assert late.enterprise_id != notice.enterprise_id  # 200 days ahead: not yet
