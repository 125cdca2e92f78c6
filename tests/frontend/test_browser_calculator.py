"""The 政策计算器 walked in Chromium as a newcomer, against the live catalogue: what the page says is true.

Empty form, an industry typed but not picked, a future 成立日期, negative staff, "1e1000000", a
favourable small high-tech manufacturer, printing, and an enterprise user starting from its own
profile (and only its own).
"""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from policies.loader import DEFAULT_FILE, load_catalogue
from tests.enterprises.factories import EnterpriseFactory, EnterpriseUserFactory, QualificationFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

SUBMIT = "看看能享受哪些政策"


@pytest.fixture
def catalogue() -> None:
    load_catalogue(path=DEFAULT_FILE)


def open_calculator(page, live_server) -> None:
    page.goto(live_server.url + "/calculator/")
    expect(page.get_by_role("heading", name="政策计算器", level=1)).to_be_visible()


def submit(page) -> None:
    page.get_by_role("button", name=SUBMIT).click()


def eligible_count(page) -> int:
    heading = page.locator("#eligible-heading")
    expect(heading).to_be_visible()
    return int(re.search(r"（(\d+) 项）", heading.inner_text()).group(1))


def test_empty_form_says_nothing_was_given_and_asks_for_information(page, live_server, catalogue, screenshot) -> None:
    open_calculator(page, live_server)
    submit(page)

    expect(page.locator("#calc-results")).to_contain_text("未填写任何信息，所有条件均按“未知”处理")
    assert eligible_count(page) == 0
    needs = page.locator("section", has=page.locator("#needs-heading"))
    expect(needs).to_contain_text("需补充")
    screenshot("empty")


def test_an_industry_not_picked_from_the_list_is_named_with_matches(page, live_server, catalogue, screenshot) -> None:
    open_calculator(page, live_server)
    page.get_by_label("所属行业").fill("asdfgh")
    submit(page)

    error = page.locator("#id_industry_error")
    expect(error).to_contain_text("所属行业未找到该行业“asdfgh”")
    expect(page.locator("#calc-results")).not_to_contain_text("计算结果")
    expect(page.get_by_role("alert")).to_contain_text("有 1 项填写有误")
    screenshot("nonsense-industry")

    page.get_by_label("所属行业").fill("软件公司")
    submit(page)
    expect(error).to_contain_text("所属行业“软件公司”不是列表中的行业，请从提示中选择一项，例如：")
    expect(error).to_contain_text("应用软件开发（6513）")
    # the matches are also offered in the input's drop-down list
    expect(page.locator("#industry-options option[value='应用软件开发（6513）']")).to_have_count(1)
    screenshot("industry-with-matches")


def test_future_date_negative_staff_and_a_huge_number_are_refused_by_name(
    page, live_server, catalogue, screenshot
) -> None:
    tomorrow = timezone.localdate() + timedelta(days=1)
    open_calculator(page, live_server)
    page.get_by_label("成立日期").fill(tomorrow.isoformat())
    page.get_by_label("从业人员（人）").fill("-5")
    page.get_by_label("营业收入（万元）").fill("1e1000000")
    page.get_by_label("资产总额（万元）").fill("99999999999999")
    started = time.monotonic()
    submit(page)

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("有 4 项填写有误")
    assert time.monotonic() - started < 10  # refused, not computed
    expect(page.locator("#id_established_on_error")).to_have_text(
        f"成立日期不能晚于今天（{timezone.localdate().isoformat()}）"
    )
    expect(page.locator("#id_employees_error")).to_have_text("从业人员不能为负数")
    expect(page.locator("#id_revenue_error")).to_contain_text("营业收入请填写普通写法的数字")
    expect(page.locator("#id_total_assets_error")).to_have_text("资产总额不能超过10000000000万元")
    expect(page.locator("#calc-results")).not_to_contain_text("计算结果")
    # what was typed stays in the inputs, so it can be corrected
    expect(page.get_by_label("营业收入（万元）")).to_have_value("1e1000000")
    screenshot("bad-input")


