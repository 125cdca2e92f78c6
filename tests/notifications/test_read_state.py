"""Read state is per user: actors' own notices are read for them; 全部标为已读 touches only the caller's own."""

from __future__ import annotations

import pytest
from django.utils import timezone

from portal.entitlements.models import Entitlement
from portal.entitlements.services import entitlement_confirm
from portal.notifications.models import Notification, NotificationRead
from portal.notifications.selectors import notification_unread_count
from portal.notifications.services import notifications_mark_all_read
from tests.policies.factories import PolicyVersionFactory

from .factories import NotificationFactory

pytestmark = pytest.mark.django_db


def test_confirming_an_entitlement_leaves_no_unread_item_for_the_user_who_confirmed(alice, bob) -> None:
    entitlement = Entitlement.objects.create(
        enterprise=alice.enterprise,
        policy_version=PolicyVersionFactory(published=True, mode="exempt", title="研发奖励（示例）"),
        status=Entitlement.Status.NOTIFIED,
        determined_at=timezone.now(),
    )

    entitlement_confirm(entitlement=entitlement, by=alice)

    notice = Notification.objects.get(kind="entitlement_update")
    assert notification_unread_count(user=alice) == 0
    assert notification_unread_count(user=bob) == 1
    assert notice.link == f"/workspace/#entitlement-{entitlement.pk}"
    assert notice.body == "“研发奖励（示例）”的免申即享兑现记录已更新为“企业已确认”。说明：企业确认。"
    assert not notice.deliveries.filter(user=alice).exists()
    assert notice.deliveries.filter(user=bob).exists()


def test_mark_all_read_only_touches_the_callers_enterprise_and_read_state(alice, bob, charlie) -> None:
    mine = NotificationFactory.create_batch(3, enterprise=alice.enterprise)
    theirs = NotificationFactory.create_batch(2, enterprise=charlie.enterprise)
    NotificationRead.objects.create(notification=mine[0], user=alice)

    assert notifications_mark_all_read(user=alice) == 2
    assert notifications_mark_all_read(user=alice) == 0

    assert notification_unread_count(user=alice) == 0
    assert notification_unread_count(user=bob) == 3  # bob's read state is his own
    assert notification_unread_count(user=charlie) == 2
    assert not NotificationRead.objects.filter(notification__in=theirs).exists()
    assert set(NotificationRead.objects.values_list("user__username", flat=True)) == {"alice"}


def test_read_all_api_answers_for_the_caller_only(api_client, alice, charlie) -> None:
    NotificationFactory.create_batch(2, enterprise=alice.enterprise)
    NotificationFactory(enterprise=charlie.enterprise)

    api_client.force_authenticate(charlie)
    response = api_client.post("/api/v1/notifications/read-all/")
    assert response.status_code == 200 and response.json() == {"marked": 1, "unread_count": 0}
    assert notification_unread_count(user=alice) == 2  # the stranger changed nothing of alice's

    api_client.force_authenticate(alice)
    assert api_client.post("/api/v1/notifications/read-all/").json() == {"marked": 2, "unread_count": 0}


@pytest.mark.parametrize("portable", [False, True], ids=["postgresql-statement", "portable-path"])
def test_the_actor_is_left_out_of_email_on_both_creation_paths(alice, bob, charlie, portable, monkeypatch) -> None:
    """The set-based PostgreSQL statement and the portable path (SQLite, `make run`) skip the same user."""
    from django.db import connection

    from portal.notifications import services

    if portable:
        # The portable path's INSERT … ON CONFLICT … RETURNING runs on PostgreSQL too.
        monkeypatch.setattr(connection, "vendor", "sqlite")
    notice = services.notification_create(
        enterprise_id=alice.enterprise_id,
        kind="application_update",
        dedupe_key="app1:1:submitted",
        title="示例",
        actor=alice,
    )
    monkeypatch.undo()

    assert set(notice.deliveries.values_list("user__username", flat=True)) == {"bob"}
    assert list(notice.reads.values_list("user__username", flat=True)) == ["alice"]
    # Another enterprise's user as "actor" changes nothing: both colleagues are told.
    other = services.notification_create(
        enterprise_id=alice.enterprise_id,
        kind="application_update",
        dedupe_key="app1:2:accepted",
        title="示例",
        actor=charlie,
    )
    assert set(other.deliveries.values_list("user__username", flat=True)) == {"alice", "bob"}
    assert not other.reads.exists()
