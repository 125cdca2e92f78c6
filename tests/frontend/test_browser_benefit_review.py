"""In a real browser: a corrected version of a 免申即享 policy drops an enterprise; a reviewer compares the two
decisions on the console and keeps the entitlement; the enterprise reads the whole story on its timeline,
with the reviewer shown by role, never by user name.

Versions are published through the real workflow; the bulk run runs inline (Celery eager) on commit.
"""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from matching.services import match_profiles_refresh
from policies.services import (
    policy_approve,
    policy_create,
    policy_publish,
    policy_submit,
    policy_version_create_draft,
    policy_version_update,
)
from portal.accounts.roles import Role
from portal.entitlements import services
from portal.entitlements.models import Entitlement
from tests.enterprises.factories import EnterpriseUserFactory, StaffUserFactory
from tests.frontend.support import SOFTWARE_HIGH_TECH, software_enterprise
from tests.frontend.test_accessibility import assert_accessible
from tests.frontend.test_browser_flows import login

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("celery_eager"),
]

TIGHTER = {"all": [*SOFTWARE_HIGH_TECH["all"], {"fact": "rd_expense_ratio", "op": "gte", "value": 10}]}


def publish_two_versions(editor, reviewer) -> Entitlement:
    """v1 grants the enterprise; v2 (a tightened correction) no longer finds it eligible."""
    draft = policy_create(
        by=editor,
        key="rd-high-tech-exempt",
        title="高新技术企业研发奖励（示例）",
        summary="示例",
        benefit_kind="subsidy",
        mode="exempt",
        effective_from=timezone.localdate().replace(year=2020),
        rule=SOFTWARE_HIGH_TECH,
        department="区科技创新局",
        contact_name="韩杰（示例）",
        contact_phone="0512-0000-0026（示例）",
    )
    for version in (draft, None):
        if version is None:
            version = policy_version_create_draft(policy=draft.policy, by=editor)
            version = policy_version_update(version=version, by=editor, rule=TIGHTER)
        policy_submit(version=version, by=editor)
        policy_approve(version=version, by=reviewer)
        policy_publish(version=version, by=reviewer)  # on commit: the bulk run, inline
    return Entitlement.objects.get()


@pytest.fixture
def people(staff_editor):
    enterprise = software_enterprise(name="苏州复核示例软件有限公司")
    match_profiles_refresh()  # the bulk path decides from the projection
    return {
        "enterprise": enterprise,
        "user": EnterpriseUserFactory(username="qiye-fuhe", enterprise=enterprise),
        "reviewer": StaffUserFactory(username="shenhe-zhang", roles=[Role.REVIEWER]),
        "editor": staff_editor,
    }


def test_reviewer_compares_both_decisions_and_keeps_the_entitlement(page, live_server, screenshot, people) -> None:
    entitlement = publish_two_versions(people["editor"], people["reviewer"])
    assert entitlement.status == "pending_review"

    login(page, live_server, "shenhe-zhang")
    page.goto(f"{live_server.url}/console/entitlements/?status=pending_review")
    expect(page.get_by_role("link", name="待复核（1）")).to_be_visible()
    card = page.locator(f"#entitlement-{entitlement.pk}")
    old = card.get_by_role("region", name="原认定")
    new = card.get_by_role("region", name="新版本认定")
    expect(old).to_contain_text("第1版 · 符合条件")
    expect(old).to_contain_text("持有有效的高新技术企业资质")
    expect(new).to_contain_text("第2版 · 不符合")
    expect(new).to_contain_text("研发费用占营业收入比例不低于10%：当前为 6.5%")
    assert_accessible(page.content())  # every control labelled, headings in order
    screenshot("review")

    card.get_by_role("button", name="维持认定").click()  # no reason: refused, nothing changes
    expect(page.get_by_text("请填写理由")).to_be_visible()
    entitlement.refresh_from_db()
    assert entitlement.status == "pending_review"

    card = page.locator(f"#entitlement-{entitlement.pk}")
    card.get_by_label("复核意见（必填，企业可见）").fill("第1版认定时数据真实，按原认定兑现")
    card.get_by_role("button", name="维持认定").click()
    expect(page.get_by_text("已办理。")).to_be_visible()
    expect(page.get_by_role("link", name="待复核（0）")).to_be_visible()
    screenshot("review-done")
    entitlement.refresh_from_db()
    assert entitlement.status == "notified" and entitlement.review_version.number == 2


