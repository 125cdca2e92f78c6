"""Inbox page: 全部标为已读 for the caller only (strangers and staff get 404, nothing changes); notice links resolve."""

from __future__ import annotations

import pytest

from portal.notifications.models import NotificationRead
from portal.notifications.selectors import notification_unread_count
from tests.notifications.factories import NotificationFactory

pytestmark = pytest.mark.django_db


def read_all_url(enterprise) -> str:
    return f"/enterprises/{enterprise.credit_code}/inbox/read-all/"


def test_mark_all_read_marks_the_callers_own_and_says_how_many(client, alice, bob) -> None:
    NotificationFactory.create_batch(2, enterprise=alice.enterprise)
    client.force_login(alice)

    page = client.get(f"/enterprises/{alice.enterprise.credit_code}/inbox/")
    assert "全部标为已读" in page.content.decode()
    response = client.post(read_all_url(alice.enterprise), follow=True)

    assert "已将2条消息标为已读。" in response.content.decode()
    assert "全部标为已读" not in response.content.decode()
    assert notification_unread_count(user=alice) == 0
    assert notification_unread_count(user=bob) == 2


@pytest.mark.parametrize("who", ["charlie", "staff_reviewer"])
def test_a_stranger_or_staff_cannot_mark_an_enterprises_inbox_read(client, alice, who, request) -> None:
    NotificationFactory.create_batch(2, enterprise=alice.enterprise)
    client.force_login(request.getfixturevalue(who))

    assert client.post(read_all_url(alice.enterprise)).status_code == 404
    assert client.get(read_all_url(alice.enterprise)).status_code in (404, 405)
    assert NotificationRead.objects.count() == 0
    assert notification_unread_count(user=alice) == 2


def test_workspace_links_in_notices_lead_to_the_readers_own_pages(client, alice) -> None:
    client.force_login(alice)
    code = alice.enterprise.credit_code
    assert client.get("/workspace/profile/").url == f"/enterprises/{code}/profile/"
    assert client.get("/workspace/inbox/").url == f"/enterprises/{code}/inbox/"
    assert client.get("/workspace/nonsense/").status_code == 404
    assert client.get("/workspace/").url == f"/enterprises/{code}/"


def test_following_a_notice_reads_it_for_the_reader_only_and_strangers_get_404(client, alice, bob, charlie) -> None:
    notice = NotificationFactory(enterprise=alice.enterprise, link="/policies/7/")
    foreign = NotificationFactory(enterprise=alice.enterprise, link="https://example.com/")
    url = f"/enterprises/{alice.enterprise.credit_code}/inbox/{notice.pk}/open/"

    client.force_login(charlie)
    assert client.get(url).status_code == 404
    client.force_login(alice)
    assert client.get(url).url == "/policies/7/"
    assert client.get(f"/enterprises/{alice.enterprise.credit_code}/inbox/{foreign.pk}/open/").status_code == 404

    assert list(NotificationRead.objects.values_list("user__username", "notification_id")) == [("alice", notice.pk)]
    assert notification_unread_count(user=bob) == 2


def test_a_notice_button_names_where_its_link_goes(client, alice) -> None:
    # A needs-info notice about commitments (承诺/认定) leads to the policy page, not to the profile.
    NotificationFactory(enterprise=alice.enterprise, kind="needs_info", title="需承诺或认定：示例", link="/policies/3/")
    NotificationFactory(
        enterprise=alice.enterprise, kind="needs_info", title="补充信息：示例", link="/workspace/profile/"
    )
    client.force_login(alice)
    html = client.get(f"/enterprises/{alice.enterprise.credit_code}/inbox/").content.decode()
    assert html.count("查看政策") == 1 and html.count("补充企业信息") == 1
