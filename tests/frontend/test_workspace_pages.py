"""The enterprise workspace: matches grouped with explanations, profile with provenance, sites, inbox."""

from __future__ import annotations

import pytest

from portal.enterprises.models import Site
from tests.enterprises.factories import EnterpriseFactory, EnterpriseUserFactory
from tests.frontend.support import exempt_policy, match, published_policy, software_enterprise

pytestmark = pytest.mark.django_db

PAGES = ("", "profile/", "sites/", "inbox/")


@pytest.fixture
def member(db):
    return EnterpriseUserFactory(username="member", enterprise=software_enterprise(name="苏州软件示例有限公司"))


@pytest.mark.parametrize("page", PAGES)
def test_anonymous_is_sent_to_login(client, member, page) -> None:
    response = client.get(f"/enterprises/{member.enterprise.credit_code}/{page}")

    assert response.status_code == 302 and response.url.startswith("/accounts/login/")


@pytest.mark.parametrize("page", PAGES)
def test_a_stranger_gets_404_on_every_enterprise_page(client, member, charlie, page) -> None:
    client.force_login(charlie)

    assert client.get(f"/enterprises/{member.enterprise.credit_code}/{page}").status_code == 404


@pytest.mark.parametrize("page", ("profile/", "sites/"))
def test_a_stranger_cannot_post_to_enterprise_forms(client, member, charlie, page) -> None:
    client.force_login(charlie)

    response = client.post(f"/enterprises/{member.enterprise.credit_code}/{page}", {"address": "x", "employees": "1"})

    assert response.status_code == 404
    assert not Site.objects.filter(enterprise=member.enterprise).exists()


def test_workspace_sends_an_enterprise_user_to_their_dashboard(client, member) -> None:
    client.force_login(member)

    response = client.get("/workspace/")

    assert response.url == f"/enterprises/{member.enterprise.credit_code}/"


def test_dashboard_groups_matches_and_explains_them(client, member, django_assert_max_num_queries) -> None:
    exempt_policy(title="高新奖励（示例）")
    published_policy(title="软件补贴（示例）")
    published_policy(title="规上企业补贴（示例）", rule={"fact": "rd_expense_ratio", "op": "gte", "value": 3})
    member.enterprise.provenance.pop("rd_expense_ratio")  # unknown: needs info
    member.enterprise.save()
    match(member.enterprise)
    client.force_login(member)

    # Session, user, roles, enterprise, applications, match records, entitlements, their transitions,
    # the receipts behind them, open 数据纠错 requests, unread count: one each, whatever the numbers.
    with django_assert_max_num_queries(11):
        response = client.get(f"/enterprises/{member.enterprise.credit_code}/")

    html = response.content.decode()
    enjoy, _, rest = html.partition('id="apply-heading"')
    apply, _, needs = rest.partition('id="needs-heading"')
    assert "高新奖励（示例）" in enjoy and "为什么符合" in enjoy and "依据部门核验数据" in enjoy
    assert "软件补贴（示例）" in apply
    assert "规上企业补贴（示例）" in needs and "还差什么" in needs
    assert "免申即享兑现" in html  # placeholder for entitlements


def test_profile_shows_sources_and_only_offers_unverified_facts(client) -> None:
    enterprise = EnterpriseFactory(provenance={"industry_code": {"source": "market_regulation", "as_of": "2025-12-31"}})
    user = EnterpriseUserFactory(enterprise=enterprise)
    client.force_login(user)

    html = client.get(f"/enterprises/{enterprise.credit_code}/profile/").content.decode()

    assert "已核验" in html and "市场监督管理局" in html and "2025-12-31" in html
    assert 'name="employees"' in html
    assert 'name="industry_code"' not in html  # verified by 市场监管: not editable here


def test_profile_update_is_saved_as_self_declared(client) -> None:
    enterprise = EnterpriseFactory(provenance={})
    user = EnterpriseUserFactory(enterprise=enterprise)
    client.force_login(user)

    response = client.post(f"/enterprises/{enterprise.credit_code}/profile/", {"employees": "42"})

    assert response.status_code == 302
    enterprise.refresh_from_db()
    assert enterprise.employees == 42
    assert enterprise.provenance["employees"]["source"] == "self_declared"
    assert "自行填报" in client.get(response.url).content.decode()


def test_file_a_site_inside_the_district(client, member) -> None:
    from portal.enterprises.models import Park, Township, Zone

    # Seeded by a migration, but a transactional (browser) test run earlier flushes the tables.
    zone, _ = Zone.objects.get_or_create(code="tech_ecology", defaults={"name": "科技生态功能区"})
    Township.objects.get_or_create(code="320505407", defaults={"name": "科技城（东渚街道）", "zone": zone})
    Park.objects.get_or_create(code="taihu_science_city", defaults={"name": "太湖科学城"})
    client.force_login(member)

    response = client.post(
        f"/enterprises/{member.enterprise.credit_code}/sites/",
        {"address": "苏州高新区科灵路1号", "township": "320505407", "parks": ["taihu_science_city"]},
    )

    assert response.status_code == 302
    site = Site.objects.get(enterprise=member.enterprise)
    assert site.township.code == "320505407"
    assert "苏州高新区科灵路1号" in client.get(response.url).content.decode()


def test_site_form_reports_a_missing_address(client, member) -> None:
    client.force_login(member)

    response = client.post(f"/enterprises/{member.enterprise.credit_code}/sites/", {"township": "320505407"})

    assert response.status_code == 200
    assert "该字段是必填项" in response.content.decode()


def test_inbox_lists_the_enterprise_notifications_and_marks_read(client, member) -> None:
    from portal.notifications.models import Notification, NotificationRead

    notification = Notification.objects.create(
        enterprise=member.enterprise, kind=Notification.Kind.values[0], dedupe_key="k1", title="新政策匹配（示例）"
    )
    client.force_login(member)

    html = client.get(f"/enterprises/{member.enterprise.credit_code}/inbox/").content.decode()
    response = client.post(f"/enterprises/{member.enterprise.credit_code}/inbox/{notification.pk}/read/")

    assert "新政策匹配（示例）" in html and "未读" in html
    assert response.status_code == 302
    assert NotificationRead.objects.filter(notification=notification, user=member).exists()


def test_a_stranger_cannot_mark_another_enterprise_notification_read(client, member, charlie) -> None:
    from portal.notifications.models import Notification

    notification = Notification.objects.create(
        enterprise=member.enterprise, kind=Notification.Kind.values[0], dedupe_key="k1", title="t"
    )
    client.force_login(charlie)

    url = f"/enterprises/{charlie.enterprise.credit_code}/inbox/{notification.pk}/read/"
    assert client.post(url).status_code == 404
