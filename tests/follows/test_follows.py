"""关注: follow / unfollow, the notices a followed policy sends (once), and strangers refused."""

from __future__ import annotations

import pytest

from matching.bulk import ChangedRecord
from matching.models import MatchRecord
from portal.follows import services
from portal.follows.models import Follow
from portal.notifications.models import Delivery, Notification
from tests.enterprises.factories import EnterpriseFactory, EnterpriseUserFactory, QualificationFactory
from tests.frontend.support import match, published_policy

pytestmark = pytest.mark.django_db

HIGH_TECH_SOFTWARE = {
    "all": [
        {"fact": "industry", "op": "under", "value": ["65"]},
        {"fact": "qualification", "op": "has", "value": "high_tech"},
    ]
}
STAFF_100 = {
    "all": [
        {"fact": "industry", "op": "under", "value": ["65"]},
        {"fact": "social_insurance_staff", "op": "gte", "value": 100},
    ]
}


@pytest.fixture
def member(db):
    return EnterpriseUserFactory(username="member", enterprise=EnterpriseFactory(industry_code="6513"))


def _follow_notices(enterprise) -> list[Notification]:
    return list(Notification.objects.filter(enterprise=enterprise, kind=Notification.Kind.FOLLOWED_POLICY))


def test_a_followed_policy_that_becomes_eligible_is_notified_once(member) -> None:
    enterprise = member.enterprise
    version = published_policy(rule=HIGH_TECH_SOFTWARE, title="高企软件补贴（示例）")
    match(enterprise)
    assert not MatchRecord.objects.filter(enterprise=enterprise, policy_version=version).exists()  # 不符合

    follow = services.follow_create(user=member, enterprise=enterprise, policy=version.policy)
    assert services.follow_create(user=member, enterprise=enterprise, policy=version.policy) == follow  # idempotent
    assert Follow.objects.filter(enterprise=enterprise).count() == 1

    QualificationFactory(enterprise=enterprise)
    match(enterprise)

    notices = _follow_notices(enterprise)
    assert [n.title for n in notices] == ["您关注的政策已符合条件：高企软件补贴（示例）"]
    assert notices[0].dedupe_key == f"follow{follow.pk}:pv{version.pk}:eligible"
    assert notices[0].link == f"/policies/{version.policy_id}/"
    # Sent through the enterprise's channels (inbox users, e-mail by default): the outbox has its rows.
    assert Delivery.objects.filter(notification=notices[0]).exists()

    # A redelivered task hands the same change again: nothing more.
    record = MatchRecord.objects.get(enterprise=enterprise, policy_version=version)
    change = ChangedRecord(record.pk, enterprise.pk, "eligible", True, "", False)
    services.on_match_changes(version_id=version.pk, changes=[change], run_id=None)
    assert len(_follow_notices(enterprise)) == 1


def test_a_supplied_missing_fact_is_notified_once_with_the_new_result(member) -> None:
    enterprise = member.enterprise
    version = published_policy(rule=STAFF_100, title="稳岗扩岗奖励（示例）")
    enterprise.social_insurance_staff = None
    enterprise.save()
    match(enterprise)
    assert MatchRecord.objects.get(enterprise=enterprise, policy_version=version).outcome == "needs_info"

    follow = services.follow_create(user=member, enterprise=enterprise, policy=version.policy)
    assert follow.missing_facts == ["social_insurance_staff"]

    enterprise.social_insurance_staff = 60
    enterprise.provenance["social_insurance_staff"] = {"source": "tax", "as_of": "2026-01-01"}
    enterprise.save()
    match(enterprise)

    notices = _follow_notices(enterprise)
    assert len(notices) == 1
    assert notices[0].title == "您关注的政策已按补充的信息重新判定：稳岗扩岗奖励（示例）"
    assert "已补充：社保缴纳人数" in notices[0].body and "按补充后的信息暂不符合" in notices[0].body
    follow.refresh_from_db()
    assert follow.missing_facts == []
    match(enterprise)  # nothing changed: nothing sent
    assert len(_follow_notices(enterprise)) == 1


def test_without_a_follow_no_follow_notice(member) -> None:
    version = published_policy(rule=HIGH_TECH_SOFTWARE)
    QualificationFactory(enterprise=member.enterprise)
    match(member.enterprise)
    assert MatchRecord.objects.get(enterprise=member.enterprise, policy_version=version).outcome == "eligible"
    assert _follow_notices(member.enterprise) == []


def test_unfollow_removes_only_that_follow(member) -> None:
    a, b = published_policy(), published_policy()
    for version in (a, b):
        services.follow_create(user=member, enterprise=member.enterprise, policy=version.policy)

    assert services.follow_delete(user=member, enterprise=member.enterprise, policy=a.policy) is True
    assert services.follow_delete(user=member, enterprise=member.enterprise, policy=a.policy) is False
    assert list(Follow.objects.values_list("policy_id", flat=True)) == [b.policy_id]


def test_the_service_refuses_another_enterprises_user(member, charlie) -> None:
    from portal.api.exceptions import ApplicationError

    version = published_policy()
    with pytest.raises(ApplicationError) as refused:
        services.follow_create(user=charlie, enterprise=member.enterprise, policy=version.policy)
    assert refused.value.code == "not_enterprise_user"
    assert not Follow.objects.exists()


# --- pages ---------------------------------------------------------------------------------------


