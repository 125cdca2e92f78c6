"""In a real browser: the inbox links each notice to what it is about, reads cleanly, and 全部标为已读 works."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from matching.services import match_profiles_refresh
from portal.applications import services as application_services
from portal.notifications.models import Notification
from portal.notifications.selectors import notification_unread_count
from tests.applications.support import MATERIALS, full_files
from tests.enterprises.factories import EnterpriseUserFactory
from tests.frontend.support import exempt_policy, match, published_policy, software_enterprise
from tests.frontend.test_browser_flows import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# A sentence run into the next without 。, a doubled 。, or stray whitespace inside a notice.
GLUED = re.compile(r"。。|[^。！？”）]$|\s")


def test_inbox_links_read_cleanly_and_mark_all_read(page, live_server, screenshot, settings, tmp_path) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    # Every fact self-declared: the 免申即享 policy can only ask for verification (请核验).
    enterprise = software_enterprise(name="苏州消息示例软件有限公司", facts_source="self_declared")
    alice = EnterpriseUserFactory(username="inbox-alice", enterprise=enterprise)
    bob = EnterpriseUserFactory(username="inbox-bob", enterprise=enterprise)
    apply_version = published_policy(
        title="软件企业研发补贴（示例）",
        materials=list(MATERIALS),
        conditions_text="软件企业，持有高新技术企业资质（示例）",
    )
    exempt_policy(title="高新技术企业认定奖励（示例）", department="区科技局", contact_name="王敏（示例）")
    match_profiles_refresh()
    match(enterprise)
    application = application_services.application_submit(
        enterprise=enterprise,
        version=apply_version,
        by=bob,
        contact_name="张敏",
        contact_phone="13912345678",
        files=full_files(),
    )
    assert set(Notification.objects.values_list("kind", flat=True)) == {
        "may_apply",
        "confirm_fact",
        "application_update",
    }
    assert notification_unread_count(user=bob) == 2  # bob submitted: that one is read for him

    login(page, live_server, "inbox-alice")
    inbox = f"{live_server.url}/enterprises/{enterprise.credit_code}/inbox/"
    page.goto(inbox)
    expect(page.locator("#inbox-unread")).to_have_text("3")
    bodies = page.locator(".notice-body").all_inner_texts()
    assert len(bodies) == 3
    for body in bodies:
        assert not GLUED.search(body), body
    screenshot("inbox")

    # 可申报 → the policy page.
    page.locator("article", has_text="可申报：软件企业研发补贴（示例）").get_by_role("link", name="查看政策").click()
    expect(page).to_have_url(f"{live_server.url}/policies/{apply_version.policy_id}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("软件企业研发补贴（示例）")

    # 请核验 → the profile, where 申请核验 asks the verifying department online (portal.corrections).
    page.goto(inbox)
    notice = page.locator("article", has_text="请核验信息以享受")
    expect(notice).to_contain_text("所属行业（市场监督管理局核验）")
    expect(notice).to_contain_text("政策咨询：区科技局，联系人王敏（示例）")
    notice.get_by_role("link", name="查看企业信息").click()
    expect(page).to_have_url(f"{live_server.url}/enterprises/{enterprise.credit_code}/profile/")
    verify = page.locator("#verify")
    expect(verify.get_by_role("heading", name="申请核验")).to_be_visible()
    expect(verify).to_contain_text("高新技术企业认定奖励（示例）")
    expect(verify.get_by_role("link", name="所属行业：申请核验")).to_be_visible()
    expect(verify).to_contain_text("市场监督管理局核验")
    expect(verify).to_contain_text("政策咨询：区科技局，联系人王敏（示例）")
    screenshot("profile-verify")

    # Following a notice's link read it (for alice only): one unread left, bob's submission.
    page.goto(inbox)
    expect(page.locator("#inbox-unread")).to_have_text("1")
    expect(page.locator("article", has_text="申报进度").locator(".badge")).to_have_text("未读")
    page.get_by_role("button", name="全部标为已读").click()
    expect(page.get_by_text("已将1条消息标为已读。")).to_be_visible()
    expect(page.locator("#inbox-unread")).to_have_text("0")
    expect(page.locator(".badge", has_text="未读")).to_have_count(0)
    expect(page.get_by_role("button", name="全部标为已读")).to_have_count(0)
    screenshot("inbox-all-read")
    assert notification_unread_count(user=alice) == 0
    assert notification_unread_count(user=bob) == 2  # alice's read state is hers alone

    # 申报进度 (bob's submission) → the application.
    page.locator("article", has_text="申报进度").get_by_role("link", name="查看申报").click()
    expect(page).to_have_url(f"{live_server.url}/enterprises/{enterprise.credit_code}/applications/{application.pk}/")
    expect(page.get_by_role("heading", name="申报：软件企业研发补贴（示例）")).to_be_visible()
