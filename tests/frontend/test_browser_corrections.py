"""In a real browser: an enterprise flags a figure beside its explanation (此数据有误), the owning department's
data officer accepts it in the console, and the enterprise's match changes at once (a real worker re-decides);
a second flag is rejected with a reason the enterprise reads. The 请核验 push leads to 申请核验."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from matching.models import MatchRecord
from matching.services import match_profiles_refresh
from portal.accounts.roles import Role
from portal.corrections.models import CorrectionRequest
from portal.corrections.services import department_assign
from portal.enterprises.models import Enterprise
from portal.notices.models import DecisionNotice
from portal.notifications.models import Notification
from portal.receipts.models import Receipt
from tests.corrections.support import PDF_BYTES
from tests.enterprises.factories import EnterpriseUserFactory, StaffUserFactory
from tests.frontend.support import match, published_policy, software_enterprise
from tests.frontend.test_browser_flows import login
from tests.support.services import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

STAFF_RULE = {
    "all": [
        {"fact": "industry", "op": "under", "value": ["65"]},
        {"fact": "employees", "op": "gte", "value": 170},
    ]
}


def logout(page, live_server) -> None:
    page.context.clear_cookies()


def test_flag_accept_changes_the_match_then_a_rejection(
    page, live_server, screenshot, start_worker, settings, tmp_path
) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    start_worker(extra_env={"DJANGO_MEDIA_ROOT": str(tmp_path)})
    enterprise = software_enterprise(name="苏州纠错示例软件有限公司")  # 150 people, from 统计局
    EnterpriseUserFactory(username="jiucuo-qiye", enterprise=enterprise)
    officer = StaffUserFactory(username="tongji", roles=[Role.DATA_OFFICER])
    department_assign(user=officer, department="statistics")
    other = StaffUserFactory(username="shuiwu", roles=[Role.DATA_OFFICER])
    department_assign(user=other, department="tax")
    version = published_policy(title="软件企业扩岗补贴（示例）", rule=STAFF_RULE)
    match_profiles_refresh()
    match(enterprise)
    assert not MatchRecord.objects.filter(enterprise=enterprise, policy_version=version, outcome="eligible").exists()
    evidence = tmp_path / "2026年统计年报.pdf"
    evidence.write_bytes(PDF_BYTES)

    # The enterprise reads why it does not qualify and flags the figure beside it.
    login(page, live_server, "jiucuo-qiye")
    page.goto(f"{live_server.url}/policies/{version.policy_id}/")
    screenshot("policy-explanation")
    page.get_by_role("link", name="从业人员：此数据有误").click()
    expect(page.get_by_role("heading", name="此数据有误：从业人员")).to_be_visible()
    expect(page.locator(".facts")).to_contain_text("150人")
    expect(page.locator(".facts")).to_contain_text("统计局")
    # Odd input first: words, then a figure beyond what the fact allows; each named at the field.
    field = page.get_by_label("正确的从业人员（人）")
    field.fill("一百八十")
    page.get_by_label("证明材料").set_input_files(str(evidence))
    page.get_by_role("button", name="提交纠错申请").click()
    expect(page.locator(".errorlist")).to_contain_text("从业人员：应为整数")
    page.get_by_label("正确的从业人员（人）").fill("99999999")
    page.get_by_label("证明材料").set_input_files(str(evidence))
    page.get_by_role("button", name="提交纠错申请").click()
    expect(page.locator(".errorlist")).to_contain_text("从业人员不能大于10000000人")
    screenshot("form-refused")
    assert CorrectionRequest.objects.count() == 0
    page.get_by_label("正确的从业人员（人）").fill("180")
    page.get_by_label("情况说明").fill("2026年统计年报为180人（示例）")
    page.get_by_label("证明材料").set_input_files(str(evidence))
    page.get_by_role("button", name="提交纠错申请").click()
    expect(page.locator("#correction-status")).to_have_text("待办理")
    expect(page.get_by_role("link", name="2026年统计年报.pdf")).to_be_visible()
    screenshot("submitted")
    logout(page, live_server)

    # Another department's officer does not see it.
    login(page, live_server, "shuiwu")
    page.goto(f"{live_server.url}/console/corrections/")
    expect(page.get_by_text("暂无该状态的申请。")).to_be_visible()
    correction = CorrectionRequest.objects.get()
    assert page.goto(f"{live_server.url}/console/corrections/{correction.pk}/").status == 404
    logout(page, live_server)

    # 统计局's officer accepts.
    login(page, live_server, "tongji")
    page.goto(f"{live_server.url}/console/corrections/")
    page.get_by_role("link", name="苏州纠错示例软件有限公司 · 数据纠错：从业人员").click()
    expect(page.locator(".facts")).to_contain_text("180人")
    with page.expect_download() as download:
        page.get_by_role("link", name="2026年统计年报.pdf").click()
    assert Path(download.value.path()).read_bytes() == PDF_BYTES
    page.get_by_label("办理意见（不予采纳时必填）").fill("已核对统计年报")
    page.get_by_role("button", name="采纳", exact=True).click()
    expect(page.locator("#correction-status")).to_have_text("已采纳")
    screenshot("accepted")
    logout(page, live_server)

    enterprise.refresh_from_db()
    assert (enterprise.employees, enterprise.fact_source("employees")) == (180, "statistics")
    # The worker re-decides the enterprise at once (FACTS_CHANGED → match run).
    wait_for(
        lambda: MatchRecord.objects.filter(enterprise=enterprise, policy_version=version, outcome="eligible").exists(),
        timeout=60,
    )

    # The decision's receipt (认定依据) changed with it: a new one rests on 180 people from 统计局.
    latest = (
        Receipt.objects.filter(enterprise=enterprise, policy_version=version, kind=Receipt.Kind.DECISION)
        .order_by("at", "id")
        .last()
    )
    assert latest is not None and latest.outcome == "eligible" and latest.previous_outcome != "eligible"
    assert latest.facts["employees"]["source"] == "statistics" and "180" in latest.facts["employees"]["value"]

    login(page, live_server, "jiucuo-qiye")
    page.goto(f"{live_server.url}/receipts/{latest.pk}/")
    expect(page.locator("main")).to_contain_text("180")
    screenshot("receipt-after-correction")
    page.goto(f"{live_server.url}/enterprises/{enterprise.credit_code}/")
    expect(page.get_by_text("软件企业扩岗补贴（示例）").first).to_be_visible()
    page.goto(f"{live_server.url}/enterprises/{enterprise.credit_code}/inbox/")
    notice = page.locator("article", has_text="数据纠错：已采纳")
    expect(notice).to_contain_text("统计局已将“从业人员”更正为180人")
    screenshot("inbox-accepted")

    # A second flag (营业收入, held from 统计局) is rejected with a reason.
    page.goto(f"{live_server.url}/enterprises/{enterprise.credit_code}/profile/")
    screenshot("profile")
    page.get_by_role("link", name="营业收入（万元）：此数据有误").click()
    page.get_by_label("正确的营业收入（万元）").fill("9,500.5")
    page.get_by_label("证明材料").set_input_files(str(evidence))
    page.get_by_role("button", name="提交纠错申请").click()
    expect(page.locator("#correction-status")).to_have_text("待办理")
    logout(page, live_server)
    login(page, live_server, "tongji")
    page.goto(f"{live_server.url}/console/corrections/")
    page.get_by_role("link", name="苏州纠错示例软件有限公司 · 数据纠错：营业收入").click()
    page.get_by_role("button", name="不予采纳").click()
    expect(page.get_by_text("请填写理由")).to_be_visible()
    page.get_by_label("办理意见（不予采纳时必填）").fill("与2026年统计年报一致（示例）")
    page.get_by_role("button", name="不予采纳").click()
    expect(page.locator("#correction-status")).to_have_text("未采纳")
    logout(page, live_server)
    login(page, live_server, "jiucuo-qiye")
    page.goto(f"{live_server.url}/enterprises/{enterprise.credit_code}/inbox/")
    expect(page.locator("article", has_text="数据纠错：未采纳")).to_contain_text("理由：与2026年统计年报一致（示例）")
    screenshot("inbox-rejected")
    assert Enterprise.objects.get(pk=enterprise.pk).revenue == enterprise.revenue
    assert Notification.objects.filter(enterprise=enterprise, kind="correction_update").count() == 4


def test_the_verify_push_leads_to_an_online_verification(
    page, live_server, screenshot, settings, tmp_path, celery_eager
) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    enterprise = software_enterprise(name="苏州核验示例软件有限公司", facts_source="self_declared")
    EnterpriseUserFactory(username="hey-qiye", enterprise=enterprise)
    officer = StaffUserFactory(username="shichang", roles=[Role.DATA_OFFICER])
    department_assign(user=officer, department="market_regulation")
    published_policy(
        title="软件企业认定奖励（示例）",
        mode="exempt",
        rule={"fact": "industry", "op": "under", "value": ["65"]},
    )
    match_profiles_refresh()
    match(enterprise)
    assert Notification.objects.filter(enterprise=enterprise, kind="confirm_fact").exists()

    login(page, live_server, "hey-qiye")
    page.goto(f"{live_server.url}/enterprises/{enterprise.credit_code}/inbox/")
    page.locator("article", has_text="请核验信息以享受").get_by_role("link", name="查看企业信息").click()
    page.locator("#verify").get_by_role("link", name="所属行业：申请核验").click()
    expect(page.get_by_role("heading", name="申请核验：所属行业")).to_be_visible()
    page.get_by_role("button", name="提交核验申请").click()
    expect(page.locator("#correction-status")).to_have_text("待办理")
    logout(page, live_server)
    login(page, live_server, "shichang")
    correction = CorrectionRequest.objects.get()
    page.goto(f"{live_server.url}/console/corrections/{correction.pk}/")
    page.get_by_role("button", name="采纳", exact=True).click()
    expect(page.locator("#correction-status")).to_have_text("已采纳")
    enterprise.refresh_from_db()
    assert enterprise.fact_source("industry_code") == "market_regulation"
    # Verified now: the 免申即享 policy grants the benefit (the eager worker re-decided at once).
    assert Notification.objects.filter(enterprise=enterprise, kind="exempt_granted").exists()
    # …with its 决定通知书 (享受), which the enterprise reads in its workspace.
    notice = DecisionNotice.objects.get(enterprise=enterprise, kind=DecisionNotice.Kind.GRANTED)
    logout(page, live_server)
    login(page, live_server, "hey-qiye")
    page.goto(f"{live_server.url}/enterprises/{enterprise.credit_code}/notices/{notice.number}/")
    expect(page.locator("main")).to_contain_text(notice.number)
    expect(page.locator("main")).to_contain_text("行政复议")
    screenshot("verified")
