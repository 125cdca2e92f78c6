"""The main flows in a real browser (Playwright + Debian chromium), with screenshots of each main page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from matching.models import MatchRecord
from policies.models import PolicyVersion
from portal.accounts.roles import Role
from tests.enterprises.factories import EnterpriseFactory, EnterpriseUserFactory, StaffUserFactory
from tests.frontend.support import exempt_policy, match, published_policy, software_enterprise

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def login(page, live_server, username: str, password: str = "pw") -> None:
    page.goto(live_server.url + "/accounts/login/?next=/workspace/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


def test_visitor_uses_the_calculator(page, live_server, screenshot) -> None:
    version = published_policy(title="软件企业研发补贴（示例）")
    published_policy(title="制造业技改补贴（示例）", rule={"fact": "industry", "op": "under", "value": ["C"]})

    page.goto(live_server.url + "/policies/")
    expect(page.get_by_role("heading", name="共 2 项政策")).to_be_visible()
    screenshot("policy-list")
    page.get_by_role("link", name="软件企业研发补贴（示例）").click()
    expect(page.get_by_role("heading", name="享受条件")).to_be_visible()
    screenshot("policy-detail")

    page.get_by_role("link", name="政策计算器").first.click()
    page.get_by_label("所属行业").fill("应用软件")
    expect(page.locator("#industry-options option")).not_to_have_count(0)  # autocomplete answered
    page.get_by_label("所属行业").fill("应用软件开发（6513）")
    page.get_by_label("高新技术企业").check()
    page.get_by_role("button", name="看看能享受哪些政策").click()

    eligible = page.locator("section", has=page.locator("#eligible-heading"))
    expect(eligible).to_contain_text("软件企业研发补贴（示例）")
    eligible.get_by_text("查看理由").first.click()
    expect(eligible).to_contain_text("为什么符合")
    expect(eligible).to_contain_text("企业资质")
    assert "industry=" in page.url  # the result can be bookmarked
    screenshot("calculator")
    assert version.policy_id


def test_enterprise_user_sees_matches_and_cannot_open_another_enterprise(page, live_server, screenshot) -> None:
    exempt_policy(title="高新技术企业奖励（示例）")
    published_policy(title="软件企业研发补贴（示例）")
    user = EnterpriseUserFactory(username="qiye", enterprise=software_enterprise(name="苏州软件示例有限公司"))
    match(user.enterprise)
    other = EnterpriseFactory(name="苏州另一家示例有限公司")

    login(page, live_server, "qiye")

    expect(page.get_by_role("heading", name="苏州软件示例有限公司")).to_be_visible()
    enjoy = page.locator("section", has=page.locator("#enjoy-heading"))
    expect(enjoy).to_contain_text("高新技术企业奖励（示例）")
    enjoy.locator("summary", has_text="为什么符合").click()
    expect(enjoy).to_contain_text("高新技术企业")
    expect(enjoy).to_contain_text("已核验")
    screenshot("dashboard")

    page.get_by_role("navigation", name="企业页面").get_by_role("link", name="企业信息").click()
    expect(page.get_by_role("heading", name="企业信息及来源")).to_be_visible()
    screenshot("profile")
    page.get_by_role("link", name="经营场所（一照多址）").click()
    page.get_by_label("经营场所地址").fill("苏州高新区科灵路1号")
    page.get_by_label("所在街道（镇）").select_option("320505407")
    page.get_by_role("button", name="提交备案").click()
    expect(page.get_by_text("经营场所已备案")).to_be_visible()
    screenshot("sites")

    response = page.goto(f"{live_server.url}/enterprises/{other.credit_code}/")
    assert response.status == 404
    assert "苏州另一家示例有限公司" not in page.content()


def test_editor_builds_a_rule_and_a_reviewer_publishes(page, live_server, screenshot, celery_eager) -> None:
    StaffUserFactory(username="editor1", roles=[Role.POLICY_EDITOR])
    StaffUserFactory(username="reviewer1", roles=[Role.REVIEWER])
    enterprise = software_enterprise(name="苏州软件示例有限公司")
    # Factories write rows directly; the bulk matching path reads the profile projection, so build it.
    from matching.services import match_profiles_refresh

    match_profiles_refresh(enterprise_ids=[enterprise.pk])

    login(page, live_server, "editor1")
    page.get_by_role("link", name="新建政策").click()
    expect(page.get_by_label("政策标识")).not_to_be_editable()  # generated on save
    page.get_by_label("政策名称").fill("网页新建的软件奖励（示例）")
    page.get_by_label("兑现方式").select_option("exempt")
    page.get_by_label("责任部门").fill("区科技局")
    page.get_by_label("责任人").fill("王敏（示例）")
    page.get_by_label("联系电话").fill("0512-0000-0000（示例）")
    page.get_by_label("生效日期").fill("2020-01-01")
    # Row 0 starts as industry "under" 65; add a row and make it 高新技术企业.
    page.get_by_role("button", name="添加条件").click()
    # Wait until htmx has wired up the new row (its change handler), not just inserted it.
    page.wait_for_function(
        "() => { const s = document.querySelector('#r1_fact'); return s && s['htmx-internal-data']; }"
    )
    page.locator("#r1_fact").select_option("qualification")
    expect(page.locator("select#r1_value")).to_be_visible()
    page.locator("#r1_value").select_option("high_tech")
    expect(page.locator("#rule-words")).to_contain_text("高新技术企业")
    expect(page.locator("#rule-words")).to_contain_text("软件和信息技术服务业")
    screenshot("rule-builder")
    page.get_by_role("button", name="保存草稿").click()
    expect(page.get_by_text("已保存草稿")).to_be_visible()
    page.get_by_role("button", name="保存并提交审核").click()
    expect(page.locator("#version-status")).to_have_text("审核中")
    page.get_by_role("button", name=re.compile("退出")).click()

    login(page, live_server, "reviewer1")
    page.get_by_role("link", name="网页新建的软件奖励（示例）").click()
    page.get_by_role("button", name="开始试算").click()
    expect(page.locator("#preview-eligible")).to_have_text("1")
    screenshot("review")
    page.get_by_role("button", name="审核通过").click()
    page.get_by_role("button", name="发布").click()
    expect(page.locator("#version-status")).to_have_text("已发布")
    expect(page.locator(".run-status")).to_have_text("已完成", timeout=15000)
    screenshot("published")

    version = PolicyVersion.objects.get(title="网页新建的软件奖励（示例）")
    assert MatchRecord.objects.filter(enterprise=enterprise, policy_version=version, outcome="eligible").exists()

    # The matched enterprise's inbox shows the push (免申即享, on the factory's department data).
    EnterpriseUserFactory(username="qiye-inbox", enterprise=enterprise)
    page.get_by_role("button", name=re.compile("退出")).click()
    login(page, live_server, "qiye-inbox")
    page.goto(f"{live_server.url}/enterprises/{enterprise.credit_code}/inbox/")
    expect(page.get_by_text("免申即享：网页新建的软件奖励（示例）")).to_be_visible()
    screenshot("inbox")