def test_a_favourable_small_high_tech_manufacturer_sees_several_fitting_policies(
    page, live_server, catalogue, screenshot
) -> None:
    open_calculator(page, live_server)
    page.get_by_label("所属行业").fill("3973")
    page.get_by_label("成立日期").fill("2018-05-01")
    page.get_by_label("从业人员（人）").fill("80")
    page.get_by_label("营业收入（万元）").fill("5,000")
    page.get_by_label("资产总额（万元）").fill("3000")
    page.get_by_label("研发费用占营业收入比例（%）").fill("8")
    page.get_by_label("纳税信用等级").select_option("A")
    page.get_by_label("是否为规模以上企业").select_option("true")
    page.get_by_label("外资来源国（地区）").select_option("none")
    page.get_by_label("科技生态功能区").check()
    page.get_by_label("高新技术企业", exact=True).check()
    page.get_by_label("本企业未被列入失信被执行人等失信名单").check()
    submit(page)

    assert eligible_count(page) > 1
    declared = page.locator(".declared-list")
    expect(declared).to_contain_text("集成电路制造（3973）")
    expect(declared).to_contain_text("小型")  # sized by the 2017 standard from the figures
    expect(declared).to_contain_text("未被列为失信主体")
    results = page.locator("#calc-results")
    expect(results).not_to_contain_text("需补充：是否被列为失信主体")
    eligible = page.locator("section", has=page.locator("#eligible-heading"))
    expect(eligible).to_contain_text("高新技术企业认定奖励")
    assert "dishonest=1" in page.url  # the statement is part of the bookmarkable result
    screenshot("favourable")

    # 打印/保存: the print stylesheet hides navigation and the form and keeps the results
    print_button = page.get_by_role("button", name="打印/保存结果")
    # count instead of opening a dialog (a function, so that evaluate does not call the stub itself)
    page.evaluate("() => { window.printed = 0; window.print = () => { window.printed += 1; }; }")
    print_button.click()
    assert page.evaluate("window.printed") == 1  # portal.js, allowed by the Content-Security-Policy
    page.emulate_media(media="print")
    expect(page.locator("form.calc-form")).to_be_hidden()
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.get_by_role("button", name="打印/保存结果")).to_be_hidden()
    expect(page.locator("#eligible-heading")).to_be_visible()
    expect(page.get_by_text("打印自惠企通·政策计算器")).to_be_visible()
    screenshot("print")
    pdf = page.pdf()
    assert pdf.startswith(b"%PDF")


def test_an_enterprise_user_starts_from_its_own_profile_only(page, live_server, catalogue, screenshot) -> None:
    own = EnterpriseFactory(name="苏州自家示例有限公司", industry_code="3973", employees=150)
    QualificationFactory(enterprise=own)
    EnterpriseFactory(name="苏州别家示例有限公司", industry_code="6513", employees=9)
    EnterpriseUserFactory(username="ziji", enterprise=own)

    page.goto(live_server.url + "/accounts/login/?next=/calculator/")
    page.get_by_label("用户名").fill("ziji")
    page.get_by_label("密码").fill("pw")
    page.get_by_role("button", name="登录").click()
    page.get_by_role("link", name="用本企业信息试算").click()

    expect(page.get_by_role("status")).to_contain_text("已用“苏州自家示例有限公司”的企业信息预填")
    expect(page.get_by_label("所属行业")).to_have_value("集成电路制造（3973）")
    expect(page.get_by_label("从业人员（人）")).to_have_value("150")
    expect(page.get_by_label("高新技术企业", exact=True)).to_be_checked()
    expect(page.get_by_label("本企业未被列入失信被执行人等失信名单")).to_be_checked()
    screenshot("prefilled")
    submit(page)
    assert eligible_count(page) > 1

    # nothing in the address picks another enterprise: the other firm's figures never appear
    page.goto(live_server.url + "/calculator/?mine=1&credit_code=x&enterprise=2")
    expect(page.get_by_label("从业人员（人）")).to_have_value("150")


def test_an_editor_writes_a_golden_case_with_every_fact(page, live_server, screenshot) -> None:
    """The console's golden-case form: an input per fact (shared with the calculator), the JSON shape
    shown, negative amounts refused on the field."""
    from policies.models import GoldenCase
    from portal.accounts.roles import Role
    from tests.enterprises.factories import StaffUserFactory
    from tests.frontend.test_browser_flows import login
    from tests.policies.factories import PolicyVersionFactory

    rule = {
        "all": [
            {"fact": "industry", "op": "under", "value": ["39"]},
            {"fact": "dishonest", "op": "eq", "value": False},
            {"fact": "foreign_investor_country", "op": "in", "value": ["JP"]},
        ]
    }
    version = PolicyVersionFactory(title="日资电子企业服务（示例）", rule=rule)
    StaffUserFactory(username="bianji", roles=[Role.POLICY_EDITOR])
    login(page, live_server, "bianji")
    page.goto(f"{live_server.url}/console/versions/{version.pk}/golden/new/")

    page.get_by_label("案例名称").fill("守信日资电子企业（示例）")
    page.get_by_label("所属行业（4位小类代码）").fill("3973")
    page.get_by_label("是否被列为失信主体").select_option("false")
    page.get_by_label("外资来源国（地区）").select_option("JP")
    page.get_by_label("营业收入（万元）").fill("-100")
    page.get_by_text("高级：直接编辑企业画像 JSON").click()
    expect(page.locator("#profile-json-example")).to_contain_text('"dishonest": false')
    page.get_by_role("button", name="保存案例").click()

    expect(page.locator("#id_revenue_error")).to_have_text("营业收入不能为负数")
    assert not GoldenCase.objects.exists()
    screenshot("golden-negative")

    page.get_by_label("营业收入（万元）").fill("800")
    page.get_by_role("button", name="保存案例").click()
    expect(page.get_by_text("已保存标准案例。")).to_be_visible()
    case = GoldenCase.objects.get()
    assert case.profile == {
        "industry_code": "3973",
        "revenue": 800,
        "dishonest": False,
        "foreign_investor_country": "JP",
    }
    expect(page.locator("#golden-table")).to_contain_text("守信日资电子企业（示例）")
    expect(page.locator("#golden-table")).to_contain_text("通过")
    screenshot("golden-saved")
