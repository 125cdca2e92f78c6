"""In a real browser: a 申报 policy with an attestation and a judgement, for an enterprise whose data
meets every other condition, appears under 可申报 saying 需您承诺：… and 待…认定：…, never
符合全部条件; its explanation lists them as unchecked; the inbox tells the same."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from matching.models import MatchRecord
from matching.services import match_profiles_refresh
from portal.entitlements.models import Entitlement
from portal.notifications.models import Notification
from tests.enterprises.factories import EnterpriseUserFactory
from tests.frontend.support import SOFTWARE_HIGH_TECH, match, published_policy, software_enterprise
from tests.frontend.test_browser_flows import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

ATTEST = "近三年无重大安全生产事故"
JUDGE = "属于行业领先企业"
RULE = {
    "all": [
        *SOFTWARE_HIGH_TECH["all"],
        {"attest": ATTEST},
        {"judge": JUDGE, "department": "区工业和信息化局"},
    ]
}


def test_an_attestation_shows_as_awaited_never_as_met(page, live_server, screenshot) -> None:
    enterprise = software_enterprise(name="苏州承诺示例软件有限公司")
    EnterpriseUserFactory(username="qiye-attest", enterprise=enterprise)
    version = published_policy(title="行业领先软件企业奖励（示例）", rule=RULE)
    match_profiles_refresh()
    match(enterprise)

    record = MatchRecord.objects.get(enterprise=enterprise, policy_version=version)
    assert (record.outcome, record.verified, record.states) == ("needs_info", False, "MMAJ")
    assert not Entitlement.objects.filter(enterprise=enterprise).exists()
    notice = Notification.objects.get(enterprise=enterprise, kind="needs_info")
    assert ATTEST in notice.body and JUDGE in notice.body and "请在“企业信息”中补充" not in notice.body

    login(page, live_server, "qiye-attest")
    page.goto(f"{live_server.url}/enterprises/{enterprise.credit_code}/")
    apply_section = page.locator("section[aria-labelledby='apply-heading']")
    card = apply_section.locator("article", has_text="行业领先软件企业奖励（示例）")
    expect(card).to_be_visible()
    expect(card.get_by_text(f"需您承诺：“{ATTEST}”", exact=False)).to_be_visible()
    expect(card.get_by_text(f"待区工业和信息化局认定：“{JUDGE}”", exact=False)).to_be_visible()
    card.locator("summary", has_text="还差什么").click()
    expect(card.get_by_text(f"需您承诺：{ATTEST}")).to_be_visible()
    expect(card.get_by_text(f"待区工业和信息化局认定：{JUDGE}")).to_be_visible()
    screenshot("workspace")

    body = page.locator("body").inner_text()
    assert "符合全部条件" not in body
    # Not listed twice, and not among the 待补充信息 group that asks for profile facts.
    needs = page.locator("section[aria-labelledby='needs-heading']")
    expect(needs.get_by_text("行业领先软件企业奖励（示例）")).to_have_count(0)
