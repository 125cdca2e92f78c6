"""In a real browser: the enterprise opens the 认定依据 behind its entitlement; after a department corrects a
fact, a reviewer finds the decision in 纠错追溯 beside its new evaluation and approves the 追回复核 with a reason."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from matching.services import match_profiles_refresh
from portal.enterprises.services import enterprise_update_facts
from portal.entitlements.models import Entitlement
from portal.recall.models import RecallItem
from portal.recall.services import recall_for_fact_correction
from tests.enterprises.factories import EnterpriseUserFactory, StaffUserFactory
from tests.frontend.support import exempt_policy, match, software_enterprise
from tests.frontend.test_browser_flows import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_a_receipt_then_a_correction_then_the_recall_decision(page, live_server, screenshot) -> None:
    from portal.accounts.roles import Role

    enterprise = software_enterprise(name="苏州追溯示例软件有限公司")
    EnterpriseUserFactory(username="qiye-rc", enterprise=enterprise)
    StaffUserFactory(username="shenhe-rc", roles=[Role.REVIEWER])
    exempt_policy(title="软件企业奖励（示例）")
    match_profiles_refresh()
    match(enterprise)
    entitlement = Entitlement.objects.get(enterprise=enterprise)

    login(page, live_server, "qiye-rc")
    page.goto(f"{live_server.url}/enterprises/{enterprise.credit_code}/")
    page.locator(f"#entitlement-{entitlement.pk}").get_by_role("link", name="认定依据").click()
    expect(page.get_by_role("heading", name="所用数据")).to_be_visible()
    expect(page.get_by_role("row", name="所属行业")).to_contain_text("市场监督管理局")
    expect(page.get_by_role("button", name="打印 / 另存为 PDF")).to_be_visible()
    screenshot("receipt")
    page.get_by_role("button", name="退出").click()

    # The department corrects the industry (软件 → 电子器件): the entitlement rested on the wrong figure.
    enterprise_update_facts(enterprise=enterprise, facts={"industry_code": "3973"}, source="market_regulation")
    recall_for_fact_correction(enterprise_ids=[enterprise.pk], facts=["industry"], by=None)
    item = RecallItem.objects.get()

    login(page, live_server, "shenhe-rc")
    page.goto(f"{live_server.url}/console/recall/")
    card = page.locator(f"#recall-{item.pk}")
    expect(card).to_contain_text("追回复核")
    expect(card.get_by_role("region", name="原认定")).to_contain_text("符合（已核验）")
    expect(card.get_by_role("region", name="重新判定")).to_contain_text("不符合")
    expect(card).to_contain_text("所属行业")
    screenshot("recall")
    card.get_by_role("button", name="批准追回复核").click()  # no reason
    expect(page.get_by_text("请填写理由")).to_be_visible()
    card = page.locator(f"#recall-{item.pk}")
    card.get_by_label("处理理由（必填）").fill("经市场监管局确认，行业代码应为3973，该认定不应作出。")
    card.get_by_role("button", name="批准追回复核").click()
    expect(page.get_by_text("已批准。")).to_be_visible()
    page.get_by_role("link", name="已批准（1）").click()
    expect(page.locator(f"#recall-{item.pk}")).to_contain_text("状态：已批准")
    screenshot("recall-approved")
    item.refresh_from_db()
    entitlement.refresh_from_db()
    assert item.status == "approved" and entitlement.status == "notified"  # nothing clawed back by itself