def test_the_enterprise_reads_its_timeline_with_roles_not_names(page, live_server, screenshot, people) -> None:
    entitlement = publish_two_versions(people["editor"], people["reviewer"])
    services.entitlement_review_resolve(
        entitlement=entitlement, by=people["reviewer"], decision="keep", reason="按原认定兑现"
    )
    entitlement.refresh_from_db()
    services.entitlement_object(entitlement=entitlement, by=people["user"], reason="认定金额与通知不一致")
    entitlement.refresh_from_db()
    services.entitlement_resolve(
        entitlement=entitlement, by=people["reviewer"], decision="confirm", resolution="金额以拨付通知为准"
    )

    login(page, live_server, "qiye-fuhe")
    page.goto(f"{live_server.url}/enterprises/{people['enterprise'].credit_code}/")
    card = page.locator(f"#entitlement-{entitlement.pk}")
    expect(card.locator(".next-step")).to_contain_text("您提出的异议已处理：维持认定。处理意见：金额以拨付通知为准")
    expect(card.locator(".next-step")).to_contain_text("下一步：请确认兑现")
    expect(card).to_contain_text("兑现期：一次性")
    card.locator("summary", has_text="办理记录").click()
    timeline = card.get_by_role("list", name="办理记录")
    expect(timeline.locator("li")).to_have_count(6)
    expect(timeline).to_contain_text("待复核")
    expect(timeline).to_contain_text("政策更新为第2版")
    expect(timeline).to_contain_text("复核：维持认定。按原认定兑现")
    expect(timeline).to_contain_text("企业用户（qiye-fuhe）")
    expect(timeline).to_contain_text("审核人")
    expect(card).not_to_contain_text("shenhe-zhang")  # a staff member's user name never reaches the enterprise
    expect(timeline.locator("li").last).to_contain_text("异议处理：维持认定。金额以拨付通知为准")
    assert_accessible(page.content())
    screenshot("timeline")

    card.get_by_role("button", name="确认兑现").click()
    expect(page.get_by_text("已确认，工作人员将尽快办理兑现。")).to_be_visible()
    entitlement.refresh_from_db()
    assert entitlement.status == "confirmed"


def test_a_disbursed_case_is_listed_for_recovery_and_a_revocation_reads_true(
    page, live_server, screenshot, people
) -> None:
    other = software_enterprise(name="苏州撤销示例软件有限公司")
    EnterpriseUserFactory(username="qiye-chexiao", enterprise=other)
    match_profiles_refresh()
    draft = policy_create(
        by=people["editor"],
        key="rd-high-tech-exempt",
        title="高新技术企业研发奖励（示例）",
        summary="示例",
        benefit_kind="subsidy",
        mode="exempt",
        effective_from=timezone.localdate().replace(year=2020),
        rule=SOFTWARE_HIGH_TECH,
        department="区科技创新局",
        contact_name="韩杰（示例）",
        contact_phone="0512-0000-0026（示例）",
    )
    policy_submit(version=draft, by=people["editor"])
    policy_approve(version=draft, by=people["reviewer"])
    policy_publish(version=draft, by=people["reviewer"])
    paid = Entitlement.objects.get(enterprise=people["enterprise"])
    services.entitlement_confirm(entitlement=paid, by=people["user"])
    services.entitlement_disburse(entitlement=paid, by=people["reviewer"])
    v2 = policy_version_create_draft(policy=draft.policy, by=people["editor"])
    v2 = policy_version_update(version=v2, by=people["editor"], rule=TIGHTER)
    policy_submit(version=v2, by=people["editor"])
    policy_approve(version=v2, by=people["reviewer"])
    policy_publish(version=v2, by=people["reviewer"])
    pending = Entitlement.objects.get(enterprise=other)
    assert pending.status == "pending_review"

    login(page, live_server, "shenhe-zhang")
    page.goto(f"{live_server.url}/console/entitlements/?list=recovery")
    card = page.locator(f"#entitlement-{paid.pk}")
    expect(card).to_contain_text("状态：已兑现")
    expect(card.get_by_role("region", name="新版本认定")).to_contain_text("第2版 · 不符合")
    expect(page.get_by_text("系统不会自动追回")).to_be_visible()
    screenshot("recovery")
    card.get_by_role("button", name="记录核查意见").click()
    expect(page.get_by_text("请填写理由")).to_be_visible()
    page.locator(f"#entitlement-{paid.pk}").get_by_label("核查意见（必填）").fill(
        "<b>已核查</b>，按第1版兑现，无需追回"
    )
    page.locator(f"#entitlement-{paid.pk}").get_by_role("button", name="记录核查意见").click()
    expect(page.get_by_role("link", name="可能追回（0）")).to_be_visible()
    paid.refresh_from_db()
    assert paid.status == "disbursed" and paid.recovery_note.startswith("<b>已核查</b>")

    page.goto(f"{live_server.url}/console/entitlements/?status=pending_review")
    card = page.locator(f"#entitlement-{pending.pk}")
    card.get_by_label("复核意见（必填，企业可见）").fill("研发费用占比未达到第2版要求")
    card.get_by_role("button", name="撤销认定").click()
    expect(page.get_by_text("已办理。")).to_be_visible()

    page.context.clear_cookies()  # sign out
    login(page, live_server, "qiye-chexiao")
    page.goto(f"{live_server.url}/enterprises/{other.credit_code}/")
    card = page.locator(f"#entitlement-{pending.pk}")
    expect(card.locator(".next-step")).to_have_text(
        "已撤销。理由：研发费用占比未达到第2版要求。如有疑问，请联系政策的责任部门。"
    )
    expect(card.get_by_role("button", name="确认兑现")).to_have_count(0)
    card.locator("summary", has_text="办理记录").click()
    expect(card.get_by_role("list", name="办理记录").locator("li").last).to_contain_text("审核人")
    expect(card).not_to_contain_text("shenhe-zhang")
    screenshot("revoked")
