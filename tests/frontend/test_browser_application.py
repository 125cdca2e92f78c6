"""In a real browser: an enterprise user applies online (在线申报) for a 可申报 policy with a real file."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from matching.services import match_profiles_refresh
from portal.applications.models import Application
from tests.enterprises.factories import EnterpriseUserFactory
from tests.frontend.support import match, published_policy, software_enterprise
from tests.frontend.test_browser_flows import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def test_enterprise_user_applies_online_from_the_dashboard(page, live_server, screenshot, settings, tmp_path) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    enterprise = software_enterprise(name="苏州申报示例软件有限公司")
    EnterpriseUserFactory(username="qiye-apply", enterprise=enterprise)
    today = timezone.localdate()
    version = published_policy(
        title="软件企业研发补贴（示例）",
        materials=["营业执照（系统已自动调取，无需上传）", "项目申报书"],
        application_start=today - dt.timedelta(days=5),
        application_end=today + dt.timedelta(days=20),
        conditions_text="软件和信息技术服务业，持有有效的高新技术企业资格（示例）。",
    )
    match_profiles_refresh()
    match(enterprise)  # the matching engine decides: eligible, 可申报
    upload = tmp_path / "项目申报书.pdf"
    upload.write_bytes(PDF)

    login(page, live_server, "qiye-apply")
    page.goto(f"{live_server.url}/enterprises/{enterprise.credit_code}/")
    apply_section = page.locator("section", has=page.locator("#apply-heading"))
    apply_section.get_by_role("link", name="在线申报：软件企业研发补贴（示例）").click()

    expect(page.get_by_role("heading", name="在线申报：软件企业研发补贴（示例）")).to_be_visible()
    expect(page.get_by_text("持有有效的高新技术企业资质").first).to_be_visible()  # why eligible, in plain words
    page.get_by_label("项目申报书").set_input_files(str(upload))
    page.get_by_label("联系人").fill("张敏")
    page.get_by_label("联系电话").fill("0512-66668888")
    page.get_by_label("申报说明").fill("申请2026年度研发补贴（示例）")
    screenshot("form")
    page.get_by_role("button", name="提交申报").click()

    expect(page.get_by_text("申报已提交，受理进度会通过消息通知您。")).to_be_visible()
    timeline = page.get_by_role("list", name="办理进度")
    expect(timeline.get_by_text("已提交")).to_be_visible()
    expect(page.get_by_role("link", name="项目申报书.pdf")).to_be_visible()
    screenshot("timeline")

    application = Application.objects.get(enterprise=enterprise, policy_version=version)
    assert application.status == "submitted"
    assert application.attachments.get().file.read() == PDF

    page.get_by_role("link", name="政策匹配").click()
    applied = page.locator("section", has=page.locator("#applied-heading"))
    expect(applied.get_by_role("heading", name="已申报（1 项）")).to_be_visible()
    expect(applied.get_by_role("link", name="软件企业研发补贴（示例）")).to_be_visible()
    expect(applied.get_by_text("已提交")).to_be_visible()
    expect(page.get_by_role("link", name="在线申报：软件企业研发补贴（示例）")).to_have_count(0)
    screenshot("dashboard")
