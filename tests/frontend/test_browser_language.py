"""Chromium walks: the console draft → 试算 → submit → 待我审核 flow, no English on the main pages, a policy
page showing the logged-in enterprise its own outcome, and the 政策清单 exports."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from policies.models import Mode, PolicyVersion
from portal.accounts.roles import Role
from portal.notices.models import DecisionNotice
from tests.enterprises.factories import EnterpriseFactory, EnterpriseUserFactory, StaffUserFactory
from tests.frontend.support import match, published_policy, software_enterprise
from tests.frontend.test_browser_flows import login
from tests.policies.factories import PolicyVersionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# A run of 4+ Latin letters or underscores is an English word or a code (newly_eligible, rule.all,
# This field is required). Allowed, and only these:
ALLOWED = {
    "XLSX",  # the file format, named on the export and upload buttons (what the file is called)
    "JSON",  # the staff rule editor's expert mode edits the rule's JSON text itself
}
TOKEN = re.compile(r"[A-Za-z_]{4,}")

# Visible text of the page, plus the attributes people read (placeholders, labels for screen readers).
VISIBLE_TEXT = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  let node;
  while ((node = walker.nextNode())) {
    const parent = node.parentElement;
    if (!parent || ['SCRIPT', 'STYLE', 'TEXTAREA', 'PRE'].includes(parent.tagName)) continue;
    const text = node.textContent.trim();
    if (text) out.push(text);
  }
  document.querySelectorAll('[placeholder],[aria-label],[title]').forEach(e => {
    for (const a of ['placeholder', 'aria-label', 'title']) if (e.getAttribute(a)) out.push(e.getAttribute(a));
  });
  return out;
}"""


# 统一社会信用代码 (GB 32100-2015) contain capital letters: data, not English.
CREDIT_CODE = re.compile(r"(?<![0-9A-Z])[0-9A-HJ-NP-RTUW-Y]{2}\d{6}[0-9A-HJ-NP-RTUW-Y]{10}(?![0-9A-Z])")


def english_on(page: Page, *, username: str = "") -> dict[str, str]:
    """Each English token on the page with the text it was found in (the user's own login name allowed)."""
    found: dict[str, str] = {}
    for text in page.evaluate(VISIBLE_TEXT):
        cleaned = CREDIT_CODE.sub("", text.replace(username, "") if username else text)
        for token in TOKEN.findall(cleaned):
            if token not in ALLOWED:
                found.setdefault(token, text[:120])
    return found


def test_editor_drafts_previews_and_submits_then_a_reviewer_finds_it_in_the_queue(
    page, live_server, screenshot, celery_eager
) -> None:
    # bianji may both edit and review, so the queue must leave out the draft bianji wrote (four eyes).
    StaffUserFactory(username="bianji", roles=[Role.POLICY_EDITOR, Role.REVIEWER])
    StaffUserFactory(username="shenhe", roles=[Role.REVIEWER])
    for n in range(2):
        software_enterprise(name=f"苏州软件示例{n}有限公司")
    EnterpriseFactory()  # 3973: not software

    login(page, live_server, "bianji")
    page.goto(live_server.url + "/console/policies/new/")
    expect(page.get_by_label("政策标识")).to_have_attribute("readonly", "")
    page.get_by_label("政策名称").fill("软件企业首版次奖励（示例）")
    page.get_by_label("责任部门").fill("区科技局")
    page.get_by_label("责任人").fill("王敏（示例）")
    page.get_by_label("联系电话").fill("0512-0000-0000（示例）")
    page.get_by_label("生效日期").fill("2020-01-01")
    page.get_by_role("button", name="保存草稿").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("编辑政策（第1版草稿）")
    version = PolicyVersion.objects.select_related("policy").get(title="软件企业首版次奖励（示例）")
    assert re.fullmatch(r"p-20\d\d-\d{4,}", version.policy.key)
    expect(page.get_by_label("政策标识")).to_have_value(version.policy.key)
    # 试算 on the draft, before submitting: the two software enterprises (rule: industry 65).
    page.get_by_role("button", name="开始试算").click()
    expect(page.locator("#preview-eligible")).to_have_text("2", timeout=15000)
    screenshot("draft-preview")
    page.get_by_role("button", name="保存并提交审核").click()
    expect(page.locator("#version-status")).to_have_text("审核中")

    page.goto(live_server.url + "/console/reviews/")
    expect(page.locator("#review-approve")).not_to_contain_text("软件企业首版次奖励")
    expect(page.locator("#review-approve")).to_contain_text("暂无待审核的政策")

    page.get_by_role("button", name=re.compile("退出")).click()
    login(page, live_server, "shenhe")
    page.goto(live_server.url + "/console/reviews/")
    expect(page.get_by_role("heading", name="待审核（1）")).to_be_visible()
    screenshot("review-queue")
    page.locator("#review-approve").get_by_role("link", name="软件企业首版次奖励（示例）").click()
    page.get_by_role("button", name="审核通过").click()
    expect(page.get_by_text("已审核通过，可以发布。")).to_be_visible()
    page.goto(live_server.url + "/console/reviews/")
    expect(page.locator("#review-approve")).not_to_contain_text("软件企业首版次奖励")
    expect(page.locator("#review-publish")).to_contain_text("软件企业首版次奖励（示例）")


