"""Webhooks: signed (HMAC-SHA256 over the raw body), idempotency key = delivery id, retries on 5xx only."""

from __future__ import annotations

import json

import pytest

from portal.notifications import services, webhooks
from portal.notifications.delivery import deliveries_send
from portal.notifications.models import Delivery, Notification
from tests.support.services import free_port

from .factories import WebhookEndpointFactory
from .receiver import Receiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver():
    server = Receiver().start()
    yield server
    server.stop()


def webhook_row(enterprise, url: str) -> tuple[Delivery, str]:
    endpoint = WebhookEndpointFactory(enterprise=enterprise, url=url)
    notification = services.notification_create(
        enterprise_id=enterprise.pk,
        kind=Notification.Kind.MAY_APPLY,
        dedupe_key="pv5:may_apply",
        title="您的企业可申报示例政策（示例）",
        link="/policies/5/",
        payload={"policy_version_id": 5},
    )
    return notification.deliveries.get(channel=Delivery.Channel.WEBHOOK), endpoint.secret


def test_webhook_is_signed_and_carries_the_delivery_id(enterprise, receiver) -> None:
    # given
    row, secret = webhook_row(enterprise, receiver.url)

    # when
    assert deliveries_send(delivery_ids=[row.pk]) == {"claimed": 1, "sent": 1}

    # then: the receiver can check the signature over the exact bytes it got
    [request] = receiver.requests
    headers = {k.lower(): v for k, v in request.headers.items()}
    assert headers["x-huiqi-signature"].startswith("sha256=")
    assert webhooks.verify(secret, request.body, headers["x-huiqi-signature"], timestamp=headers["x-huiqi-timestamp"])
    assert not webhooks.verify("another-secret", request.body, headers["x-huiqi-signature"])
    assert not webhooks.verify(secret, request.body + b" ", headers["x-huiqi-signature"])
    assert headers["idempotency-key"] == str(row.pk)
    document = json.loads(request.body)
    assert document["timestamp"] == int(headers["x-huiqi-timestamp"])  # the timestamp is signed too
    assert document["delivery_id"] == row.pk
    assert document["enterprise"]["credit_code"] == enterprise.credit_code
    assert document["notification"]["payload"] == {"policy_version_id": 5}
    assert document["notification"]["link"] == "http://127.0.0.1:8000/policies/5/"
    row.refresh_from_db()
    assert (row.status, row.provider_message_id) == (Delivery.Status.SENT, "rcv-1")


def test_a_5xx_is_retried_with_the_same_idempotency_key(enterprise, receiver, settings) -> None:
    settings.NOTIFICATIONS_RETRY_BASE_DELAY = 0
    row, _ = webhook_row(enterprise, receiver.url)
    receiver.status = 503

    deliveries_send(delivery_ids=[row.pk])
    row.refresh_from_db()
    assert (row.status, row.last_error) == (Delivery.Status.FAILED, "接收方暂时不可用：HTTP 503")

    receiver.status = 200
    deliveries_send(delivery_ids=[row.pk])
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Delivery.Status.SENT, 2)
    keys = [r.headers["Idempotency-Key"] for r in receiver.requests]
    assert keys == [str(row.pk), str(row.pk)]


@pytest.mark.parametrize("status", [400, 404, 410])
def test_a_4xx_is_dead_at_once(enterprise, receiver, status) -> None:
    row, _ = webhook_row(enterprise, receiver.url)
    receiver.status = status

    deliveries_send(delivery_ids=[row.pk])

    row.refresh_from_db()
    assert (row.status, row.attempts) == (Delivery.Status.DEAD, 1)


def test_a_redirect_is_not_followed(enterprise, receiver) -> None:
    row, _ = webhook_row(enterprise, receiver.url)
    receiver.status, receiver.location = 307, receiver.url + "/elsewhere"

    deliveries_send(delivery_ids=[row.pk])

    row.refresh_from_db()
    assert row.status == Delivery.Status.DEAD
    assert [r.path for r in receiver.requests] == ["/hook"]


def test_connection_refused_is_transient(enterprise) -> None:
    row, _ = webhook_row(enterprise, f"http://127.0.0.1:{free_port()}/hook")

    deliveries_send(delivery_ids=[row.pk])

    row.refresh_from_db()
    assert row.status == Delivery.Status.FAILED
    assert "无法连接接收方" in row.last_error


def test_only_http_urls_can_be_registered(enterprise) -> None:
    from portal.api.exceptions import ApplicationError

    with pytest.raises(ApplicationError) as excinfo:
        services.webhook_endpoint_create(enterprise_id=enterprise.pk, url="file:///etc/passwd")
    assert excinfo.value.code == "invalid_url"
    endpoint = services.webhook_endpoint_create(enterprise_id=enterprise.pk, url=" https://x.example.com/h ")
    assert endpoint.url == "https://x.example.com/h"
    assert len(endpoint.secret) == 64


def test_verify_rejects_old_timestamps() -> None:
    body = b'{"a":1}'
    signature = webhooks.sign("s3cret", body)
    assert webhooks.verify("s3cret", body, signature, timestamp=1000, now=1100)
    assert not webhooks.verify("s3cret", body, signature, timestamp=1000, now=2000)
