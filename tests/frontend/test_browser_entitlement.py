"""In a real browser: an enterprise user sees a 免申即享 entitlement, reads why, and confirms it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from matching.services import match_profiles_refresh
from portal.entitlements.models import Entitlement
from portal.notifications.models import Notification
from tests.enterprises.factories import EnterpriseUserFactory
from tests.frontend.support import exempt_policy, match, software_enterprise
from tests.frontend.test_browser_flows import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_enterprise_user_confirms_an_entitlement(page, live_server, screenshot) -> None:
    enterprise = software_enterprise(name="苏州兑现示例软件有限公司")
    EnterpriseUserFactory(username="qiye-ent", enterprise=enterprise)
    exempt_policy(title="高新技术企业认定奖励（示例）")
    match_profiles_refresh()
    match(enterprise)  # the matching engine decides, creating the entitlement and its notification
    entitlement = Entitlement.objects.get(enterprise=enterprise)
    assert Notification.objects.filter(enterprise=enterprise, kind="exempt_granted").count() == 1

    login(page, live_server, "qiye-ent")
    page.goto(f"{live_server.url}/enterprises/{enterprise.credit_code}/")
    card = page.locator(f"#entitlement-{entitlement.pk}")
    expect(card.get_by_role("heading", name="高新技术企业认定奖励（示例）")).to_be_visible()
    card.locator("summary", has_text="为什么符合").click()
    expect(card.get_by_text("持有有效的高新技术企业资质").first).to_be_visible()
    screenshot("entitlement")
    card.get_by_role("button", name="确认兑现").click()

    expect(page.get_by_text("已确认，工作人员将尽快办理兑现。")).to_be_visible()
    screenshot("entitlement-confirmed")
    entitlement.refresh_from_db()
    assert entitlement.status == "confirmed"
