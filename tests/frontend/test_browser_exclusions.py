"""In a real browser: an enterprise eligible for two exclusive 免申即享 policies sees which gives the most,
chooses it, and a reviewer finds the conflict and the 应享未享 funnel in the console."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from matching.services import match_profiles_refresh
from portal.accounts.roles import Role
from portal.entitlements.models import Entitlement
from tests.enterprises.factories import EnterpriseUserFactory, StaffUserFactory
from tests.frontend.support import exempt_policy, match, software_enterprise
from tests.frontend.test_browser_flows import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_the_enterprise_chooses_the_larger_benefit_and_staff_see_it(page, live_server, screenshot) -> None:
    enterprise = software_enterprise(name="苏州互斥示例软件有限公司")
    EnterpriseUserFactory(username="qiye-excl", enterprise=enterprise)
    StaffUserFactory(username="reviewer-excl", roles=[Role.REVIEWER])
    small = exempt_policy(title="小额研发补助（示例）", exclusion_groups=["研发奖补"], amount_max_wan=Decimal("10"))
    large = exempt_policy(title="大额研发奖励（示例）", exclusion_groups=["研发奖补"], amount_max_wan=Decimal("60"))
    match_profiles_refresh()
    match(enterprise)
    statuses = dict(Entitlement.objects.values_list("policy_id", "status"))
    assert sorted(statuses.values()) == ["excluded", "notified"]  # one payable, one set aside
    lost = Entitlement.objects.get(status="excluded")

    login(page, live_server, "qiye-excl")
    page.goto(f"{live_server.url}/enterprises/{enterprise.credit_code}/")
    advice = page.locator("#exclusions")
    expect(advice).to_contain_text("最有利的是享受「大额研发奖励（示例）」，合计最高 60 万元")
    card = page.locator(f"#entitlement-{lost.pk}")
    expect(card).to_contain_text("同属一类事项，不重复享受")
    screenshot("exclusion-advice")
    assert lost.policy_id == large.policy_id  # versions are decided in order: the small one came first
    card.get_by_role("button", name="改为享受本项").click()
    expect(page.get_by_text("已改为享受本项并确认")).to_be_visible()
    assert Entitlement.objects.get(policy_id=large.policy_id).status == "confirmed"
    assert Entitlement.objects.get(policy_id=small.policy_id).status == "excluded"

    page.context.clear_cookies()
    login(page, live_server, "reviewer-excl")
    page.goto(f"{live_server.url}/console/exclusions/")
    expect(page.locator("main")).to_contain_text("研发奖补（一次性）")
    expect(page.locator("main")).to_contain_text("苏州互斥示例软件有限公司")
    page.goto(f"{live_server.url}/console/funnel/")
    expect(page.get_by_role("heading", name="全区合计")).to_be_visible()
    expect(page.locator(f"#funnel-policy-{large.policy_id}")).to_be_visible()
    screenshot("funnel")