def test_main_pages_show_no_english(page, live_server, screenshot, celery_eager) -> None:
    StaffUserFactory(username="shenhe", roles=[Role.POLICY_EDITOR, Role.REVIEWER, Role.DATA_OFFICER])
    enterprise = software_enterprise(name="苏州澄芯示例有限公司", foreign_investor_country="US")
    EnterpriseUserFactory(username="qiye", enterprise=enterprise)
    policy = published_policy(application_start=None, application_end=None)
    published_policy(title="高新技术企业奖励（示例）", mode=Mode.EXEMPT)
    match(enterprise)
    notice = DecisionNotice.objects.get(enterprise=enterprise)  # the 免申即享 grant's 决定通知书
    draft = PolicyVersionFactory(title="草稿政策（示例）")
    found: dict[str, dict[str, str]] = {}

    def visit(path: str, name: str, username: str = "") -> None:
        page.goto(live_server.url + path)
        page.wait_for_load_state("networkidle")
        words = english_on(page, username=username)
        if words:
            found[path] = words
        screenshot(name)

    for path, name in [
        ("/", "home"),
        ("/policies/", "policies"),
        (f"/policies/{policy.policy_id}/", "policy"),
        ("/calculator/", "calculator"),
        ("/calculator/?submitted=1&employees=abc&revenue=-1", "calculator-errors"),
        ("/no-such-page/", "404"),
    ]:
        visit(path, name)
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_role("button", name="登录").click()  # empty: Django's form messages, in Chinese
    assert not english_on(page), english_on(page)

    login(page, live_server, "qiye")
    for path, name in [
        ("/workspace/", "workspace"),
        (f"/enterprises/{enterprise.credit_code}/profile/", "profile"),
        (f"/enterprises/{enterprise.credit_code}/receipts/", "receipts"),
        (f"/policies/{policy.policy_id}/", "policy-mine"),
        (f"/enterprises/{enterprise.credit_code}/notices/", "notices"),
        (f"/enterprises/{enterprise.credit_code}/notices/{notice.number}/", "notice"),
    ]:
        visit(path, name, "qiye")
        if name == "profile":  # a country code is too short for the scan: named in Chinese
            expect(page.get_by_role("row", name=re.compile("外资来源"))).to_contain_text("美国")
    page.get_by_role("button", name=re.compile("退出")).click()

    login(page, live_server, "shenhe")
    for path, name in [
        ("/console/", "console"),
        ("/console/reviews/", "reviews"),
        ("/console/policies/new/", "new"),
        (f"/console/versions/{draft.pk}/", "draft"),
        ("/console/feeds/", "feeds"),
        ("/console/dashboard/", "dashboard"),
        ("/console/entitlements/", "entitlements"),
        ("/console/deliveries/", "deliveries"),
        ("/console/applications/", "applications"),
        ("/console/notices/", "console-notices"),
        (f"/console/notices/{notice.number}/", "console-notice"),
        ("/console/recall/", "recall"),
    ]:
        visit(path, name, "shenhe")
    # A bad rule and missing fields: the messages a page shows name 第1个条件, never rule.all[0].
    page.goto(live_server.url + "/console/policies/new/")
    page.get_by_label("取值").fill("99999")
    page.get_by_role("button", name="保存草稿").click()
    expect(page.locator(".rule-row .errorlist")).to_contain_text("第1个条件")
    expect(page.locator(".errorlist").first).to_be_visible()
    words = english_on(page, username="shenhe")
    if words:
        found["/console/policies/new/ (errors)"] = words
    screenshot("new-errors")

    assert not found, found


