"""In a real browser: an enterprise opens the 决定通知书 of its 免申即享 grant, reads every part, prints and
downloads it; a stranger's browser gets 404."""

from __future__ import annotations

import io
import re

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from matching.services import match_profiles_refresh
from portal.notices.models import DecisionNotice
from tests.enterprises.factories import EnterpriseFactory, EnterpriseUserFactory
from tests.frontend.support import exempt_policy, match, software_enterprise
from tests.frontend.test_browser_flows import login
from tests.notices.support import chinese_date

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_enterprise_reads_prints_and_downloads_its_notice(page, live_server, screenshot) -> None:
    enterprise = software_enterprise(name="苏州通知书示例软件有限公司")
    EnterpriseUserFactory(username="qiye-notice", enterprise=enterprise)
    exempt_policy(title="高新技术企业认定奖励（示例）", department="区科技创新局")
    match_profiles_refresh()
    match(enterprise)  # the matching engine decides: the entitlement, its push and its notice
    notice = DecisionNotice.objects.get(enterprise=enterprise)
    assert notice.kind == "granted"

    login(page, live_server, "qiye-notice")
    page.goto(f"{live_server.url}/enterprises/{enterprise.credit_code}/")
    page.get_by_role("link", name="决定通知书").click()
    expect(page.get_by_role("heading", name="决定通知书")).to_be_visible()
    expect(page.get_by_role("link", name=notice.number)).to_be_visible()
    # The inbox item of the grant leads to its notice.
    page.get_by_role("link", name="消息", exact=True).click()
    page.get_by_role("link", name=f"决定通知书 {notice.number}").click()

    document = page.locator("#notice-document")
    expect(document.get_by_role("heading", name="享受政策决定通知书")).to_be_visible()
    expect(document.get_by_text(f"编号：{notice.number}")).to_be_visible()
    for heading in ("一、决定事项", "二、政策依据", "三、所依据的数据", "四、数据纠错和异议", "五、救济途径和期限"):
        expect(document.get_by_role("heading", name=heading)).to_be_visible()
    expect(document.get_by_text("（未载明文号）")).to_be_visible()
    expect(document.get_by_text("苏高新管〔2021〕60号", exact=False)).to_be_visible()
    # The data used: one row per condition, with the source and the date of the data.
    rows = document.locator("table.notice-facts tbody tr")
    expect(rows).to_have_count(len(notice.facts))
    for fact in notice.facts:
        expect(rows.filter(has_text=fact["source"]).first).to_be_visible()
    expect(document.locator("[data-review-deadline]")).to_have_text(chinese_date(notice.review_deadline))
    expect(document.locator("[data-litigation-deadline]")).to_have_text(chinese_date(notice.litigation_deadline))
    expect(page.get_by_role("button", name="打印")).to_be_visible()
    screenshot("notice")

    # 数据纠错 leads to the enterprise's profile, where every fact shows its source.
    correction = document.locator(f'a[href="/enterprises/{enterprise.credit_code}/profile/"]')
    expect(correction).to_have_text("“企业信息”页面")
    full = f"{live_server.url}/enterprises/{enterprise.credit_code}/profile/"
    expect(correction).to_have_attribute("data-print-url", full)  # printed in full on paper

    # Printed: the site's header and the buttons are left out, the notice stays.
    page.emulate_media(media="print")
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.get_by_role("button", name="打印")).to_be_hidden()
    expect(document.get_by_role("heading", name="享受政策决定通知书")).to_be_visible()
    printed = correction.evaluate("link => getComputedStyle(link, '::after').content")
    assert full in printed, printed  # the address is printed in full after the link text
    screenshot("notice-print")
    page.emulate_media(media="screen")

    with page.expect_download() as info:
        page.get_by_role("link", name="下载PDF").click()
    download = info.value
    assert download.suggested_filename == f"{notice.number}.pdf"
    with open(download.path(), "rb") as file:
        text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(file.read())).pages)
    assert notice.number in text and "行政复议" in text.replace("\n", "")

    correction.click()
    expect(page).to_have_url(re.compile(rf"/enterprises/{enterprise.credit_code}/profile/$"))


def test_a_stranger_gets_404(page, live_server) -> None:
    enterprise = software_enterprise(name="苏州通知书示例甲有限公司")
    exempt_policy(title="高新技术企业认定奖励（示例）")
    match_profiles_refresh()
    match(enterprise)
    notice = DecisionNotice.objects.get(enterprise=enterprise)
    EnterpriseUserFactory(username="qiye-stranger", enterprise=EnterpriseFactory(name="苏州无关示例有限公司"))

    login(page, live_server, "qiye-stranger")
    for path in (
        f"/enterprises/{enterprise.credit_code}/notices/{notice.number}/",
        f"/enterprises/{enterprise.credit_code}/notices/{notice.number}/pdf/",
        f"/console/notices/{notice.number}/",
    ):
        response = page.goto(live_server.url + path)
        assert response is not None and response.status == 404, path
        expect(page.get_by_text(notice.number)).to_have_count(0)


def test_staff_find_a_notice_in_the_console(page, live_server, screenshot) -> None:
    from portal.accounts.roles import Role
    from portal.entitlements import services as entitlement_services
    from portal.entitlements.models import Entitlement
    from tests.enterprises.factories import StaffUserFactory

    reviewer = StaffUserFactory(username="shenhe-notice", roles=[Role.REVIEWER])
    enterprise = software_enterprise(name="苏州通知书示例丙有限公司")
    exempt_policy(title="高新技术企业认定奖励（示例）", department="区科技创新局")
    match_profiles_refresh()
    match(enterprise)
    entitlement = Entitlement.objects.get(enterprise=enterprise)
    entitlement_services.entitlement_revoke(entitlement=entitlement, by=reviewer, reason="资质已被撤销（示例）")
    refused = DecisionNotice.objects.get(enterprise=enterprise, kind="refused")

    login(page, live_server, "shenhe-notice")
    page.goto(live_server.url + "/console/")
    page.get_by_role("link", name="决定通知书").click()
    expect(page.get_by_role("heading", name="工作台：决定通知书")).to_be_visible()
    expect(page.get_by_role("row")).to_have_count(3)  # the header and two notices
    # Odd input: spaces, a number that does not exist, markup. The page says so and stays whole.
    page.get_by_label("编号、企业名称或统一社会信用代码").fill("  <b>HQ-1999-000001</b> ")
    page.get_by_role("button", name="查找").click()
    expect(page.get_by_text("没有符合条件的通知书。")).to_be_visible()
    page.get_by_label("编号、企业名称或统一社会信用代码").fill(f" {refused.number} ")
    page.get_by_role("button", name="查找").click()
    expect(page.get_by_role("row")).to_have_count(2)
    page.get_by_role("link", name=refused.number).click()
    document = page.locator("#notice-document")
    expect(document.get_by_role("heading", name="不予享受政策决定通知书")).to_be_visible()
    expect(document.get_by_text("资质已被撤销（示例）")).to_be_visible()
    expect(document.get_by_text("作出方式：审核人", exact=False)).to_be_visible()
    screenshot("console-notice")
    page.get_by_role("link", name="返回通知书列表").click()
    page.get_by_label("决定", exact=True).select_option("needs_info")
    page.get_by_role("button", name="查找").click()
    expect(page.get_by_text("没有符合条件的通知书。")).to_be_visible()
