"""Staff see delivery status (e.g. the dead letters) and can send a dead delivery again; nobody else can."""

from __future__ import annotations

import pytest

from portal.notifications import services, tasks
from portal.notifications.models import Delivery, Notification

pytestmark = pytest.mark.django_db

LIST = "/api/v1/staff/deliveries/"


@pytest.fixture
def dead(enterprise, alice) -> Delivery:
    notification = services.notification_create(
        enterprise_id=enterprise.pk, kind=Notification.Kind.MAY_APPLY, dedupe_key="k", title="示例"
    )
    row = notification.deliveries.get()
    Delivery.objects.filter(pk=row.pk).update(status=Delivery.Status.DEAD, attempts=5, last_error="HTTP 503")
    return row


def retry_url(row: Delivery) -> str:
    return f"/api/v1/staff/deliveries/{row.pk}/retry/"


def test_staff_list_dead_deliveries(client, staff, dead, enterprise, bob) -> None:
    client.force_login(staff)

    response = client.get(LIST, {"status": "dead"})

    assert response.status_code == 200
    [item] = response.json()["results"]
    assert (item["id"], item["status"], item["attempts"], item["last_error"]) == (dead.pk, "dead", 5, "HTTP 503")
    assert item["enterprise"] == {"credit_code": enterprise.credit_code, "name": enterprise.name}
    assert item["address"] == "alice@example.com"
    assert client.get(LIST, {"status": "sent"}).json()["results"] == []
    assert client.get(LIST, {"status": "lost"}).status_code == 400


def test_staff_list_query_count_is_flat(client, staff, enterprise, django_assert_max_num_queries) -> None:
    from tests.enterprises.factories import EnterpriseUserFactory

    for n in range(25):
        EnterpriseUserFactory(enterprise=enterprise, email=f"u{n}@example.com")
    services.notification_create(
        enterprise_id=enterprise.pk, kind=Notification.Kind.MAY_APPLY, dedupe_key="k", title="示例"
    )
    client.force_login(staff)
    # session, user, roles, count, page (with notification, enterprise, user, endpoint joined)
    with django_assert_max_num_queries(5):
        response = client.get(LIST)
    assert len(response.json()["results"]) == 20


def test_retry_makes_a_dead_delivery_pending_and_enqueues_it(
    client, staff, dead, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    handed = []
    monkeypatch.setattr(tasks.deliver_batch, "apply_async", lambda args, **kw: handed.append(args[0]))
    client.force_login(staff)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(retry_url(dead))

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["attempts"]) == ("pending", 0)
    dead.refresh_from_db()
    assert (dead.retried_by, dead.status) == (staff, Delivery.Status.PENDING)
    assert handed == [[dead.pk]]
    again = client.post(retry_url(dead))
    assert (again.status_code, again.json()["error"]["code"]) == (409, "delivery_not_retryable")


def test_an_auditor_may_look_but_not_retry(client, auditor, dead) -> None:
    client.force_login(auditor)
    assert client.get(LIST).status_code == 200
    assert client.post(retry_url(dead)).status_code == 403


def test_enterprise_users_get_404(client, alice, charlie, dead) -> None:
    for user in (alice, charlie):
        client.force_login(user)
        assert client.get(LIST).status_code == 404
        assert client.post(retry_url(dead)).status_code == 404
    dead.refresh_from_db()
    assert dead.status == Delivery.Status.DEAD
