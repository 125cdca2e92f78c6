"""The inbox API: the caller's own enterprise's notifications, per-user read state, preferences; strangers get 404."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal.notifications.models import ChannelPreference, NotificationRead

from .factories import NotificationFactory

pytestmark = pytest.mark.django_db

LIST = "/api/v1/notifications/"


def read_url(notification) -> str:
    return f"/api/v1/notifications/{notification.pk}/read/"


def test_list_shows_my_enterprises_notifications_with_my_read_state(client, enterprise, alice, bob, charlie) -> None:
    # given
    older = NotificationFactory(enterprise=enterprise, title="较早的通知")
    newer = NotificationFactory(enterprise=enterprise, title="较新的通知")
    NotificationFactory(enterprise=charlie.enterprise, title="别家的通知")
    NotificationRead.objects.create(notification=older, user=bob)  # bob's read state is not alice's

    # when
    client.force_login(alice)
    response = client.get(LIST)

    # then
    assert response.status_code == 200
    body = response.json()
    assert [n["title"] for n in body["results"]] == ["较新的通知", "较早的通知"]
    assert [n["is_read"] for n in body["results"]] == [False, False]
    assert body["unread_count"] == 2
    assert body["results"][0]["kind_display"] == "可申报"
    assert newer.pk == body["results"][0]["id"]


def test_mark_read_is_per_user(client, enterprise, alice, bob) -> None:
    notification = NotificationFactory(enterprise=enterprise)
    client.force_login(alice)

    response = client.post(read_url(notification))
    again = client.post(read_url(notification))

    assert response.status_code == 200 and again.status_code == 200
    assert response.json()["is_read"] is True
    assert again.json()["read_at"] == response.json()["read_at"]  # the first time is kept
    assert client.get(LIST).json()["unread_count"] == 0
    client.force_login(bob)
    assert client.get(LIST).json()["unread_count"] == 1


def test_filter_unread(client, enterprise, alice) -> None:
    read, unread = NotificationFactory(enterprise=enterprise), NotificationFactory(enterprise=enterprise)
    NotificationRead.objects.create(notification=read, user=alice)
    client.force_login(alice)

    assert [n["id"] for n in client.get(LIST, {"unread": "true"}).json()["results"]] == [unread.pk]
    assert [n["id"] for n in client.get(LIST, {"unread": "false"}).json()["results"]] == [read.pk]
    assert client.get(LIST, {"unread": "maybe"}).json()["error"]["code"] == "validation_error"


def test_a_stranger_cannot_read_or_mark_another_enterprises_notification(client, enterprise, alice, charlie) -> None:
    notification = NotificationFactory(enterprise=enterprise)
    client.force_login(charlie)

    response = client.post(read_url(notification))

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert client.get(LIST).json()["results"] == []
    assert not NotificationRead.objects.exists()


def test_anonymous_is_refused(client, enterprise) -> None:
    notification = NotificationFactory(enterprise=enterprise)
    assert client.get(LIST).status_code in (401, 403)
    assert client.post(read_url(notification)).status_code in (401, 403)


def test_read_all(client, enterprise, alice) -> None:
    for _ in range(3):
        NotificationFactory(enterprise=enterprise)
    client.force_login(alice)

    response = client.post("/api/v1/notifications/read-all/")

    assert response.json() == {"marked": 3, "unread_count": 0}
    assert client.post("/api/v1/notifications/read-all/").json() == {"marked": 0, "unread_count": 0}


def test_list_query_count_does_not_grow_with_the_page(client, enterprise, alice, django_assert_num_queries) -> None:
    client.force_login(alice)
    NotificationFactory.create_batch(2, enterprise=enterprise)
    with CaptureQueriesContext(connection) as few:
        assert len(client.get(LIST).json()["results"]) == 2
    NotificationFactory.create_batch(30, enterprise=enterprise)

    # session, user, page count, page, unread count: the same for 2 items as for a full page of 20
    with django_assert_num_queries(len(few.captured_queries)):
        assert len(client.get(LIST).json()["results"]) == 20
    assert len(few.captured_queries) <= 5


def test_preferences_default_then_update(client, alice) -> None:
    client.force_login(alice)
    url = "/api/v1/notifications/preferences/"

    assert client.get(url).json() == {
        "email_enabled": True,
        "email": "alice@example.com",
        "sms_enabled": False,
        "phone": "",
        "inbox_enabled": True,
    }

    response = client.put(url, {"sms_enabled": True, "phone": "139 1234 5678"}, content_type="application/json")

    assert response.status_code == 200
    assert response.json()["phone"] == "13912345678"
    preference = ChannelPreference.objects.get(user=alice)
    assert (preference.email_enabled, preference.sms_enabled, preference.phone) == (True, True, "13912345678")


@pytest.mark.parametrize(
    ("payload", "code"),
    [({"sms_enabled": True}, "phone_required"), ({"phone": "010-12345678"}, "invalid_phone")],
)
def test_preferences_refuse_bad_input(client, alice, payload, code) -> None:
    client.force_login(alice)

    response = client.put("/api/v1/notifications/preferences/", payload, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["fields"][0] == {
        "field": "phone",
        "code": code,
        "message": response.json()["error"]["message"],
    }
    assert not ChannelPreference.objects.exists()
