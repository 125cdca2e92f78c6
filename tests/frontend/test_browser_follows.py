"""In a real browser: 关注 from the policy page, 关注与提醒 with its threshold warnings, and 申报日历 with a
subscription link that works without login, stops working when regenerated or revoked."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from icalendar import Calendar
from playwright.sync_api import expect

from matching.services import match_profiles_refresh
from portal.follows.models import Follow
from tests.enterprises.factories import EnterpriseFactory, EnterpriseUserFactory, QualificationFactory
from tests.frontend.support import match, published_policy
from tests.frontend.test_browser_flows import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_follow_warnings_and_calendar(page, live_server, screenshot, browser) -> None:
    from django.utils import timezone

    today = timezone.localdate()
    # 软件和信息技术服务业: 94 staff (小型) and 5000 万元 (中型): 小型 by the lowest tier.
    enterprise = EnterpriseFactory(
        industry_code="6513", employees=94, revenue=Decimal("5000.00"), name="苏州关注示例软件有限公司"
    )
    QualificationFactory(enterprise=enterprise, valid_to=today + timedelta(days=45))
    EnterpriseUserFactory(username="follow-alice", enterprise=enterprise)
    small = published_policy(
        title="小微企业研发补贴（示例）",
        rule={"fact": "size", "op": "in", "value": ["small", "micro"]},
        application_start=today - timedelta(days=5),
        application_end=today + timedelta(days=25),
    )
    staff = published_policy(
        title="稳岗扩岗奖励（示例）",
        rule={"fact": "social_insurance_staff", "op": "gte", "value": 100},
        application_end=today + timedelta(days=60),
    )
    published_policy(
        title="高新技术企业奖励（示例）", rule={"fact": "qualification", "op": "has", "value": "high_tech"}
    )
    match_profiles_refresh()
    match(enterprise)

    login(page, live_server, "follow-alice")
    # The policy page: not met yet → 关注.
    page.goto(f"{live_server.url}/policies/{staff.policy_id}/")
    follow_box = page.locator("#policy-follow")
    expect(follow_box).to_contain_text("暂不符合？关注本政策")
    follow_box.get_by_role("button", name="关注：稳岗扩岗奖励（示例）").click()
    expect(page.locator("#policy-follow")).to_contain_text("已关注本政策")
    expect(page.get_by_text("已关注：稳岗扩岗奖励（示例）")).to_be_visible()
    screenshot("policy-followed")
    assert Follow.objects.filter(enterprise=enterprise, policy=staff.policy).exists()

    # 关注与提醒: the followed policy and the warnings.
    page.get_by_role("link", name="查看我关注的政策").click()
    expect(page.locator("#followed-policies")).to_contain_text("稳岗扩岗奖励（示例）")
    warnings = page.locator("#threshold-warnings")
    expect(warnings).to_contain_text("从业人员再增加6人（达到100人），企业规模将由小型变为中型，将影响以下 1 项政策")
    expect(warnings).to_contain_text(f"高新技术企业资质将于{(today + timedelta(days=45)).isoformat()}到期")
    screenshot("follows")

    # 申报日历: both windows, soonest deadline first; a subscription link.
    page.get_by_role("link", name="申报日历").click()
    rows = page.locator(".calendar-table tr.calendar-entry")
    expect(rows).to_have_count(2)  # the two policies (month rows apart)
    expect(rows.nth(0)).to_contain_text("小微企业研发补贴（示例）")
    expect(rows.nth(1)).to_contain_text("已关注")
    page.locator("#calendar-regenerate").click()
    url = page.locator("#calendar-url").input_value()
    screenshot("calendar-link")

    anonymous = browser.new_context()  # no session: the token alone
    feed = anonymous.request.get(url)
    assert feed.status == 200
    summaries = {str(e.get("summary")) for e in Calendar.from_ical(feed.body()).walk("VEVENT")}
    assert summaries == {
        "申报期：小微企业研发补贴（示例）",
        "申报截止：小微企业研发补贴（示例）",
        "申报截止：稳岗扩岗奖励（示例）",
    }
    page.goto(f"{live_server.url}/enterprises/{enterprise.credit_code}/calendar/")
    expect(page.locator("#calendar-token-state")).to_contain_text("已启用订阅链接")
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#calendar-revoke").click()
    expect(page.get_by_text("已停用订阅链接")).to_be_visible()
    assert anonymous.request.get(url).status == 404
    anonymous.close()

    # Unfollow from 关注与提醒.
    page.goto(f"{live_server.url}/enterprises/{enterprise.credit_code}/follows/")
    page.get_by_role("button", name="取消关注：稳岗扩岗奖励（示例）").click()
    expect(page.locator("#followed-policies")).to_contain_text("尚未关注任何政策")
    assert not Follow.objects.exists()
    assert small.pk


def test_a_stranger_sees_404_and_nothing_changes(page, live_server, screenshot) -> None:
    owner = EnterpriseUserFactory(username="follow-owner", enterprise=EnterpriseFactory(industry_code="6513"))
    EnterpriseUserFactory(username="follow-stranger", enterprise=EnterpriseFactory(name="苏州陌生示例机械有限公司"))
    version = published_policy(title="稳岗扩岗奖励（示例）")
    from portal.follows import services

    services.follow_create(user=owner, enterprise=owner.enterprise, policy=version.policy)
    token = services.calendar_token_regenerate(user=owner)
    before = list(Follow.objects.values_list("pk", "enterprise_id", "policy_id"))

    login(page, live_server, "follow-stranger")
    for path in ("follows/", "calendar/"):
        response = page.goto(f"{live_server.url}/enterprises/{owner.enterprise.credit_code}/{path}")
        assert response is not None and response.status == 404
        expect(page.locator("h1")).to_contain_text("页面不存在")
    screenshot("stranger-404")
    # A POST from the stranger's own session (with its CSRF cookie) to the owner's follow: 404.
    page.goto(f"{live_server.url}/enterprises/{owner.enterprise.credit_code.lower()}/follows/")
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    refused = page.request.post(
        f"{live_server.url}/enterprises/{owner.enterprise.credit_code}/follows/{version.policy_id}/",
        form={"action": "unfollow", "csrfmiddlewaretoken": csrf},
        headers={"Referer": live_server.url + "/"},
    )
    assert refused.status == 404
    assert list(Follow.objects.values_list("pk", "enterprise_id", "policy_id")) == before
    # The owner's feed still answers, for its token only.
    assert page.request.get(f"{live_server.url}/calendar/{token}.ics").status == 200
    assert page.request.get(f"{live_server.url}/calendar/{token[:-1]}.ics").status == 404