def test_follow_and_unfollow_from_the_policy_page(client, member) -> None:
    version = published_policy(rule=HIGH_TECH_SOFTWARE, title="高企软件补贴（示例）")
    client.force_login(member)
    page = client.get(f"/policies/{version.policy_id}/").content.decode()
    assert "关注本政策" in page and 'value="follow"' in page

    url = f"/enterprises/{member.enterprise.credit_code}/follows/{version.policy_id}/"
    response = client.post(url, {"action": "follow", "next": f"/policies/{version.policy_id}/"})
    assert response.status_code == 302 and response.url == f"/policies/{version.policy_id}/"
    assert Follow.objects.filter(enterprise=member.enterprise, policy=version.policy).exists()
    page = client.get(f"/policies/{version.policy_id}/").content.decode()
    assert "已关注本政策" in page and "取消关注" in page

    listing = client.get(f"/enterprises/{member.enterprise.credit_code}/follows/").content.decode()
    assert "高企软件补贴（示例）" in listing and "不符合条件" in listing
    assert "只差：高新技术企业资质" in listing  # what stands in the way, though no record exists

    client.post(url, {"action": "unfollow", "next": "https://evil.example/"})
    assert not Follow.objects.exists()


def test_a_stranger_gets_404_and_changes_nothing(client, member, charlie) -> None:
    version = published_policy()
    services.follow_create(user=member, enterprise=member.enterprise, policy=version.policy)
    before = list(Follow.objects.values_list("pk", "enterprise_id", "policy_id"))
    client.force_login(charlie)
    base = f"/enterprises/{member.enterprise.credit_code}"

    assert client.get(f"{base}/follows/").status_code == 404
    assert client.post(f"{base}/follows/{version.policy_id}/", {"action": "unfollow"}).status_code == 404
    assert client.post(f"{base}/follows/{version.policy_id}/", {"action": "follow"}).status_code == 404

    assert list(Follow.objects.values_list("pk", "enterprise_id", "policy_id")) == before


def test_staff_may_read_but_not_follow(client, member, staff_editor) -> None:
    version = published_policy()
    client.force_login(staff_editor)
    base = f"/enterprises/{member.enterprise.credit_code}"
    if client.get(f"{base}/follows/").status_code == 200:
        assert "取消关注" not in client.get(f"{base}/follows/").content.decode()
    assert client.post(f"{base}/follows/{version.policy_id}/", {"action": "follow"}).status_code == 404
    assert not Follow.objects.exists()


def test_an_unpublished_policy_cannot_be_followed(client, member) -> None:
    from tests.policies.factories import PolicyVersionFactory

    draft = PolicyVersionFactory()
    client.force_login(member)
    response = client.post(f"/enterprises/{member.enterprise.credit_code}/follows/{draft.policy_id}/")
    assert response.status_code == 404
    assert not Follow.objects.exists()


def test_the_anonymous_visitor_is_sent_to_login(client, member) -> None:
    version = published_policy()
    response = client.post(f"/enterprises/{member.enterprise.credit_code}/follows/{version.policy_id}/")
    assert response.status_code == 302 and "/accounts/login/" in response.url
    assert not Follow.objects.exists()


def test_odd_input_is_refused_plainly(client, member) -> None:
    version = published_policy()
    client.force_login(member)
    base = f"/enterprises/{member.enterprise.credit_code}/follows"

    response = client.post(f"{base}/{version.policy_id}/", {"action": "subscribe-all"}, follow=True)
    assert "操作无效：只能关注或取消关注" in response.content.decode()
    assert client.post(f"{base}/999999/", {"action": "follow"}).status_code == 404
    assert client.get(f"{base}/{version.policy_id}/").status_code == 405
    assert not Follow.objects.exists()


def test_a_retired_policy_is_named_and_can_be_unfollowed_not_followed(client, member) -> None:
    from policies.models import PolicyVersion

    version = published_policy(title="已停用的政策（示例）")
    services.follow_create(user=member, enterprise=member.enterprise, policy=version.policy)
    PolicyVersion.objects.filter(pk=version.pk).update(status=PolicyVersion.Status.RETIRED)
    client.force_login(member)
    base = f"/enterprises/{member.enterprise.credit_code}/follows"

    page = client.get(f"{base}/").content.decode()
    assert "已停用的政策（示例）" in page and "已停止执行" in page
    refused = client.post(f"{base}/{version.policy_id}/", {"action": "follow"}, follow=True).content.decode()
    assert "该政策未发布，不能关注" in refused
    client.post(f"{base}/{version.policy_id}/", {"action": "unfollow"})
    assert not Follow.objects.exists()


def test_only_policies_data_can_settle_are_offered_to_follow(client, member) -> None:
    judged = published_policy(
        title="待认定的政策（示例）",
        rule={"all": [{"fact": "industry", "op": "under", "value": ["65"]}, {"judge": "项目具有示范带动作用"}]},
    )
    missing = published_policy(title="缺数据的政策（示例）", rule=STAFF_100)
    member.enterprise.social_insurance_staff = None
    member.enterprise.save()
    match(member.enterprise)
    client.force_login(member)

    page = client.get(f"/enterprises/{member.enterprise.credit_code}/follows/").content.decode()
    offered = page[page.index('id="follow-candidates"') :]
    assert "缺数据的政策（示例）" in offered and "需补充：社保缴纳人数" in offered
    assert "待认定的政策（示例）" not in offered  # only a judgement stands in the way: data never settles it
    judged_page = client.get(f"/policies/{judged.policy_id}/").content.decode()
    assert "关注本政策" not in judged_page
    assert "关注本政策" in client.get(f"/policies/{missing.policy_id}/").content.decode()
