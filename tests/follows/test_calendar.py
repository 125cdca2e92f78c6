"""申报日历: the page, the private iCal feed (parsed back with icalendar), token regenerate / revoke, strangers."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from icalendar import Calendar

from portal.follows import services
from portal.follows.models import CalendarToken
from tests.enterprises.factories import EnterpriseFactory, EnterpriseUserFactory, QualificationFactory
from tests.frontend.support import match, published_policy

pytestmark = pytest.mark.django_db

STAFF_100 = {"fact": "social_insurance_staff", "op": "gte", "value": 100}


@pytest.fixture
def member(db):
    enterprise = EnterpriseFactory(industry_code="6513", name="苏州日历示例软件有限公司")
    QualificationFactory(enterprise=enterprise)
    return EnterpriseUserFactory(username="member", enterprise=enterprise)


@pytest.fixture
def windows(member):
    """An eligible 申报 policy with a window, a followed one with a deadline only, and one that does not
    concern the enterprise."""
    today = timezone.localdate()
    eligible = published_policy(
        title="软件企业研发补贴（示例）",
        application_start=today - timedelta(days=3),
        application_end=today + timedelta(days=20),
    )
    followed = published_policy(
        title="稳岗扩岗奖励（示例）", rule=STAFF_100, application_end=today + timedelta(days=40)
    )
    other = published_policy(
        title="与本企业无关的政策（示例）",
        rule={"fact": "industry", "op": "under", "value": ["C"]},
        application_end=today + timedelta(days=10),
    )
    member.enterprise.social_insurance_staff = 20
    member.enterprise.save()
    match(member.enterprise)
    services.follow_create(user=member, enterprise=member.enterprise, policy=followed.policy)
    return eligible, followed, other


def _feed_url(page: str) -> str:
    found = re.search(r'id="calendar-url" type="text" readonly value="([^"]+)"', page)
    assert found, "the new subscription URL is shown once"
    return found.group(1)


def test_the_calendar_lists_the_windows_that_concern_the_enterprise(client, member, windows) -> None:
    client.force_login(member)
    page = client.get(f"/enterprises/{member.enterprise.credit_code}/calendar/").content.decode()
    assert "软件企业研发补贴（示例）" in page and "符合条件" in page
    assert "稳岗扩岗奖励（示例）" in page and "已关注" in page
    assert "与本企业无关的政策（示例）" not in page
    assert page.index("软件企业研发补贴（示例）") < page.index("稳岗扩岗奖励（示例）")  # soonest deadline first


def test_the_feed_works_without_login_for_its_token_only_and_parses_back(client, member, windows) -> None:
    eligible, followed, _other = windows
    client.force_login(member)
    page = client.post(
        f"/enterprises/{member.enterprise.credit_code}/calendar/token/", {"action": "regenerate"}
    ).content.decode()
    url = _feed_url(page)
    path = url.split("://", 1)[1].split("/", 1)[1]
    token = CalendarToken.objects.get(user=member)
    assert token.digest not in url  # only the digest is kept; the URL carries the secret itself

    client.logout()
    response = client.get(f"/{path}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    events = {str(e.get("summary")): e for e in calendar.walk("VEVENT")}
    assert set(events) == {
        "申报期：软件企业研发补贴（示例）",
        "申报截止：软件企业研发补贴（示例）",
        "申报截止：稳岗扩岗奖励（示例）",
    }
    window = events["申报期：软件企业研发补贴（示例）"]
    assert window.decoded("dtstart") == eligible.application_start
    assert window.decoded("dtend") == eligible.application_end + timedelta(days=1)  # all-day, exclusive end
    deadline = events["申报截止：稳岗扩岗奖励（示例）"]
    assert deadline.decoded("dtstart") == followed.application_end
    (alarm,) = deadline.walk("VALARM")  # reminded NOTIFY_APPLY_DEADLINE_DAYS ahead, like the push
    assert alarm.decoded("trigger") == -timedelta(days=3)
    assert str(window.get("uid")) == f"pv{eligible.pk}-window@huiqi"
    assert f"/policies/{eligible.policy_id}/" in str(window.get("url"))
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_regenerating_retires_the_old_url_and_revoking_answers_404(client, member, windows) -> None:
    client.force_login(member)
    base = f"/enterprises/{member.enterprise.credit_code}/calendar/token/"
    first = _feed_url(client.post(base, {"action": "regenerate"}).content.decode()).split("/", 3)[3]
    second = _feed_url(client.post(base, {"action": "regenerate"}).content.decode()).split("/", 3)[3]
    assert first != second
    page = client.get(f"/enterprises/{member.enterprise.credit_code}/calendar/").content.decode()
    assert "已启用订阅链接" in page and second not in page  # shown once only

    assert client.get(f"/{first}").status_code == 404
    assert client.get(f"/{second}").status_code == 200

    response = client.post(base, {"action": "revoke"})
    assert response.status_code == 302
    assert client.get(f"/{second}").status_code == 404
    assert not CalendarToken.objects.exists()


@pytest.mark.parametrize("token", ["nonsense", "x" * 300, "%00"])
def test_unknown_tokens_are_404(client, member, windows, token) -> None:
    services.calendar_token_regenerate(user=member)
    assert client.get(f"/calendar/{token}.ics").status_code == 404


def test_a_token_shows_its_own_enterprise_only(client, member, windows, charlie) -> None:
    token = services.calendar_token_regenerate(user=charlie)
    body = client.get(f"/calendar/{token}.ics").content.decode()
    assert "软件企业研发补贴" not in body and "稳岗扩岗奖励" not in body
    assert len(Calendar.from_ical(body).walk("VEVENT")) == 0


def test_a_stranger_gets_404_and_changes_nothing(client, member, windows, charlie) -> None:
    token = services.calendar_token_regenerate(user=member)
    digest = CalendarToken.objects.get(user=member).digest
    client.force_login(charlie)
    base = f"/enterprises/{member.enterprise.credit_code}/calendar"

    assert client.get(f"{base}/").status_code == 404
    assert client.post(f"{base}/token/", {"action": "revoke"}).status_code == 404
    assert client.post(f"{base}/token/", {"action": "regenerate"}).status_code == 404

    assert list(CalendarToken.objects.values_list("user_id", "digest")) == [(member.pk, digest)]
    assert client.get(f"/calendar/{token}.ics").status_code == 200


def test_staff_have_no_feed(client, staff_editor) -> None:
    from portal.api.exceptions import ApplicationError

    with pytest.raises(ApplicationError):
        services.calendar_token_regenerate(user=staff_editor)
    assert not CalendarToken.objects.exists()


def test_no_windows_says_so(client, member) -> None:
    client.force_login(member)
    page = client.get(f"/enterprises/{member.enterprise.credit_code}/calendar/").content.decode()
    assert "暂无与贵企业相关的申报时间" in page


def test_an_unknown_token_action_changes_nothing(client, member) -> None:
    client.force_login(member)
    response = client.post(
        f"/enterprises/{member.enterprise.credit_code}/calendar/token/", {"action": "delete-everything"}, follow=True
    )
    assert "操作无效：只能生成或停用订阅链接" in response.content.decode()
    assert not CalendarToken.objects.exists()


def test_a_window_waiting_only_for_a_judgement_is_said_to_be_open_to_apply(client, member) -> None:
    today = timezone.localdate()
    published_policy(
        title="待认定的政策（示例）",
        rule={"all": [{"fact": "industry", "op": "under", "value": ["65"]}, {"judge": "项目具有示范带动作用"}]},
        application_end=today + timedelta(days=5),
    )
    match(member.enterprise)
    client.force_login(member)
    page = client.get(f"/enterprises/{member.enterprise.credit_code}/calendar/").content.decode()
    assert "待认定的政策（示例）" in page and "可申报（需承诺或待认定）" in page