def test_policy_page_shows_the_enterprise_its_own_outcome_and_the_apply_button(page, live_server, screenshot) -> None:
    mine = software_enterprise(name="苏州澄芯示例有限公司")
    other = EnterpriseFactory(name="苏州恒岳示例有限公司")  # 3973: not software
    EnterpriseUserFactory(username="qiye", enterprise=mine)
    EnterpriseUserFactory(username="moshengren", enterprise=other)
    StaffUserFactory(username="shenhe", roles=[Role.REVIEWER])
    policy = published_policy(application_start=None, application_end=None)
    match(mine)
    match(other)
    url = f"{live_server.url}/policies/{policy.policy_id}/"

    page.goto(url)  # anonymous: no enterprise outcome, an invitation to log in
    expect(page.locator("#my-outcome")).to_have_count(0)
    expect(page.locator("#login-for-outcome")).to_be_visible()

    login(page, live_server, "qiye")
    page.goto(url)
    box = page.locator("#my-outcome")
    expect(box).to_contain_text("苏州澄芯示例有限公司")
    expect(page.locator("#my-outcome-status")).to_have_text("符合条件")
    expect(box).to_contain_text("为什么符合")
    expect(box).to_contain_text("软件和信息技术服务业")
    expect(box.get_by_role("link", name="在线申报")).to_have_attribute(
        "href", f"/enterprises/{mine.credit_code}/apply/{policy.pk}/"
    )
    screenshot("mine-eligible")
    page.get_by_role("button", name=re.compile("退出")).click()

    login(page, live_server, "moshengren")
    page.goto(url)
    expect(page.locator("#my-outcome-status")).to_have_text("不符合条件")
    expect(page.locator("#my-outcome")).to_contain_text("还差什么")
    expect(page.locator("#my-outcome").get_by_role("link", name="在线申报")).to_have_count(0)
    expect(page.locator("body")).not_to_contain_text("苏州澄芯示例有限公司")  # never another's outcome
    screenshot("other-ineligible")
    page.get_by_role("button", name=re.compile("退出")).click()

    login(page, live_server, "shenhe")  # staff have no enterprise: no outcome box
    page.goto(url)
    expect(page.locator("#my-outcome")).to_have_count(0)


def test_policy_list_exports_download_the_listed_policies_with_formulas_neutralised(
    page, live_server, tmp_path
) -> None:
    from openpyxl import load_workbook

    published_policy(title='=HYPERLINK("http://example.com")', department="区科技局")
    published_policy(title="软件企业研发补贴（示例）", department="区商务局")
    page.goto(live_server.url + "/policies/?department=区科技局")
    expect(page.get_by_role("heading", name="共 1 项政策")).to_be_visible()

    with page.expect_download() as csv_download:
        page.get_by_role("link", name="导出CSV").click()
    text = Path(csv_download.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:2] == ["政策编号", "政策名称"]
    assert [row[1] for row in rows[1:]] == ['\'=HYPERLINK("http://example.com")']  # the filter held; no formula

    with page.expect_download() as xlsx_download:
        page.get_by_role("link", name="导出电子表格（XLSX）").click()
    assert xlsx_download.value.suggested_filename.endswith(".xlsx")
    path = tmp_path / xlsx_download.value.suggested_filename
    xlsx_download.value.save_as(path)
    sheet = load_workbook(path).active
    cell = sheet.cell(row=2, column=2)
    assert (sheet.max_row, cell.value, cell.data_type) == (2, '=HYPERLINK("http://example.com")', "s")
